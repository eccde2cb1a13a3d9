"""What the protocol engine needs from the outside, as records and narrow interfaces.

storage/ implements the repositories, actors/ the key manager and rate limiter. Times are epoch
milliseconds unless a name says seconds.
"""

import time
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OwnerRecord:
    id: int
    api_key: str
    api_secret: str


@dataclass(frozen=True)
class ServiceRecord:
    api_key: int
    number: int
    owner_id: int
    api_secret: str
    document: dict
    created_at: int
    modified_at: int


@dataclass(frozen=True)
class ClientRecord:
    client_id: int
    number: int
    service_api_key: int
    client_secret: str | None
    client_id_alias: str | None
    developer: str | None
    locked: bool
    document: dict
    created_at: int
    modified_at: int


@dataclass(frozen=True)
class SigningKeyRecord:
    kid: str
    service_api_key: int
    alg: str
    state: str
    public_jwk: dict
    private_jwk: dict = field(repr=False)
    published_at: int
    activated_at: int | None = None
    retired_at: int | None = None
    delete_after: int | None = None


@dataclass(frozen=True)
class Page:
    start: int
    end: int
    total: int
    items: list


def is_numeric_id(text: str) -> bool:
    """A numeric service or client ID: ASCII digits only (str.isdigit() also accepts '²' or
    Arabic-Indic digits, which int() either rejects or maps onto another ID)."""
    return 0 < len(text) < 19 and text.isascii() and text.isdigit()


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    """Wall-clock time for production."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class RefreshTokenRecord:
    digest: str
    service_api_key: int
    client_id: int
    subject: str | None
    grant_id: str
    scopes: list[str]
    payload: dict
    created_at: int
    expires_at: int
    rotated_at: int | None = None


@dataclass(frozen=True)
class AccessTokenRecord:
    digest: str
    service_api_key: int
    client_id: int
    subject: str | None
    grant_id: str
    grant_type: str
    scopes: list[str]
    payload: dict
    created_at: int
    expires_at: int
    refresh_digest: str | None = None


@dataclass(frozen=True)
class TicketRecord:
    """A pending authorization (or password-grant) request, addressed by its ticket's digest."""
    digest: str
    service_api_key: int
    client_id: int
    payload: dict
    context: str | None
    created_at: int
    expires_at: int


@dataclass(frozen=True)
class CodeRecord:
    digest: str
    service_api_key: int
    client_id: int
    subject: str
    grant_id: str
    payload: dict
    created_at: int
    expires_at: int
    consumed_at: int | None = None

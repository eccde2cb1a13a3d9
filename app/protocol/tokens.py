"""Minting access and refresh tokens: values, digests, lifetimes (reference §3 "Token durations").

A token value is 256 random bits, base64url; only its SHA-256 digest (hex) is stored, and that
digest is also the `accessTokenHash` the management APIs show.
"""

import hashlib
import json
import secrets
from dataclasses import dataclass

from app.protocol.ports import AccessTokenRecord, RefreshTokenRecord

# Grants after which a refresh token is issued when the service supports REFRESH_TOKEN
# (RFC 6749 §4.4.3: not for client credentials; §4.2.2: not for implicit).
REFRESHABLE_GRANTS = frozenset({"AUTHORIZATION_CODE", "PASSWORD", "REFRESH_TOKEN", "CIBA",
                                "DEVICE_CODE", "TOKEN_EXCHANGE", "JWT_BEARER"})
# A "persistent" access token never expires in practice: the year 9999.
PERSISTENT_EXPIRY_MS = 253_402_300_799_000


def new_token_value() -> str:
    return secrets.token_urlsafe(32)


def token_digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_grant_id() -> str:
    return secrets.token_hex(16)


def effective_duration(kind: str, service: dict, client: dict, scopes: list[str],
                       requested: int | None = None) -> int:
    """Seconds a token of `kind` ("access_token" / "refresh_token") lives: the shortest of the
    service's value, the client's positive value, the granted scopes' `<kind>.duration`
    attributes and an explicit positive request."""
    field = "accessTokenDuration" if kind == "access_token" else "refreshTokenDuration"
    candidates = [service.get(field, 0)]
    candidates.append(client.get("extension", {}).get(field, 0))
    candidates.extend(_scope_durations(kind, service, scopes))
    candidates.append(requested or 0)
    positive = [value for value in candidates if value and value > 0]
    return min(positive) if positive else 0


def _scope_durations(kind: str, service: dict, scopes: list[str]) -> list[int]:
    wanted = f"{kind}.duration"
    durations = []
    for scope in service.get("supportedScopes", []):
        if scope.get("name") not in scopes:
            continue
        for attribute in scope.get("attributes", []):
            if attribute.get("key") == wanted and str(attribute.get("value", "")).isdigit():
                durations.append(int(attribute["value"]))
    return durations


@dataclass(frozen=True)
class MintedTokens:
    access_token: str
    access: AccessTokenRecord
    refresh_token: str | None
    refresh: RefreshTokenRecord | None


@dataclass(frozen=True)
class TokenOrder:
    """Everything needed to mint one access token (and maybe its refresh token)."""
    service_api_key: int
    client_id: int
    subject: str | None
    grant_type: str
    scopes: list[str]
    payload: dict
    access_seconds: int
    refresh_seconds: int
    with_refresh: bool
    persistent: bool = False
    grant_id: str | None = None
    access_value: str | None = None
    refresh_value: str | None = None


def mint(order: TokenOrder, now_ms: int) -> MintedTokens:
    grant_id = order.grant_id or new_grant_id()
    refresh_value = refresh = None
    if order.with_refresh:
        refresh_value = order.refresh_value or new_token_value()
        refresh = RefreshTokenRecord(
            digest=token_digest(refresh_value), service_api_key=order.service_api_key,
            client_id=order.client_id, subject=order.subject, grant_id=grant_id,
            scopes=list(order.scopes), payload=order.payload, created_at=now_ms,
            expires_at=now_ms + order.refresh_seconds * 1000)
    access_value = order.access_value or new_token_value()
    expires_at = (PERSISTENT_EXPIRY_MS if order.persistent
                  else now_ms + order.access_seconds * 1000)
    access = AccessTokenRecord(
        digest=token_digest(access_value), service_api_key=order.service_api_key,
        client_id=order.client_id, subject=order.subject, grant_id=grant_id,
        grant_type=order.grant_type, scopes=list(order.scopes), payload=order.payload,
        created_at=now_ms, expires_at=expires_at,
        refresh_digest=refresh.digest if refresh else None)
    return MintedTokens(access_value, access, refresh_value, refresh)


MAX_PROPERTIES_BYTES = 65_535  # reference §3 "Token extra properties"


def decode_properties(value) -> list[dict]:
    """Extra token properties as the API takes them: `[{key, value, hidden}]`. Raises
    ValueError saying what is wrong."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("it is not an array of {key, value, hidden} objects")
    decoded = [_property(index, item) for index, item in enumerate(value)]
    if len(json.dumps(decoded).encode()) > MAX_PROPERTIES_BYTES:
        raise ValueError(f"their total size exceeds {MAX_PROPERTIES_BYTES} bytes")
    return decoded


def _property(index: int, item) -> dict:
    if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
        raise ValueError(f"element {index} has no non-empty string 'key'")
    value = item.get("value")
    if value is not None and not isinstance(value, str):
        raise ValueError(f"the 'value' of element {index} is not a string")
    return {"key": item["key"], "value": value or "", "hidden": item.get("hidden") is True}


def visible_properties(payload: dict) -> list[dict]:
    return [p for p in payload.get("properties", []) if not p.get("hidden")]

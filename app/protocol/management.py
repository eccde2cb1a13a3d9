"""Service and client management: turning request bodies into documents and records into JSON.

Pure functions; the HTTP layer persists what they return.
"""

import secrets
import string
from dataclasses import dataclass

from app.protocol import client_rules, entities, service_rules
from app.protocol import result_codes as rc
from app.protocol.errors import ApiError
from app.protocol.ports import ClientRecord, ServiceRecord
from app.protocol.uris import host_of

_SECRET_ALPHABET = frozenset(string.ascii_letters + string.digits + "-._~")


def new_identifier() -> int:
    """A service API key or client ID: random, positive, fits a JSON integer and a BIGINT."""
    return secrets.randbelow(9 * 10**14) + 10**14


def new_secret() -> str:
    # 64 random bytes, base64url: the reference's secrets have the same shape, and HS512
    # client assertions need at least 512 bits of key (RFC 7518 §3.2).
    return secrets.token_urlsafe(64)


# Server-held members of a service document: never accepted from, nor shown to, API callers.
PAIRWISE_SALT = "_pairwiseSalt"


def service_document(body: dict, signing_algs: list[str], *, creating: bool,
                     current: dict | None = None) -> dict:
    """The document of a new service, or the replacement of `current` on update."""
    document = entities.decode_service(body)
    if creating:
        document = service_rules.with_defaults(document)
    service_rules.check_service(document, signing_algs)
    # The pairwise salt outlives updates: changing it would change every pairwise subject.
    salt = (current or {}).get(PAIRWISE_SALT) or secrets.token_urlsafe(32)
    return {**document, PAIRWISE_SALT: salt}


def service_json(record: ServiceRecord) -> dict:
    public = {k: v for k, v in record.document.items() if not k.startswith("_")}
    return {
        **public,
        "number": record.number,
        "serviceOwnerNumber": record.owner_id,
        "apiKey": record.api_key,
        "apiSecret": record.api_secret,
        "createdAt": record.created_at,
        "modifiedAt": record.modified_at,
    }


@dataclass(frozen=True)
class ClientFields:
    """A decoded client: the document plus the members that live in their own columns."""
    document: dict
    alias: str | None
    developer: str | None
    locked: bool


def client_fields(body: dict) -> ClientFields:
    document = client_rules.with_defaults(entities.decode_client(body))
    client_rules.check_client(document)
    locked = bool(document.pop("locked", False))
    return ClientFields(document, document.get("clientIdAlias"), document.get("developer"),
                        locked)


def client_json(record: ClientRecord) -> dict:
    body = {
        **record.document,
        "number": record.number,
        "serviceNumber": record.service_api_key,
        "clientId": record.client_id,
        "clientSecret": record.client_secret,
        "locked": record.locked,
        "createdAt": record.created_at,
        "modifiedAt": record.modified_at,
    }
    if body.get("subjectType") == "PAIRWISE":
        body["derivedSectorIdentifier"] = derived_sector_identifier(record.document)
    return body


def derived_sector_identifier(document: dict) -> str | None:
    """OpenID Connect Core §8.1: the host of the sector identifier URI, else of the redirect URI."""
    source = document.get("sectorIdentifierUri") or next(iter(document.get("redirectUris", [])),
                                                         None)
    return host_of(source) if source else None


def checked_client_secret(value: object) -> str:
    """A caller-chosen client secret: 32 to 512 unreserved characters (RFC 3986 §2.3)."""
    if not isinstance(value, str) or not value:
        raise ApiError(rc.CLIENT_SECRET_INVALID, reason="'clientSecret' is missing")
    if not 32 <= len(value) <= 512:
        raise ApiError(rc.CLIENT_SECRET_INVALID,
                       reason=f"it has {len(value)} characters; 32 to 512 are required so that "
                              "HMAC client assertions get at least 256 bits of key")
    if not set(value) <= _SECRET_ALPHABET:
        raise ApiError(rc.CLIENT_SECRET_INVALID,
                       reason="only letters, digits and '-', '.', '_', '~' are allowed")
    return value


def requestable_scopes(document: dict) -> list[str]:
    extension = document.get("extension", {})
    return list(extension.get("requestableScopes", [])) if extension.get(
        "requestableScopesEnabled") else []


def with_requestable_scopes(document: dict, scopes: list[str] | None) -> dict:
    """The document with requestable scopes set (a list) or switched off (None)."""
    extension = dict(document.get("extension", {}))
    extension.pop("requestableScopes", None)
    extension.pop("requestableScopesEnabled", None)
    if scopes is not None:
        extension["requestableScopesEnabled"] = True
        if scopes:
            extension["requestableScopes"] = scopes
    updated = {**document, "extension": extension}
    if not extension:
        updated.pop("extension")
    return updated


def decode_scope_list(body: dict) -> list[str]:
    value = body.get("requestableScopes")
    if value is None:
        return []
    decoded = entities.STRS("requestableScopes", value)
    return [] if decoded is entities.UNSET else decoded

"""Token management APIs (reference §2.3): create, revoke, delete and list access tokens on the
service's behalf, outside any OAuth flow."""

import re
from dataclasses import dataclass, replace
from types import SimpleNamespace

from app.protocol import result_codes as rc
from app.protocol.actions import ActionFailure, ActionResult
from app.protocol.ports import ServiceRecord
from app.protocol.token_endpoint import mint_for
from app.protocol.tokens import (
    PERSISTENT_EXPIRY_MS,
    REFRESHABLE_GRANTS,
    TokenOrder,
    decode_properties,
    effective_duration,
)

CREATABLE_GRANTS = frozenset({"AUTHORIZATION_CODE", "IMPLICIT", "PASSWORD", "CLIENT_CREDENTIALS",
                              "REFRESH_TOKEN", "CIBA", "DEVICE_CODE", "TOKEN_EXCHANGE",
                              "JWT_BEARER"})


@dataclass(frozen=True)
class TokenCreateRequest:
    grant_type: str
    client_id: int
    subject: str | None
    scopes: list[str]
    properties: list[dict]
    access_seconds: int
    refresh_seconds: int
    persistent: bool
    access_value: str | None = None    # reference §2.3: values the caller chose
    refresh_value: str | None = None


class _NoConflict(Exception):
    """Stands for a storage conflict when the caller has no such error to report."""


async def create_token(body: dict, service: ServiceRecord, clients, tokens, now_ms: int,
                       signing_key=None, conflict: type[Exception] = _NoConflict) -> ActionResult:
    """`conflict` is the error the token store raises for a value already in use."""
    try:
        request = _decode(body)
        client = await clients.get(service.api_key, request.client_id)
        _check(request, client)
        ports = SimpleNamespace(tokens=tokens, now_ms=now_ms, signing_key=signing_key,
                                conflict=conflict)
        return await _issue(request, service, client, ports)
    except ActionFailure as failure:
        return failure.result()


def _decode(body: dict) -> TokenCreateRequest:
    grant_type = body.get("grantType") or "AUTHORIZATION_CODE"
    if grant_type not in CREATABLE_GRANTS:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_CREATE_GRANT_UNSUPPORTED,
                            grant_type=grant_type)
    client_id = body.get("clientId")
    if not client_id:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_CREATE_CLIENT_MISSING)
    return TokenCreateRequest(
        grant_type=grant_type, client_id=_integer("clientId", client_id),
        subject=body.get("subject") or None, scopes=_strings("scopes", body.get("scopes")),
        properties=_properties(body.get("properties")),
        access_seconds=_integer("accessTokenDuration", body.get("accessTokenDuration") or 0),
        refresh_seconds=_integer("refreshTokenDuration", body.get("refreshTokenDuration") or 0),
        persistent=body.get("accessTokenPersistent") is True,
        access_value=_chosen_value("accessToken", body.get("accessToken")),
        refresh_value=_chosen_value("refreshToken", body.get("refreshToken")))


# RFC 6750 §2.1 b64token, so that the value works in an Authorization header.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*", re.ASCII)
MIN_CHOSEN_LENGTH, MAX_CHOSEN_LENGTH = 32, 1024


def _chosen_value(key: str, value) -> str | None:
    """A token value chosen by the caller: a b64token long enough not to be guessed."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _B64TOKEN.fullmatch(value):
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_CREATE_VALUE_INVALID, key=key,
                            reason="it is not a b64token (RFC 6750 §2.1)")
    if not MIN_CHOSEN_LENGTH <= len(value) <= MAX_CHOSEN_LENGTH:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_CREATE_VALUE_INVALID, key=key,
                            reason=f"its length {len(value)} is not between "
                                   f"{MIN_CHOSEN_LENGTH} and {MAX_CHOSEN_LENGTH}")
    return value


def _integer(key: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_CREATE_VALUE_INVALID, key=key,
                            reason=f"{value!r} is not a non-negative integer")
    return value


def _strings(key: str, value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_CREATE_VALUE_INVALID, key=key,
                            reason=f"{value!r} is not an array of strings")
    return list(dict.fromkeys(value))


def _properties(value) -> list[dict]:
    try:
        return decode_properties(value)
    except ValueError as error:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_CREATE_VALUE_INVALID, key="properties",
                            reason=str(error)) from None


def _check(request: TokenCreateRequest, client) -> None:
    if client is None:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_CREATE_CLIENT_UNKNOWN,
                            client_id=request.client_id)
    if client.locked:
        raise ActionFailure("FORBIDDEN", rc.TOKEN_CREATE_CLIENT_LOCKED,
                            client_id=request.client_id)
    if request.grant_type != "CLIENT_CREDENTIALS" and not request.subject:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_CREATE_SUBJECT_MISSING,
                            grant_type=request.grant_type)


async def _issue(request: TokenCreateRequest, service: ServiceRecord, client,
                 ports) -> ActionResult:
    now_ms = ports.now_ms
    document = service.document
    with_refresh = (request.grant_type in REFRESHABLE_GRANTS
                    and "REFRESH_TOKEN" in document.get("supportedGrantTypes", []))
    if request.refresh_value and not with_refresh:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_CREATE_REFRESH_NOT_ISSUED,
                            grant_type=request.grant_type)
    order = TokenOrder(
        service_api_key=service.api_key, client_id=client.client_id, subject=request.subject,
        grant_type=request.grant_type, scopes=request.scopes,
        payload={"properties": request.properties},
        access_seconds=effective_duration("access_token", document, client.document,
                                          request.scopes, request.access_seconds),
        refresh_seconds=effective_duration("refresh_token", document, client.document,
                                           request.scopes, request.refresh_seconds),
        with_refresh=with_refresh, persistent=request.persistent,
        access_value=request.access_value, refresh_value=request.refresh_value)
    minted = mint_for(service, ports, order)
    try:
        await ports.tokens.store(minted.access, minted.refresh)
    except ports.conflict:   # only a caller-chosen value can collide
        chosen = [key for key, value in (("accessToken", request.access_value),
                                          ("refreshToken", request.refresh_value)) if value]
        key = "' or '".join(chosen)
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_CREATE_VALUE_IN_USE, key=key) from None
    return ActionResult("OK", rc.TOKEN_CREATED,
                        {"grant_type": request.grant_type, "client_id": client.client_id},
                        members=_created_members(request, minted, now_ms))


def _created_members(request: TokenCreateRequest, minted, now_ms: int) -> dict:
    return {
        "grantType": request.grant_type,
        "clientId": request.client_id,
        "subject": request.subject,
        "scopes": request.scopes,
        "accessToken": minted.access_token,
        "tokenType": "Bearer",
        "expiresIn": max(0, (minted.access.expires_at - now_ms) // 1000),
        "expiresAt": minted.access.expires_at,
        "refreshToken": minted.refresh_token,
        "properties": request.properties,
        "tokenId": minted.access.digest,
        # a JWT only when Tessera minted one: a caller-chosen value is returned as it is
        "jwtAccessToken": (minted.access_token if request.access_value is None
                           and minted.access_token.count(".") == 2 else None),
        "refreshTokenScopes": request.scopes if minted.refresh else None,
    }


def token_summary(record, refresh) -> dict:
    """One entry of `/auth/token/get/list`: hashes only, never token values."""
    return {
        "accessTokenHash": record.digest,
        "refreshTokenHash": record.refresh_digest,
        "clientId": record.client_id,
        "subject": record.subject,
        "grantType": record.grant_type,
        "scopes": list(record.scopes),
        "accessTokenExpiresAt": record.expires_at,
        "refreshTokenExpiresAt": refresh.expires_at if refresh else 0,
        "createdAt": record.created_at,
        "lastRefreshedAt": 0,
        "properties": record.payload.get("properties", []),
        "refreshTokenScopes": list(refresh.scopes) if refresh else None,
    }


async def update_token(body: dict, service: ServiceRecord, tokens, now_ms: int,
                       digest_of) -> ActionResult:
    """`/auth/token/update` (reference §2.3): new expiry, scopes or properties for a token."""
    try:
        record = await _token_to_update(body, service, tokens, digest_of)
        updated = _updated(record, body, now_ms)
        await tokens.update_access_token(updated)
        return ActionResult("OK", rc.TOKEN_UPDATED, members={
            "accessToken": body.get("accessToken"), "tokenType": "Bearer",
            "accessTokenExpiresAt": updated.expires_at, "scopes": updated.scopes,
            "properties": updated.payload.get("properties", []), "tokenId": updated.digest})
    except ActionFailure as failure:
        return failure.result()


async def _token_to_update(body: dict, service: ServiceRecord, tokens, digest_of):
    identifier = body.get("accessToken") or body.get("accessTokenHash") or body.get("tokenId")
    if not identifier or not isinstance(identifier, str):
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_UPDATE_TOKEN_MISSING)
    record = await tokens.access_token(service.api_key, digest_of(identifier))
    if record is None:
        raise ActionFailure("NOT_FOUND", rc.TOKEN_UPDATE_TOKEN_UNKNOWN)
    return record


def _updated(record, body: dict, now_ms: int):
    changes = {}
    if body.get("scopes") is not None:
        changes["scopes"] = _strings("scopes", body["scopes"])
    if body.get("properties") is not None:
        changes["payload"] = {**record.payload, "properties": _properties(body["properties"])}
    expires_at = _expiry(body, record, now_ms)
    if expires_at is not None:
        changes["expires_at"] = expires_at
    return replace(record, **changes)


def _expiry(body: dict, record, now_ms: int) -> int | None:
    if body.get("accessTokenPersistent") is True:
        return PERSISTENT_EXPIRY_MS
    value = body.get("accessTokenExpiresAt")
    if not value:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= now_ms:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_UPDATE_VALUE_INVALID,
                            key="accessTokenExpiresAt",
                            reason=f"{value!r} is not a future time in epoch milliseconds")
    return value

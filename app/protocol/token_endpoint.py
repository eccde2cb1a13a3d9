"""`/auth/token` (reference §2.2): the token endpoint's protocol work for the front-end.

The checklist: parameters present → form decoded without duplicates → client identified
(Basic, `client_id` or client assertion) → client found and not locked → client authenticated
(client_auth) → grant type supported by the service and declared by the client → the grant's
own handler, found in `GRANT_HANDLERS` by `grant_type`. Grants needing more than a few lines
live in modules of their own (code_grant, password_grant) that call `register_grant`. Every
outcome is an action; `responseContent` is the JSON body the front-end returns.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl

from app.protocol import result_codes as rc
from app.protocol.actions import ActionFailure, ActionResult
from app.protocol.authorization_response import oauth_description
from app.protocol.client_auth import ClientAuthError, authenticate_client, client_id_of
from app.protocol.grants_bookkeeping import after_tokens_issued
from app.protocol.jwt_access_token import build_jwt_access_token
from app.protocol.ports import (
    ClientRecord,
    RefreshTokenRecord,
    ServiceRecord,
    is_numeric_id,
)
from app.protocol.result_codes import ResultCode
from app.protocol.tokens import (
    REFRESHABLE_GRANTS,
    MintedTokens,
    TokenOrder,
    decode_properties,
    effective_duration,
    mint,
    new_token_value,
    token_digest,
    visible_properties,
)

# RFC 6749 / OIDC grant_type values → the reference's GrantType enum names.
GRANT_TYPE_NAMES = {
    "authorization_code": "AUTHORIZATION_CODE", "refresh_token": "REFRESH_TOKEN",
    "client_credentials": "CLIENT_CREDENTIALS", "password": "PASSWORD",
    "urn:openid:params:grant-type:ciba": "CIBA",
    "urn:ietf:params:oauth:grant-type:device_code": "DEVICE_CODE",
    "urn:ietf:params:oauth:grant-type:token-exchange": "TOKEN_EXCHANGE",
    "urn:ietf:params:oauth:grant-type:jwt-bearer": "JWT_BEARER",
}


@dataclass(frozen=True)
class TokenPorts:
    clients: object       # get(service_api_key, client_id), by_alias(service_api_key, alias)
    tokens: object        # storage TokenRepository
    grants: object        # storage GrantRepository (tickets, codes, replay records)
    now_ms: int
    signing_key: object = None  # (service_api_key, alg) -> SigningKeyRecord | None
    granted_scopes: object = None  # storage GrantedScopesRepository; None: not recorded


@dataclass(frozen=True)
class TokenCall:
    """One token request, once its client is known and authenticated."""
    service: ServiceRecord
    client: ClientRecord
    alias_used: bool
    auth_method: str
    parameters: dict[str, str]
    body: dict
    grant_type: str
    ports: TokenPorts


async def token_request(body: dict, service: ServiceRecord, ports: TokenPorts) -> ActionResult:
    try:
        call = await _authenticated_call(body, service, ports)
        return await GRANT_HANDLERS[call.grant_type](call)
    except ActionFailure as failure:
        return failure.result(error_json(failure.code, failure.params, service.document))


async def _authenticated_call(body: dict, service: ServiceRecord, ports: TokenPorts) -> TokenCall:
    parameters = decode_parameters(body.get("parameters"))
    client, alias_used, method = await authenticated_client(parameters, body, service, ports)
    grant_type = _check_grant_type(parameters, service.document, client)
    return TokenCall(service, client, alias_used, method, parameters, body, grant_type, ports)


async def authenticated_client(parameters: dict, body: dict, service: ServiceRecord,
                               ports: TokenPorts) -> tuple[ClientRecord, bool, str]:
    """(client, alias used, authentication method) of a request to the token endpoint or an
    endpoint authenticating clients the same way (revocation, RFC 7009 §2.1)."""
    body = {**body, "clientId": _string_or_none(body.get("clientId")),
            "clientSecret": _string_or_none(body.get("clientSecret"))}
    client, alias_used = await _load_client(parameters, body, service, ports)
    authentication = await authenticate_client(
        parameters=parameters, basic_id=body["clientId"],
        basic_secret=body["clientSecret"], client=client, service=service.document,
        token_endpoint=service.document.get("tokenEndpoint", ""), now_ms=ports.now_ms,
        replay=_ReplayGuard(ports.grants))
    return client, alias_used, authentication.method


def _string_or_none(value: object) -> str | None:
    """Basic credentials relayed by the front-end; anything but a string counts as absent."""
    return value if isinstance(value, str) and value else None


def decode_parameters(parameters: object) -> dict[str, str]:
    """The form body of the token request; every parameter at most once (RFC 6749 §3.2)."""
    if not isinstance(parameters, str):
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.TOKEN_PARAMETERS_MISSING)
    decoded: dict[str, str] = {}
    for name, value in parse_qsl(parameters, keep_blank_values=True):
        if name in decoded:
            raise ActionFailure("BAD_REQUEST", rc.TOKEN_PARAMETER_DUPLICATED, name=name)
        decoded[name] = value
    return decoded


async def _load_client(parameters, body, service, ports) -> tuple[ClientRecord, bool]:
    identifier = client_id_of(parameters, body.get("clientId") or None)
    client = await find_client(ports.clients, service, identifier)
    if client is None:
        raise ClientAuthError(rc.TOKEN_CLIENT_UNKNOWN, identifier=identifier[:80])
    if client[0].locked:
        raise ClientAuthError(rc.TOKEN_CLIENT_LOCKED, client_id=client[0].client_id)
    return client


async def find_client(clients, service: ServiceRecord,
                      identifier: str) -> tuple[ClientRecord, bool] | None:
    """(client, alias used) by numeric ID, or by alias when service and client allow it."""
    if is_numeric_id(identifier):
        client = await clients.get(service.api_key, int(identifier))
        if client is not None:
            return client, False
    client = await clients.by_alias(service.api_key, identifier)
    if client is None or not (service.document.get("clientIdAliasEnabled")
                              and client.document.get("clientIdAliasEnabled")):
        return None
    return client, True


def _check_grant_type(parameters: dict, service: dict, client: ClientRecord) -> str:
    value = parameters.get("grant_type")
    if not value:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_GRANT_TYPE_MISSING)
    name = GRANT_TYPE_NAMES.get(value)
    if name is None or name not in GRANT_HANDLERS:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_GRANT_TYPE_UNKNOWN, grant_type=value[:80])
    if name not in service.get("supportedGrantTypes", []):
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_GRANT_TYPE_NOT_SUPPORTED, grant_type=value)
    if name not in client.document.get("grantTypes", []):
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_GRANT_TYPE_NOT_DECLARED, grant_type=value,
                            client_id=client.client_id)
    return name


class _ReplayGuard:
    """client_auth's JtiReplayGuard on the grant repository's replay records."""

    def __init__(self, grants) -> None:
        self._grants = grants

    async def first_use(self, service_api_key: int, jti: str, expires_at_ms: int) -> bool:
        digest = hashlib.sha256(jti.encode()).hexdigest()
        return await self._grants.first_use(service_api_key, "jti", digest, expires_at_ms)


def checked_properties(body: dict) -> list[dict]:
    """`properties` from the service's request; a malformed value is the caller's error."""
    try:
        return decode_properties(body.get("properties"))
    except ValueError as error:
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.PROPERTIES_INVALID,
                            reason=str(error)) from None


def error_json(code: ResultCode, params: dict, service: dict) -> str:
    """RFC 6749 §5.2 error body, with the result message unless the service omits it."""
    body = {"error": code.oauth_error or "server_error"}
    if not service.get("errorDescriptionOmitted"):
        body["error_description"] = oauth_description(code.message(**params))
    return json.dumps(body, separators=(",", ":"))


# --- Scopes ------------------------------------------------------------------------------------

def requested_scopes(parameters: dict, service: dict, client: ClientRecord) -> list[str]:
    """The `scope` parameter limited to what the service supports and the client may request
    (silently, reference §3); without one, the service's default scopes."""
    supported = [scope.get("name") for scope in service.get("supportedScopes", [])]
    requested = parameters.get("scope", "").split()
    if not requested:
        requested = [s.get("name") for s in service.get("supportedScopes", [])
                     if s.get("defaultEntry")]
    allowed = [scope for scope in dict.fromkeys(requested) if scope in supported]
    extension = client.document.get("extension", {})
    if extension.get("requestableScopesEnabled"):
        allowed = [scope for scope in allowed if scope in extension.get("requestableScopes", [])]
    return allowed


# --- Issuing -----------------------------------------------------------------------------------

async def issue(call: TokenCall, *, subject: str | None, scopes: list[str], payload: dict,
                code: ResultCode, grant_id: str | None = None) -> ActionResult:
    order = token_order(call, subject, scopes, payload, grant_id)
    minted = mint_for(call.service, call.ports, order)
    await call.ports.tokens.store(minted.access, minted.refresh)
    await after_tokens_issued(call.ports, call.service, call.client, minted.access)
    return ok_result(call, minted, code)


def mint_for(service: ServiceRecord, ports, order: TokenOrder) -> MintedTokens:
    """Mint the tokens of `order`; the access token is an RFC 9068 JWT when the service sets
    `accessTokenSignAlg`, an opaque random value otherwise (only its digest is stored)."""
    alg = service.document.get("accessTokenSignAlg")
    if alg and alg != "NONE" and order.access_value is None:   # a caller-chosen value wins
        order = replace(order, access_value=_jwt_access_token(service, ports, order, alg))
    return mint(order, ports.now_ms)


def _jwt_access_token(service: ServiceRecord, ports, order: TokenOrder, alg: str) -> str:
    key = ports.signing_key(service.api_key, alg) if ports.signing_key else None
    if key is None:
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.ACCESS_TOKEN_KEY_MISSING, alg=alg)
    now_s = ports.now_ms // 1000
    return build_jwt_access_token(
        issuer=service.document.get("issuer", ""), subject=order.subject,
        client_id=str(order.client_id), audience=None, scopes=order.scopes,
        jti=new_token_value(), now_s=now_s, expires_at_s=now_s + order.access_seconds,
        key=key, auth_time=order.payload.get("auth_time"), acr=order.payload.get("acr"))


def token_order(call: TokenCall, subject, scopes, payload, grant_id) -> TokenOrder:
    document = call.service.document
    with_refresh = (call.grant_type in REFRESHABLE_GRANTS
                    and "REFRESH_TOKEN" in document.get("supportedGrantTypes", []))
    return TokenOrder(
        service_api_key=call.service.api_key, client_id=call.client.client_id, subject=subject,
        grant_type=call.grant_type, scopes=scopes, payload=payload,
        access_seconds=access_seconds(call, scopes),
        refresh_seconds=effective_duration("refresh_token", document, call.client.document,
                                           scopes),
        with_refresh=with_refresh, grant_id=grant_id)


def access_seconds(call: TokenCall, scopes: list[str]) -> int:
    requested = call.body.get("accessTokenDuration") or 0
    return effective_duration("access_token", call.service.document, call.client.document,
                              scopes, requested if isinstance(requested, int) else 0)


def ok_result(call: TokenCall, minted: MintedTokens, code: ResultCode) -> ActionResult:
    now = call.ports.now_ms
    content = {"access_token": minted.access_token, "token_type": "Bearer",
               "expires_in": _seconds_left(minted.access.expires_at, now),
               "scope": " ".join(minted.access.scopes) or None}
    if minted.refresh_token:
        content["refresh_token"] = minted.refresh_token
    for prop in visible_properties(minted.access.payload):
        content.setdefault(prop["key"], prop["value"])
    content = {key: value for key, value in content.items() if value is not None}
    return ActionResult("OK", code, members=_ok_members(call, minted),
                        response_content=json.dumps(content, separators=(",", ":")))


def _ok_members(call: TokenCall, minted: MintedTokens) -> dict:
    access, refresh, now = minted.access, minted.refresh, call.ports.now_ms
    return {
        "accessToken": minted.access_token, "accessTokenExpiresAt": access.expires_at,
        "accessTokenDuration": _seconds_left(access.expires_at, now),
        "refreshToken": minted.refresh_token,
        "refreshTokenExpiresAt": refresh.expires_at if refresh else 0,
        "refreshTokenDuration": _seconds_left(refresh.expires_at, now) if refresh else 0,
        "grantType": call.grant_type, "clientId": call.client.client_id,
        "clientIdAlias": call.client.client_id_alias, "clientIdAliasUsed": call.alias_used,
        "subject": access.subject, "scopes": list(access.scopes),
        "properties": access.payload.get("properties", []),
        "clientAuthMethod": call.auth_method, "grantId": access.grant_id,
        "refreshTokenScopes": list(refresh.scopes) if refresh else None,
        "jwtAccessToken": minted.access_token if _is_jwt(call.service) else None,
    }


def _is_jwt(service: ServiceRecord) -> bool:
    return service.document.get("accessTokenSignAlg") not in (None, "NONE")


def _seconds_left(expires_at: int, now: int) -> int:
    return max(0, (expires_at - now) // 1000)


# --- Grants ------------------------------------------------------------------------------------

async def client_credentials_grant(call: TokenCall) -> ActionResult:
    """RFC 6749 §4.4: confidential clients only; no refresh token (§4.4.3)."""
    if call.client.document.get("clientType") == "PUBLIC":
        raise ActionFailure("BAD_REQUEST", rc.CLIENT_CREDENTIALS_PUBLIC_CLIENT)
    scopes = requested_scopes(call.parameters, call.service.document, call.client)
    return await issue(call, subject=None, scopes=scopes,
                       payload={"properties": checked_properties(call.body)},
                       code=rc.CLIENT_CREDENTIALS_ISSUED)


async def refresh_token_grant(call: TokenCall) -> ActionResult:
    """RFC 6749 §6, with rotation and reuse detection (RFC 9700 §4.14.2)."""
    value = call.parameters.get("refresh_token")
    if not value:
        raise ActionFailure("BAD_REQUEST", rc.REFRESH_TOKEN_MISSING)
    tokens, service = call.ports.tokens, call.service
    record = await tokens.refresh_token(service.api_key, token_digest(value))
    _check_refresh_token(record, call)
    scopes = _narrowed_scopes(call.parameters, record.scopes)
    minted, kept_expiry = _refreshed(call, record, scopes, value)
    rotating = minted.refresh is not None and minted.refresh.digest != record.digest
    outcome = await tokens.refresh(service.api_key, record.digest, call.ports.now_ms,
                                   minted.access, minted.refresh if rotating else None,
                                   kept_expiry)
    if outcome != "ok":
        raise ActionFailure("BAD_REQUEST", _REFRESH_REFUSALS[outcome])
    result = ok_result(call, minted, rc.REFRESH_ISSUED)
    if service.document.get("idTokenReissuable") and "openid" in scopes:
        # The front-end may answer as OK or call /idtoken/reissue for a fresh ID token.
        return replace(result, action="ID_TOKEN_REISSUABLE")
    return result


_REFRESH_REFUSALS = {"reused": rc.REFRESH_TOKEN_REUSED, "expired": rc.REFRESH_TOKEN_EXPIRED,
                     "unknown": rc.REFRESH_TOKEN_UNKNOWN}


def _check_refresh_token(record: RefreshTokenRecord | None, call: TokenCall) -> None:
    if record is None:
        raise ActionFailure("BAD_REQUEST", rc.REFRESH_TOKEN_UNKNOWN)
    if record.client_id != call.client.client_id:
        raise ActionFailure("BAD_REQUEST", rc.REFRESH_TOKEN_OTHER_CLIENT,
                            client_id=call.client.client_id)
    if record.rotated_at is None and record.expires_at <= call.ports.now_ms:
        raise ActionFailure("BAD_REQUEST", rc.REFRESH_TOKEN_EXPIRED)


def _narrowed_scopes(parameters: dict, granted: list[str]) -> list[str]:
    """RFC 6749 §6: a narrower scope may be asked for, never a wider one."""
    requested = parameters.get("scope", "").split()
    for scope in requested:
        if scope not in granted:
            raise ActionFailure("BAD_REQUEST", rc.REFRESH_SCOPE_WIDENED, scope=scope[:80])
    return list(dict.fromkeys(requested)) or list(granted)


def _refreshed(call: TokenCall, record: RefreshTokenRecord, scopes: list[str], value: str):
    """The new tokens: the refresh token rotates unless the service keeps it
    (`refreshTokenKept`); its lifetime is inherited or renewed as the service says."""
    document, now = call.service.document, call.ports.now_ms
    refresh_ms = 1000 * effective_duration("refresh_token", document, call.client.document,
                                           record.scopes)
    kept = bool(document.get("refreshTokenKept"))
    order = TokenOrder(
        service_api_key=record.service_api_key, client_id=record.client_id,
        subject=record.subject, grant_type="REFRESH_TOKEN", scopes=scopes,
        payload=record.payload, access_seconds=access_seconds(call, scopes),
        refresh_seconds=refresh_ms // 1000, with_refresh=not kept, grant_id=record.grant_id)
    minted = mint_for(call.service, call.ports, order)
    if kept:
        kept_expiry = now + refresh_ms if document.get("refreshTokenDurationReset") else None
        return _keep_refresh(minted, record, value, kept_expiry), kept_expiry
    return _successor(minted, record, bool(document.get("refreshTokenDurationKept"))), None


def _keep_refresh(minted: MintedTokens, record: RefreshTokenRecord, value: str,
                  kept_expiry: int | None) -> MintedTokens:
    """The same refresh token stays valid; the response repeats it (RFC 6749 §5.1 allows it)."""
    access = replace(minted.access, refresh_digest=record.digest)
    refresh = replace(record, expires_at=kept_expiry or record.expires_at)
    return MintedTokens(minted.access_token, access, value, refresh)


def _successor(minted: MintedTokens, record: RefreshTokenRecord,
               duration_kept: bool) -> MintedTokens:
    """RFC 6749 §6: the new refresh token has the scope of the one presented, whatever the
    access token was narrowed to; with `refreshTokenDurationKept` it also keeps its expiry."""
    expires_at = record.expires_at if duration_kept else minted.refresh.expires_at
    refresh = replace(minted.refresh, scopes=list(record.scopes), expires_at=expires_at)
    return MintedTokens(minted.access_token, minted.access, minted.refresh_token, refresh)


GrantHandler = Callable[[TokenCall], Awaitable[ActionResult]]
GRANT_HANDLERS: dict[str, GrantHandler] = {
    "CLIENT_CREDENTIALS": client_credentials_grant,
    "REFRESH_TOKEN": refresh_token_grant,
}


def register_grant(name: str, handler: GrantHandler) -> None:
    """Grants living in their own modules (which need this one) register themselves here."""
    GRANT_HANDLERS[name] = handler

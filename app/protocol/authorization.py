"""`/auth/authorization`, `/issue`, `/fail` and the ticket APIs (reference §2.1).

`/auth/authorization` validates the request (authorization_request) and parks it under a ticket:
INTERACTION (show login and consent) or NO_INTERACTION (`prompt=none`). The front-end answers
with `/issue` (the user approved: code, token and/or ID token go back to the client) or `/fail`
(an error goes back). A ticket is single use: consuming it is one conditional DELETE.
"""

import json
from dataclasses import dataclass, replace

from app.protocol import management
from app.protocol import result_codes as rc
from app.protocol.actions import ActionFailure, ActionResult
from app.protocol.authorization_request import (
    AuthorizationError,
    AuthorizationRequest,
    parse_authorization_request,
)
from app.protocol.authorization_response import (
    error_result,
    issuer_parameter,
    oauth_description,
    response_action,
    response_content,
)
from app.protocol.grants_bookkeeping import after_tokens_issued
from app.protocol.id_token import build_id_token, subject_for
from app.protocol.id_token_hint import HintRejected, verify_id_token_hint
from app.protocol.ports import CodeRecord, ServiceRecord, TicketRecord
from app.protocol.token_endpoint import checked_properties, find_client, mint_for
from app.protocol.tokens import TokenOrder, effective_duration, new_token_value, token_digest
from app.protocol.userinfo import SCOPE_CLAIMS

TICKET_LIFETIME_MS = 24 * 60 * 60 * 1000  # login and consent may take a while
DEFAULT_CODE_SECONDS = 600  # RFC 6749 §4.1.2: a maximum of 10 minutes is recommended

# /auth/authorization/fail reasons → the error the client receives (reference §2.1).
FAIL_REASONS = {
    "UNKNOWN": "server_error", "NOT_LOGGED_IN": "login_required",
    "MAX_AGE_NOT_SUPPORTED": "login_required", "EXCEEDS_MAX_AGE": "login_required",
    "DIFFERENT_SUBJECT": "login_required", "ACR_NOT_SATISFIED": "login_required",
    "DENIED": "access_denied", "SERVER_ERROR": "server_error",
    "NOT_AUTHENTICATED": "login_required", "ACCOUNT_SELECTION_REQUIRED":
        "account_selection_required", "CONSENT_REQUIRED": "consent_required",
    "INTERACTION_REQUIRED": "interaction_required", "INVALID_TARGET": "invalid_target",
    "INVALID_SCOPE": "invalid_scope", "UNAUTHORIZED_CLIENT": "unauthorized_client",
    "TEMPORARILY_UNAVAILABLE": "temporarily_unavailable",
}


@dataclass(frozen=True)
class AuthorizationPorts:
    clients: object
    tokens: object
    grants: object
    signing_key: object  # (service_api_key, alg) -> SigningKeyRecord | None
    now_ms: int
    granted_scopes: object = None  # storage GrantedScopesRepository; None: not recorded
    jwks: object = None  # (service_api_key) -> the service's published JWK Set


# --- /auth/authorization -----------------------------------------------------------------------

async def authorization(body: dict, service: ServiceRecord,
                        ports: AuthorizationPorts) -> ActionResult:
    async def find(identifier: str):
        return await find_client(ports.clients, service, identifier)
    try:
        request = await parse_authorization_request(body.get("parameters"), service, find)
    except AuthorizationError as error:
        return error.to_result(service.document)
    try:
        hinted_subject = _hinted_subject(request, service, ports)
    except HintRejected as rejection:
        return error_result(request, rc.ID_TOKEN_HINT_INVALID, service.document,
                            reason=str(rejection))
    client = await ports.clients.get(service.api_key, request.client_id)
    ticket = new_token_value()
    await ports.grants.create_ticket(_ticket(ticket, request, body, service, ports.now_ms))
    action = "NO_INTERACTION" if "NONE" in request.prompts else "INTERACTION"
    return ActionResult(action, rc.AUTHORIZATION_TICKET_ISSUED, {
        "client_id": request.client_id, "response_type": request.response_type,
        "openid": str(request.openid).lower()}, members=_interaction_members(
            ticket, request, service, client, hinted_subject))


def _hinted_subject(request: AuthorizationRequest, service: ServiceRecord,
                    ports: AuthorizationPorts) -> str | None:
    if not request.id_token_hint or ports.jwks is None:
        return None
    claims = verify_id_token_hint(request.id_token_hint, ports.jwks(service.api_key),
                                  issuer=service.document.get("issuer", ""),
                                  client_id=request.client_id)
    return claims["sub"]


def _ticket(ticket: str, request: AuthorizationRequest, body: dict, service: ServiceRecord,
            now: int) -> TicketRecord:
    context = body.get("context") if isinstance(body.get("context"), str) else None
    return TicketRecord(digest=token_digest(ticket), service_api_key=service.api_key,
                        client_id=request.client_id,
                        payload={"kind": "authorization", "request": request.to_dict()},
                        context=context, created_at=now, expires_at=now + TICKET_LIFETIME_MS)


def _interaction_members(ticket: str, request: AuthorizationRequest, service: ServiceRecord,
                         client, hinted_subject: str | None = None) -> dict:
    claims_request = request.claims or {}
    return {
        "ticket": ticket,
        "service": _public_service(service), "client": _public_client(client),
        "display": request.display or "PAGE", "maxAge": request.max_age or 0,
        "scopes": [s for s in service.document.get("supportedScopes", [])
                   if s.get("name") in request.scopes],
        "uiLocales": request.ui_locales, "claimsLocales": request.claims_locales,
        "claims": id_token_claim_names(request), "claimsAtUserInfo": _userinfo_names(request),
        "acrEssential": _acr_essential(claims_request),
        "acrs": request.acr_values or _requested_acrs(claims_request),
        # The end-user the client expects: from `claims` (§5.5.1) or the id_token_hint.
        "subject": _requested_subject(claims_request) or hinted_subject,
        "loginHint": request.login_hint,
        "prompts": request.prompts, "resources": request.resources,
        "idTokenClaims": _json_or_none(claims_request.get("id_token")),
        "userInfoClaims": _json_or_none(claims_request.get("userinfo")),
        "clientIdAliasUsed": request.client_id_alias_used,
    }


def _public_service(service: ServiceRecord) -> dict:
    """The Service as the front-end sees it during interaction: without its API secret."""
    return {k: v for k, v in management.service_json(service).items() if k != "apiSecret"}


def _public_client(client) -> dict:
    return {k: v for k, v in management.client_json(client).items() if k != "clientSecret"}


def id_token_claim_names(request: AuthorizationRequest) -> list[str]:
    """OIDC Core §5.4: scope claims go in the ID token only when no access token is issued;
    §5.5: the `id_token` member of the `claims` parameter always does."""
    names = list((request.claims or {}).get("id_token") or {})
    if request.response_type == "ID_TOKEN":
        names = [c for scope in request.scopes for c in SCOPE_CLAIMS.get(scope, ())] + names
    return list(dict.fromkeys(names))


def _userinfo_names(request: AuthorizationRequest) -> list[str]:
    names = [c for scope in request.scopes for c in SCOPE_CLAIMS.get(scope, ())]
    return list(dict.fromkeys(names + list((request.claims or {}).get("userinfo") or {})))


def _acr_essential(claims_request: dict) -> bool:
    acr = (claims_request.get("id_token") or {}).get("acr") or {}
    return bool(isinstance(acr, dict) and acr.get("essential"))


def _requested_acrs(claims_request: dict) -> list[str] | None:
    """OIDC Core §5.5.1.1: the `acr` values the `claims` parameter asks for."""
    acr = (claims_request.get("id_token") or {}).get("acr") or {}
    values = acr.get("values") if isinstance(acr, dict) else None
    if isinstance(acr, dict) and isinstance(acr.get("value"), str):
        values = [acr["value"]]
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else None


def _requested_subject(claims_request: dict) -> str | None:
    sub = (claims_request.get("id_token") or {}).get("sub") or {}
    return sub.get("value") if isinstance(sub, dict) else None


def _json_or_none(value) -> str | None:
    return json.dumps(value) if value else None


# --- /auth/authorization/issue -------------------------------------------------------------------

async def authorization_issue(body: dict, service: ServiceRecord,
                              ports: AuthorizationPorts) -> ActionResult:
    try:
        # The request is checked before the ticket is spent, so a mistake can be retried.
        _Grant.from_issue(body, None)
        ticket = await take_ticket(body, service, ports, "/auth/authorization/issue")
        request = AuthorizationRequest.from_dict(ticket.payload["request"])
        grant = _Grant.from_issue(body, request)
        client = await ports.clients.get(service.api_key, request.client_id)
        if client is None:
            raise ActionFailure("BAD_REQUEST", rc.AUTHORIZATION_TICKET_UNKNOWN)
        return await _respond(request, grant, service, client, ports)
    except ActionFailure as failure:
        return failure.result(_error_json(failure))


async def take_ticket(body: dict, service: ServiceRecord, ports, api: str) -> TicketRecord:
    value = body.get("ticket")
    if not value or not isinstance(value, str):
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.AUTHORIZATION_TICKET_MISSING, api=api)
    ticket = await ports.grants.consume_ticket(service.api_key, token_digest(value),
                                               ports.now_ms, kind="authorization")
    if ticket is None:
        raise ActionFailure("BAD_REQUEST", rc.AUTHORIZATION_TICKET_UNKNOWN)
    return ticket


@dataclass(frozen=True)
class _Grant:
    """What the end-user approved: stored with the code, used for the tokens and ID token."""
    subject: str
    sub: str | None
    auth_time: int | None
    acr: str | None
    claims: dict
    properties: list
    scopes: list[str]
    access_token_duration: int

    @classmethod
    def from_issue(cls, body: dict, request: AuthorizationRequest | None) -> "_Grant":
        """The grant, or only the checks that need no request when `request` is None."""
        subject = body.get("subject")
        if not subject or not isinstance(subject, str):
            raise ActionFailure("INTERNAL_SERVER_ERROR", rc.AUTHORIZATION_SUBJECT_MISSING)
        return cls(subject=subject, sub=body.get("sub") or None,
                   auth_time=_optional_int(body, "authTime"), acr=body.get("acr") or None,
                   claims=_claims(body.get("claims")), properties=checked_properties(body),
                   scopes=_approved_scopes(body.get("scopes"), request) if request else [],
                   access_token_duration=_optional_int(body, "accessTokenDuration") or 0)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _optional_int(body: dict, key: str) -> int | None:
    value = body.get(key)
    if value in (None, 0):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.AUTHORIZATION_ISSUE_VALUE_INVALID,
                            key=key, reason=f"{value!r} is not a non-negative integer")
    return value


def _claims(text) -> dict:
    if not text:
        return {}
    try:
        claims = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        claims = None
    if not isinstance(claims, dict):
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.AUTHORIZATION_ISSUE_VALUE_INVALID,
                            key="claims", reason="it is not a JSON object")
    return claims


def _approved_scopes(scopes, request: AuthorizationRequest) -> list[str]:
    """The front-end may replace the scopes (e.g. the user unticked some); `openid` can be
    kept or dropped but never added (reference §2.1)."""
    if scopes is None:
        return list(request.scopes)
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.AUTHORIZATION_ISSUE_VALUE_INVALID,
                            key="scopes", reason="it is not an array of strings")
    return [s for s in dict.fromkeys(scopes) if s != "openid" or request.openid]


async def _respond(request: AuthorizationRequest, grant: _Grant, service: ServiceRecord,
                   client, ports: AuthorizationPorts) -> ActionResult:
    words = response_type_parts(request.response_type)
    params, members = {}, {}
    if "CODE" in words:
        params["code"] = members["authorizationCode"] = await _issue_code(
            request, grant, service, ports)
    if "TOKEN" in words:
        params.update(await _issue_implicit_token(request, grant, service, client, ports,
                                                  members))
    if "ID_TOKEN" in words:
        params["id_token"] = members["idToken"] = _id_token(
            request, grant, service, client, ports, access_token=params.get("access_token"),
            code=params.get("code"))
    params |= ({"state": request.state} if request.state else {})
    params |= issuer_parameter(service.document)
    return ActionResult(response_action(request), rc.AUTHORIZATION_ISSUED, members=members,
                        response_content=response_content(request, params))


def response_type_parts(response_type: str) -> set[str]:
    """{"CODE", "TOKEN", "ID_TOKEN"} members of a ResponseType enum name (e.g. CODE_ID_TOKEN)."""
    rest, parts = response_type, set()
    if "ID_TOKEN" in rest:
        parts.add("ID_TOKEN")
        rest = rest.replace("ID_TOKEN", "")
    parts |= {part for part in ("CODE", "TOKEN") if part in rest}
    return parts


async def _issue_code(request, grant: _Grant, service: ServiceRecord, ports) -> str:
    value = new_token_value()
    seconds = service.document.get("authorizationCodeDuration") or DEFAULT_CODE_SECONDS
    record = CodeRecord(
        digest=token_digest(value), service_api_key=service.api_key,
        client_id=request.client_id, subject=grant.subject, grant_id=new_token_value()[:32],
        payload={"request": request.to_dict(), "grant": grant.to_dict()},
        created_at=ports.now_ms, expires_at=ports.now_ms + seconds * 1000)
    await ports.grants.create_code(record)
    return value


async def _issue_implicit_token(request, grant: _Grant, service, client, ports,
                                members: dict) -> dict:
    """RFC 6749 §4.2.2: an access token in the front channel; never a refresh token."""
    order = TokenOrder(
        service_api_key=service.api_key, client_id=request.client_id, subject=grant.subject,
        grant_type="IMPLICIT", scopes=grant.scopes,
        payload=token_payload(request, grant),
        access_seconds=effective_duration("access_token", service.document, client.document,
                                          grant.scopes, grant.access_token_duration),
        refresh_seconds=0, with_refresh=False)
    minted = mint_for(service, ports, order)
    await ports.tokens.store(minted.access, None)
    await after_tokens_issued(ports, service, client, minted.access)
    seconds = max(0, (minted.access.expires_at - ports.now_ms) // 1000)
    members |= {"accessToken": minted.access_token, "accessTokenDuration": seconds,
                "accessTokenExpiresAt": minted.access.expires_at}
    return {"access_token": minted.access_token, "token_type": "Bearer",
            "expires_in": str(seconds), "scope": " ".join(grant.scopes)}


def token_payload(request: AuthorizationRequest, grant: _Grant | dict) -> dict:
    grant = grant if isinstance(grant, dict) else grant.to_dict()
    return {"properties": grant["properties"], "claims_request": request.claims,
            "auth_time": grant["auth_time"], "acr": grant["acr"]}


def _id_token(request: AuthorizationRequest, grant: _Grant | dict, service: ServiceRecord,
              client, ports, *, access_token: str | None = None, code: str | None = None) -> str:
    grant = grant if isinstance(grant, dict) else grant.to_dict()
    alg = client.document.get("idTokenSignAlg") or "RS256"
    key = ports.signing_key(service.api_key, alg)
    if key is None:
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.AUTHORIZATION_KEY_MISSING, alg=alg)
    wanted = id_token_claim_names(request)
    claims = {k: v for k, v in grant["claims"].items() if k in wanted}
    return build_id_token(
        issuer=service.document.get("issuer", ""),
        subject=grant["sub"] or subject_for(grant["subject"], client.document, service.document),
        client_id=str(request.client_id), key=key, now_s=ports.now_ms // 1000,
        lifetime_s=service.document.get("idTokenDuration") or 86400, nonce=request.nonce,
        auth_time=grant["auth_time"], acr=grant["acr"], access_token=access_token, code=code,
        claims=claims, aud_type=service.document.get("idTokenAudType") or "array")


def id_token_for_code(request: AuthorizationRequest, grant: dict, service: ServiceRecord,
                      client, ports, access_token: str) -> str:
    """The ID token of the token endpoint's response (OIDC Core §3.1.3.3)."""
    return _id_token(request, grant, service, client, ports, access_token=access_token)


def _error_json(failure: ActionFailure) -> str:
    return json.dumps({"error": failure.code.oauth_error or "server_error",
                       "error_description": oauth_description(
                           failure.code.message(**failure.params))})


# --- /auth/authorization/fail ------------------------------------------------------------------

async def authorization_fail(body: dict, service: ServiceRecord,
                             ports: AuthorizationPorts) -> ActionResult:
    try:
        reason = body.get("reason")
        if reason not in FAIL_REASONS:
            raise ActionFailure("INTERNAL_SERVER_ERROR", rc.AUTHORIZATION_FAIL_REASON_MISSING,
                                reason=str(reason)[:40])
        ticket = await take_ticket(body, service, ports, "/auth/authorization/fail")
    except ActionFailure as failure:
        return failure.result(_error_json(failure))
    request = AuthorizationRequest.from_dict(ticket.payload["request"])
    description = body.get("description") or reason.replace("_", " ").lower()
    # One result code; the OAuth error is the one the front-end's reason calls for.
    code = replace(rc.AUTHORIZATION_FAILED, oauth_error=FAIL_REASONS[reason])
    return error_result(request, code, service.document, reason=str(description)[:200])


# --- Ticket info / update ----------------------------------------------------------------------

async def ticket_info(body: dict, service: ServiceRecord, ports) -> ActionResult:
    ticket = await _peek(body, service, ports)
    if ticket is None:
        return ActionResult("NOT_FOUND", rc.AUTHORIZATION_TICKET_UNKNOWN)
    return ActionResult("OK", rc.TICKET_INFO_OK, members={"info": {"context": ticket.context}})


async def ticket_update(body: dict, service: ServiceRecord, ports) -> ActionResult:
    info = body.get("info") or {}
    context = info.get("context") if isinstance(info, dict) else None
    value = body.get("ticket")
    if (not isinstance(value, str) or not value or not isinstance(info, dict)
            or not isinstance(context, str | None)):
        return ActionResult("CALLER_ERROR", rc.AUTHORIZATION_TICKET_MISSING,
                            {"api": "/auth/authorization/ticket/update"})
    updated = await ports.grants.update_ticket_context(service.api_key, token_digest(value),
                                                       context, ports.now_ms)
    if not updated:
        return ActionResult("NOT_FOUND", rc.AUTHORIZATION_TICKET_UNKNOWN)
    return ActionResult("OK", rc.TICKET_UPDATED, members={"info": {"context": context}})


async def _peek(body: dict, service: ServiceRecord, ports) -> TicketRecord | None:
    value = body.get("ticket")
    if not isinstance(value, str) or not value:
        return None
    return await ports.grants.ticket(service.api_key, token_digest(value), ports.now_ms)

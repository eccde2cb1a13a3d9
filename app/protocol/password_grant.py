"""The resource owner password credentials grant (RFC 6749 §4.3) as the reference splits it:
`/auth/token` answers PASSWORD with a ticket; the front-end checks the credentials itself and
calls `/auth/token/issue` or `/auth/token/fail` with that ticket."""

from app.protocol import result_codes as rc
from app.protocol.actions import ActionFailure, ActionResult
from app.protocol.ports import ServiceRecord, TicketRecord
from app.protocol.token_endpoint import (
    TokenCall,
    TokenPorts,
    checked_properties,
    error_json,
    issue,
    register_grant,
    requested_scopes,
)
from app.protocol.tokens import new_token_value, token_digest

TICKET_LIFETIME_MS = 10 * 60 * 1000  # the front-end checks the credentials right away


async def password_grant(call: TokenCall) -> ActionResult:
    """RFC 6749 §4.3: the front-end checks the resource owner's credentials, then calls
    /auth/token/issue or /auth/token/fail with the ticket (action PASSWORD)."""
    for name in ("username", "password"):
        if not call.parameters.get(name):
            raise ActionFailure("BAD_REQUEST", rc.PASSWORD_PARAMETER_MISSING, name=name)
    ticket = new_token_value()
    scopes = requested_scopes(call.parameters, call.service.document, call.client)
    await call.ports.grants.create_ticket(_password_ticket(call, ticket, scopes))
    members = {"ticket": ticket, "username": call.parameters["username"],
               "password": call.parameters["password"], "clientId": call.client.client_id,
               "clientIdAlias": call.client.client_id_alias, "clientIdAliasUsed": call.alias_used,
               "scopes": scopes, "grantType": "PASSWORD", "clientAuthMethod": call.auth_method}
    return ActionResult("PASSWORD", rc.PASSWORD_TICKET_ISSUED,
                        {"client_id": call.client.client_id}, members=members)


def _password_ticket(call: TokenCall, ticket: str, scopes: list[str]):
    payload = {"kind": "password", "scopes": scopes, "alias_used": call.alias_used,
               "auth_method": call.auth_method,
               "access_token_duration": call.body.get("accessTokenDuration") or 0}
    now = call.ports.now_ms
    return TicketRecord(digest=token_digest(ticket), service_api_key=call.service.api_key,
                        client_id=call.client.client_id, payload=payload, context=None,
                        created_at=now, expires_at=now + TICKET_LIFETIME_MS)


# --- /auth/token/issue and /auth/token/fail (the PASSWORD action's follow-ups) ---------------

_FAIL_REASONS = {
    # RFC 6749 §5.2: invalid resource owner credentials are `invalid_grant` (the reference's
    # example says invalid_request; the RFC wins).
    "INVALID_RESOURCE_OWNER_CREDENTIALS": ("BAD_REQUEST", rc.PASSWORD_CREDENTIALS_INVALID),
    "INVALID_TARGET": ("BAD_REQUEST", rc.TOKEN_FAIL_INVALID_TARGET),
    "UNKNOWN": ("INTERNAL_SERVER_ERROR", rc.TOKEN_FAIL_UNKNOWN),
}


async def token_issue(body: dict, service: ServiceRecord, ports: TokenPorts) -> ActionResult:
    try:
        # The request is checked before the ticket is spent, so a mistake can be retried.
        subject = body.get("subject")
        if not subject or not isinstance(subject, str):
            raise ActionFailure("INTERNAL_SERVER_ERROR", rc.TOKEN_SUBJECT_MISSING)
        payload = {"properties": checked_properties(body)}
        ticket = await _take_ticket(body, service, ports, "/auth/token/issue")
        call = await _call_from_ticket(ticket, body, service, ports)
        return await issue(call, subject=subject, scopes=ticket.payload["scopes"],
                           payload=payload, code=rc.PASSWORD_ISSUED)
    except ActionFailure as failure:
        # TokenIssueResponse knows only OK and INTERNAL_SERVER_ERROR (reference §2.2): a bad
        # ticket is the caller's problem, reported as the latter.
        failure.action = "INTERNAL_SERVER_ERROR"
        return failure.result(error_json(failure.code, failure.params, service.document))


async def token_fail(body: dict, service: ServiceRecord, ports: TokenPorts) -> ActionResult:
    try:
        reason = body.get("reason") or "UNKNOWN"
        if reason not in _FAIL_REASONS:
            raise ActionFailure("INTERNAL_SERVER_ERROR", rc.TOKEN_FAIL_REASON_INVALID,
                                reason=str(reason)[:40])
        await _take_ticket(body, service, ports, "/auth/token/fail")
        raise ActionFailure(*_FAIL_REASONS[reason])
    except ActionFailure as failure:
        return failure.result(error_json(failure.code, failure.params, service.document))


async def _take_ticket(body: dict, service: ServiceRecord, ports: TokenPorts, api: str):
    value = body.get("ticket")
    if not value or not isinstance(value, str):
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.TOKEN_TICKET_MISSING, api=api)
    ticket = await ports.grants.consume_ticket(service.api_key, token_digest(value),
                                               ports.now_ms, kind="password")
    if ticket is None:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_TICKET_UNKNOWN)
    return ticket


async def _call_from_ticket(ticket: TicketRecord, body: dict, service: ServiceRecord,
                            ports: TokenPorts) -> TokenCall:
    client = await ports.clients.get(service.api_key, ticket.client_id)
    if client is None or client.locked:
        raise ActionFailure("BAD_REQUEST", rc.TOKEN_TICKET_UNKNOWN)
    duration = body.get("accessTokenDuration") or ticket.payload.get("access_token_duration")
    return TokenCall(service, client, ticket.payload.get("alias_used", False),
                     ticket.payload.get("auth_method", ""), {},
                     {"accessTokenDuration": duration or 0}, "PASSWORD", ports)


register_grant("PASSWORD", password_grant)

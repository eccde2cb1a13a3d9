"""`/auth/introspection` (reference §2.4): a resource server asks whether an access token may be
used, optionally for required scopes and a required subject. Every outcome is an action; the
`responseContent` of a refusal is the `WWW-Authenticate` value the resource server sends
(RFC 6750 §3)."""

from app.protocol import result_codes as rc
from app.protocol.actions import ActionFailure, ActionResult
from app.protocol.ports import AccessTokenRecord, ServiceRecord
from app.protocol.tokens import token_digest


async def introspect(body: dict, service: ServiceRecord, clients, tokens,
                     now_ms: int) -> ActionResult:
    try:
        return await _introspect(body, service, clients, tokens, now_ms)
    except ActionFailure as failure:
        return failure.result(bearer_challenge(failure, service.document))


async def presented_token(body: dict, service, clients, tokens, missing_code):
    """(access token record, client) for the `token` of a resource-server request; refused
    when absent, unknown, of a deleted client or of a locked one."""
    value = body.get("token")
    if not isinstance(value, str) or not value:
        raise ActionFailure("BAD_REQUEST", missing_code)
    record = await tokens.access_token(service.api_key, token_digest(value))
    client = await clients.get(service.api_key, record.client_id) if record else None
    if record is None or client is None:
        raise ActionFailure("UNAUTHORIZED", rc.INTROSPECTION_TOKEN_UNKNOWN)
    if client.locked:
        raise ActionFailure("UNAUTHORIZED", rc.INTROSPECTION_CLIENT_LOCKED)
    return record, client


async def _introspect(body, service, clients, tokens, now_ms) -> ActionResult:
    _required_scopes(body.get("scopes"))  # a malformed request is refused before any look-up
    record, client = await presented_token(body, service, clients, tokens,
                                           rc.INTROSPECTION_TOKEN_MISSING)
    refreshable = await _refreshable(record, service, tokens, now_ms)
    members = _token_members(record, client, refreshable)
    if record.expires_at <= now_ms:
        code = (rc.INTROSPECTION_TOKEN_EXPIRED_REFRESHABLE if refreshable
                else rc.INTROSPECTION_TOKEN_EXPIRED)
        return _described_refusal(ActionFailure("UNAUTHORIZED", code), service,
                                  {**members, "usable": False, "sufficient": False})
    try:
        _check_requirements(body, record)
    except ActionFailure as failure:
        # The token exists and is usable, but not for this request: still describe it
        # (resource servers build their answer from the subject and client).
        return _described_refusal(failure, service, {**members, "sufficient": False})
    return ActionResult("OK", rc.INTROSPECTION_OK, members=members)


def _described_refusal(failure: ActionFailure, service, members: dict) -> ActionResult:
    return ActionResult(failure.action, failure.code, failure.params, members,
                        bearer_challenge(failure, service.document))


async def _refreshable(record: AccessTokenRecord, service, tokens, now_ms: int) -> bool:
    if record.refresh_digest is None:
        return False
    refresh = await tokens.refresh_token(service.api_key, record.refresh_digest)
    return refresh is not None and refresh.expires_at > now_ms and refresh.rotated_at is None


def _check_requirements(body: dict, record: AccessTokenRecord) -> None:
    for scope in _required_scopes(body.get("scopes")):
        if scope not in record.scopes:
            raise ActionFailure("FORBIDDEN", rc.INTROSPECTION_SCOPE_INSUFFICIENT, scope=scope)
    subject = body.get("subject")
    if subject and subject != record.subject:
        raise ActionFailure("FORBIDDEN", rc.INTROSPECTION_SUBJECT_DIFFERS)


def _required_scopes(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ActionFailure("BAD_REQUEST", rc.INTROSPECTION_SCOPES_INVALID)
    return value


def _token_members(record: AccessTokenRecord, client, refreshable: bool) -> dict:
    return {
        "clientId": record.client_id,
        "clientIdAlias": client.client_id_alias,
        "clientIdAliasUsed": False,
        "subject": record.subject,
        "scopes": list(record.scopes),
        "existent": True,
        "usable": True,
        "sufficient": True,
        "refreshable": refreshable,
        "expiresAt": record.expires_at,
        "properties": record.payload.get("properties", []),
        "grantType": record.grant_type,
        "grantId": record.grant_id,
    }


def bearer_challenge(failure: ActionFailure, service: dict) -> str:
    """RFC 6750 §3: `Bearer error="…", error_description="…"` (+ `scope` for insufficient_scope)."""
    error = failure.code.oauth_error or "invalid_request"
    parts = [f'error="{error}"']
    if not service.get("errorDescriptionOmitted"):
        description = failure.code.message(**failure.params).replace('"', "'")
        parts.append(f'error_description="{description}"')
    if "scope" in failure.params:
        parts.append(f'scope="{failure.params["scope"]}"')
    return "Bearer " + ", ".join(parts)

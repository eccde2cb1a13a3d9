"""`/auth/revocation` (reference §2.5, RFC 7009): the client revokes one of its tokens.

The client authenticates as at the token endpoint (RFC 7009 §2.1). A token that is unknown, or
that belongs to another client, is answered like a revoked one (§2.2): the response must not
tell a client about tokens it does not hold. Revoking a refresh token revokes every token of its
grant; revoking an access token leaves the refresh token (§2.1 makes that the server's choice).
"""

from app.protocol import result_codes as rc
from app.protocol.actions import ActionFailure, ActionResult
from app.protocol.ports import ServiceRecord
from app.protocol.token_endpoint import (
    TokenPorts,
    authenticated_client,
    decode_parameters,
    error_json,
)
from app.protocol.tokens import token_digest

_HINTS = ("access_token", "refresh_token")


async def revoke(body: dict, service: ServiceRecord, ports: TokenPorts) -> ActionResult:
    try:
        if not isinstance(body.get("parameters"), str):
            raise ActionFailure("INTERNAL_SERVER_ERROR", rc.REVOCATION_PARAMETERS_MISSING)
        parameters = decode_parameters(body["parameters"])
        client, _, _ = await authenticated_client(parameters, body, service, ports)
        digest, hint = _token_and_hint(parameters)
        await _revoke_owned(digest, hint, client.client_id, service.api_key, ports.tokens)
        return ActionResult("OK", rc.TOKEN_REVOKED)
    except ActionFailure as failure:
        return failure.result(error_json(failure.code, failure.params, service.document))


def _token_and_hint(parameters: dict) -> tuple[str, str | None]:
    token = parameters.get("token")
    if not token:
        raise ActionFailure("BAD_REQUEST", rc.REVOCATION_TOKEN_MISSING)
    # §2.1: the hint only orders the search; an unknown one is ignored.
    hint = parameters.get("token_type_hint")
    return token_digest(token), hint if hint in _HINTS else None


async def _revoke_owned(digest: str, hint: str | None, client_id: int, api_key: int,
                        tokens) -> None:
    # The hint only orders the look-ups (§2.1: the server may search all token types).
    order = ("refresh_token", "access_token") if hint == "refresh_token" else (
        "access_token", "refresh_token")
    for kind in order:
        if await _revoke_one(kind, digest, client_id, api_key, tokens):
            return


async def _revoke_one(kind: str, digest: str, client_id: int, api_key: int, tokens) -> bool:
    if kind == "access_token":
        record = await tokens.access_token(api_key, digest)
        if record is not None and record.client_id == client_id:
            await tokens.delete_access_token(api_key, digest, with_refresh=False)
        return record is not None
    record = await tokens.refresh_token(api_key, digest)
    if record is not None and record.client_id == client_id:
        await tokens.revoke(api_key, grant_id=record.grant_id)
    return record is not None

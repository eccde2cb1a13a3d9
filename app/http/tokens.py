"""Introspection (reference §2.4) and token management (§2.3) APIs."""

import re

from quart import Blueprint, Response, request

from app.http.clients import resolve_client
from app.http.guard import api
from app.http.plumbing import context, json_response, no_content, page_bounds, read_body
from app.http.routes import both_styles
from app.protocol import code_grant, management, password_grant, token_endpoint, token_management
from app.protocol import result_codes as rc
from app.protocol.errors import ApiError
from app.protocol.id_token_reissue import reissue_id_token
from app.protocol.introspection import introspect
from app.protocol.revocation import revoke
from app.protocol.standard_introspection import standard_introspection as introspect_rfc7662
from app.protocol.tokens import token_digest
from app.protocol.userinfo import userinfo, userinfo_issue
from storage.errors import ConflictError

blueprint = Blueprint("tokens", __name__)
# Grants in modules of their own register with the token endpoint when imported.
_SELF_REGISTERED_GRANTS = (code_grant.authorization_code_grant, password_grant.password_grant)
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def identifier_digest(identifier: str) -> str:
    """Token management takes a token's value or its hash (the `accessTokenHash` it lists)."""
    return identifier if _DIGEST.match(identifier) else token_digest(identifier)


@api(group="auth", caller="service")
async def introspection(caller) -> Response:
    ctx = context()
    result = await introspect(await read_body(), caller.service, ctx.storage.clients,
                              ctx.storage.tokens, ctx.clock.now_ms())
    return json_response(result.body())


@api(group="management", caller="service")
async def create_token(caller) -> Response:
    ctx = context()
    result = await token_management.create_token(await read_body(), caller.service,
                                                 ctx.storage.clients, ctx.storage.tokens,
                                                 ctx.clock.now_ms(), ctx.key_manager.signing_key,
                                                 conflict=ConflictError)
    return json_response(result.body())


@api(group="management", caller="service")
async def delete_token(caller, identifier: str) -> Response:
    deleted = await context().storage.tokens.delete_access_token(
        caller.service.api_key, identifier_digest(identifier))
    if not deleted:
        raise ApiError(rc.TOKEN_NOT_FOUND, identifier=identifier[:80])
    return no_content()


@api(group="management", caller="service")
async def revoke_tokens(caller) -> Response:
    count = await _revoke(caller.service, await read_body())
    code = rc.TOKENS_REVOKED
    return json_response({"resultCode": code.code, "resultMessage": code.message(count=count),
                          "count": count})


async def _revoke(service, body: dict) -> int:
    """The first filter present wins, in the reference's order."""
    tokens = context().storage.tokens
    if body.get("accessTokenIdentifier"):
        return await tokens.delete_access_token(
            service.api_key, identifier_digest(body["accessTokenIdentifier"]))
    if body.get("refreshTokenIdentifier"):
        refresh = await tokens.refresh_token(
            service.api_key, identifier_digest(body["refreshTokenIdentifier"]))
        return await tokens.revoke(service.api_key, grant_id=refresh.grant_id) if refresh else 0
    if body.get("clientIdentifier"):
        client = await resolve_client(service, str(body["clientIdentifier"]))
        return await tokens.revoke(service.api_key, client_id=client.client_id,
                                   subject=body.get("subject") or None)
    if body.get("subject"):
        return await tokens.revoke(service.api_key, subject=body["subject"])
    raise ApiError(rc.TOKEN_REVOKE_NO_FILTER)


@api(group="management", caller="service")
async def list_tokens(caller) -> Response:
    service, tokens = caller.service, context().storage.tokens
    start, end = page_bounds()
    identifier = request.args.get("clientIdentifier") or None
    client = await resolve_client(service, identifier) if identifier else None
    subject = request.args.get("subject") or None
    page = await tokens.page(service.api_key, client.client_id if client else None, subject,
                             start, end)
    entries = [token_management.token_summary(record, await _refresh_of(tokens, record))
               for record in page.items]
    return json_response({"start": start, "end": end, "subject": subject,
                          "client": management.client_json(client) if client else None,
                          "totalCount": page.total, "accessTokens": entries})


async def _refresh_of(tokens, record):
    if record.refresh_digest is None:
        return None
    return await tokens.refresh_token(record.service_api_key, record.refresh_digest)


both_styles(blueprint, "/auth/introspection", introspection, ["POST"])
both_styles(blueprint, "/auth/token/create", create_token, ["POST"])
both_styles(blueprint, "/auth/token/delete/<identifier>", delete_token, ["DELETE"])
both_styles(blueprint, "/auth/token/revoke", revoke_tokens, ["POST"])
both_styles(blueprint, "/auth/token/get/list", list_tokens, ["GET"])


def _token_ports():
    ctx = context()
    return token_endpoint.TokenPorts(ctx.storage.clients, ctx.storage.tokens,
                                     ctx.storage.grants, ctx.clock.now_ms(),
                                     ctx.key_manager.signing_key, ctx.storage.granted_scopes)


@api(group="auth", caller="service")
async def token(caller) -> Response:
    result = await token_endpoint.token_request(await read_body(), caller.service,
                                                _token_ports())
    return json_response(result.body())


@api(group="auth", caller="service")
async def token_issue(caller) -> Response:
    result = await password_grant.token_issue(await read_body(), caller.service, _token_ports())
    return json_response(result.body())


@api(group="auth", caller="service")
async def token_fail(caller) -> Response:
    result = await password_grant.token_fail(await read_body(), caller.service, _token_ports())
    return json_response(result.body())


both_styles(blueprint, "/auth/token", token, ["POST"])
both_styles(blueprint, "/auth/token/issue", token_issue, ["POST"])
both_styles(blueprint, "/auth/token/fail", token_fail, ["POST"])


@api(group="auth", caller="service")
async def revocation(caller) -> Response:
    result = await revoke(await read_body(), caller.service, _token_ports())
    return json_response(result.body())


both_styles(blueprint, "/auth/revocation", revocation, ["POST"])


@api(group="auth", caller="service")
async def userinfo_request(caller) -> Response:
    ctx = context()
    result = await userinfo(await read_body(), caller.service, ctx.storage.clients,
                            ctx.storage.tokens, ctx.clock.now_ms())
    return json_response(result.body())


@api(group="auth", caller="service")
async def userinfo_issue_request(caller) -> Response:
    ctx = context()
    result = await userinfo_issue(await read_body(), caller.service, ctx.storage.clients,
                                  ctx.storage.tokens, ctx.clock.now_ms(),
                                  ctx.key_manager.signing_key)
    return json_response(result.body())


both_styles(blueprint, "/auth/userinfo", userinfo_request, ["POST"])
both_styles(blueprint, "/auth/userinfo/issue", userinfo_issue_request, ["POST"])


@api(group="management", caller="service")
async def update_token(caller) -> Response:
    ctx = context()
    result = await token_management.update_token(await read_body(), caller.service,
                                                 ctx.storage.tokens, ctx.clock.now_ms(),
                                                 identifier_digest)
    return json_response(result.body())


both_styles(blueprint, "/auth/token/update", update_token, ["POST"])


@api(group="auth", caller="service")
async def id_token_reissue(caller) -> Response:
    ctx = context()
    result = await reissue_id_token(await read_body(), caller.service, ctx.storage.tokens,
                                    ctx.storage.clients, ctx.key_manager.signing_key,
                                    ctx.clock.now_ms())
    return json_response(result.body())


both_styles(blueprint, "/idtoken/reissue", id_token_reissue, ["POST"])


@api(group="auth", caller="service")
async def standard_introspection(caller) -> Response:
    result = await introspect_rfc7662(await read_body(), caller.service, _token_ports())
    return json_response(result.body())


both_styles(blueprint, "/auth/introspection/standard", standard_introspection, ["POST"])

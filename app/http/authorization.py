"""The authorization endpoint APIs (reference §2.1)."""

from quart import Blueprint, Response

from app.http.guard import api
from app.http.plumbing import context, json_response, read_body
from app.http.routes import both_styles
from app.protocol import authorization as flow

blueprint = Blueprint("authorization", __name__)


def _ports() -> flow.AuthorizationPorts:
    ctx = context()
    return flow.AuthorizationPorts(ctx.storage.clients, ctx.storage.tokens, ctx.storage.grants,
                                   ctx.key_manager.signing_key, ctx.clock.now_ms(),
                                   ctx.storage.granted_scopes, ctx.key_manager.jwks)


def _action_view(handler, name: str):
    @api(group="auth", caller="service")
    async def view(caller) -> Response:
        result = await handler(await read_body(), caller.service, _ports())
        return json_response(result.body())
    view.__name__ = name
    return view


_ROUTES = {
    "/auth/authorization": (flow.authorization, "authorization"),
    "/auth/authorization/issue": (flow.authorization_issue, "authorization_issue"),
    "/auth/authorization/fail": (flow.authorization_fail, "authorization_fail"),
    "/auth/authorization/ticket/info": (flow.ticket_info, "ticket_info"),
    "/auth/authorization/ticket/update": (flow.ticket_update, "ticket_update"),
}
for _rule, (_handler, _name) in _ROUTES.items():
    both_styles(blueprint, _rule, _action_view(_handler, _name), ["POST"])

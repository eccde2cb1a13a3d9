"""Endpoints for resource servers and clients holding tokens: introspection (RFC 7662),
revocation (RFC 7009) and userinfo (OIDC Core §5.3); reference §2.4-2.6."""

from quart import Blueprint, request

from frontend.responses import oauth_error, reply
from frontend.users import released_claims
from frontend.views.plumbing import (
    form_request,
    parts,
    resource_server_ok,
    to_response,
)

blueprint = Blueprint("resources", __name__)


@blueprint.post("/introspect")
async def introspect():
    """RFC 7662 §2.1: the caller must authenticate; here as a configured resource server."""
    parameters, rs_id, rs_secret = await form_request("introspection")
    if rs_id is None or not await resource_server_ok(rs_id, rs_secret or ""):
        return to_response(oauth_error(
            401, "invalid_client",
            "introspection needs the resource server's credentials (HTTP Basic)",
            challenge='Basic realm="introspection"'))
    result = await parts().tessera.standard_introspection(parameters,
                                                          request.headers.get("Accept"))
    return to_response(reply("auth/introspection/standard", result))


@blueprint.post("/revoke")
async def revoke():
    parameters, client_id, client_secret = await form_request("revocation")
    result = await parts().tessera.revocation(parameters, client_id, client_secret)
    return to_response(reply("auth/revocation", result))


@blueprint.route("/userinfo", methods=["GET", "POST"])
async def userinfo():
    token, problem = await _access_token()
    if problem:
        return to_response(oauth_error(400, "invalid_request", problem,
                                       challenge=f'Bearer error="invalid_request", '
                                                 f'error_description="{problem}"'))
    tessera = parts().tessera
    result = await tessera.userinfo(token)
    if result.get("action") != "OK":
        return to_response(reply("auth/userinfo", result))
    user = parts().users.by_subject(result.get("subject") or "")
    claims = released_claims(user, result.get("claims")) if user else {}
    issued = await tessera.userinfo_issue(token, claims)
    return to_response(reply("auth/userinfo/issue", issued))


async def _access_token() -> tuple[str | None, str | None]:
    """RFC 6750 §2: the Authorization header (§2.1) or the form body (§2.2), never both."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    from_header = value.strip() if scheme.lower() == "bearer" else None
    from_form = None
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        from_form = (await request.form).get("access_token")
    if from_header and from_form:
        return None, "the access token was sent in more than one way (RFC 6750 Section 2)"
    return from_header or from_form, None

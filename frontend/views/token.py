"""The token endpoint (RFC 6749 §3.2; reference §2.2)."""

import json

from quart import Blueprint

from frontend.responses import oauth_error, reply
from frontend.tessera import TesseraError
from frontend.views.plumbing import (
    check_password,
    form_request,
    parts,
    to_response,
)

blueprint = Blueprint("token", __name__)

# Grants Tessera pre-validates but leaves to the front-end (reference §2.2); this reference
# front-end does not offer them.
_NOT_OFFERED = {"TOKEN_EXCHANGE", "JWT_BEARER"}


@blueprint.post("/token")
async def token():
    parameters, client_id, client_secret = await form_request("token")
    result = await parts().tessera.token(parameters, client_id, client_secret)
    action = result.get("action")
    if action == "PASSWORD":
        return to_response(await _password_grant(result))
    if action == "ID_TOKEN_REISSUABLE":
        return to_response(await _with_new_id_token(result))
    if action in _NOT_OFFERED:
        return to_response(oauth_error(400, "unsupported_grant_type",
                                       f"this server does not offer the {action} grant"))
    return to_response(reply("auth/token", result))


async def _password_grant(result: dict):
    """RFC 6749 §4.3.2: the front-end checks the resource owner's credentials itself."""
    tessera = parts().tessera
    user, _ = await check_password(result.get("username") or "", result.get("password") or "")
    if user is None:  # wrong, or throttled: the same answer (RFC 6749 §5.2 invalid_grant)
        failed = await tessera.token_fail(result["ticket"], "INVALID_RESOURCE_OWNER_CREDENTIALS")
        return reply("auth/token/fail", failed)
    issued = await tessera.token_issue(result["ticket"], user.subject)
    return reply("auth/token/issue", issued)


async def _with_new_id_token(result: dict):
    """OIDC Core §12.2: a refresh may return a new ID token; Tessera signs it on request
    (reference §2.2 /idtoken/reissue), here with no claims beyond the standard ones.

    The refresh token has already rotated: if the re-issue fails, the client must still get
    the new tokens (answered as OK, which the reference allows), or its next refresh would be
    taken for a replay and end the grant."""
    tokens = json.loads(result["responseContent"])
    try:
        reissued = await parts().tessera.id_token_reissue(tokens["access_token"],
                                                          tokens["refresh_token"])
    except TesseraError:
        reissued = {}
    if reissued.get("action") != "OK":
        return reply("auth/token", {**result, "action": "OK"})
    return reply("idtoken/reissue", reissued)

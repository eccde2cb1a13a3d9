"""Discovery (OIDC Discovery §4, RFC 8414 §3) and the JWK Set (reference §2.11)."""

from quart import Blueprint

from frontend.responses import json_document
from frontend.views.plumbing import parts, to_response

blueprint = Blueprint("metadata", __name__)


@blueprint.get("/.well-known/openid-configuration")
@blueprint.get("/.well-known/oauth-authorization-server")
async def configuration():
    return to_response(json_document(await parts().tessera.configuration()))


@blueprint.get("/jwks")
async def jwks():
    document = await parts().tessera.jwks()
    return to_response(json_document(document or '{"keys":[]}'))

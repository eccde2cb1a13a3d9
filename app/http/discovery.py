"""`/service/configuration` (discovery metadata, reference §2.11) and `/service/jwks/get`."""

import json

from quart import Blueprint, Response, request

from app.http.guard import api
from app.http.plumbing import context, no_content, query_bool, raw_json_response, read_body
from app.http.routes import both_styles
from app.protocol import result_codes as rc
from app.protocol.discovery import build_configuration, render_configuration
from app.protocol.errors import ApiError
from app.protocol.json_patch import JsonPatchError, apply_patch

blueprint = Blueprint("discovery", __name__)


@api(group="auth", caller="service")
async def service_configuration(caller) -> Response:
    pretty, patch = await _configuration_options()
    document = build_configuration(caller.service.document,
                                   jws_algs=context().key_manager.algorithms())
    if patch:
        try:
            document = apply_patch(document, patch)
        except JsonPatchError as error:
            raise ApiError(rc.PATCH_INVALID, reason=str(error)) from None
    return raw_json_response(render_configuration(document, pretty=pretty))


async def _configuration_options() -> tuple[bool, object]:
    """GET takes `pretty`/`patch` from the query; the SDKs POST them as JSON (reference §1.3)."""
    if request.method == "GET":
        return query_bool("pretty", False), request.args.get("patch")
    body = await read_body()
    pretty = body.get("pretty", False)
    if isinstance(pretty, str):
        pretty = pretty.lower() == "true"
    if not isinstance(pretty, bool):
        raise ApiError(rc.VALUE_INVALID, key="pretty", reason=f"{pretty!r} is not a boolean")
    return pretty, body.get("patch")


@api(group="auth", caller="service")
async def service_jwks(caller) -> Response:
    if query_bool("includePrivateKeys", False):
        raise ApiError(rc.PRIVATE_KEYS_NOT_EXPORTED)
    jwks = context().key_manager.jwks(caller.service.api_key)
    if not jwks.get("keys"):
        return no_content()
    pretty = query_bool("pretty", True)
    text = json.dumps(jwks, indent=2) if pretty else json.dumps(jwks, separators=(",", ":"))
    return raw_json_response(text)


both_styles(blueprint, "/service/configuration", service_configuration, ["GET", "POST"])
both_styles(blueprint, "/service/jwks/get", service_jwks, ["GET"])

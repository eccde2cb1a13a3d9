"""Reference §2: the HTTP response the front-end returns for each action of each API.

`reply(api, result)` turns an API response (its `action`, `responseContent` and `dpopNonce`)
into a `Reply`. The table `ACTIONS` is the whole mapping; actions that need the front-end to
do something first (INTERACTION, PASSWORD, userinfo's OK, …) are handled by the views and are
not in it. Every reply carries `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749
§5.1, RFC 7662 §2.2, OIDC Core §5.3.2 practice).
"""

import json
from dataclasses import dataclass, field
from enum import Enum


class Body(Enum):
    JSON = "application/json;charset=UTF-8"
    HTML = "text/html;charset=UTF-8"
    JWT = "application/jwt"
    INTROSPECTION_JWT = "application/token-introspection+jwt"  # RFC 9701 §4
    JAVASCRIPT = "application/javascript;charset=UTF-8"       # JSONP revocation
    LOCATION = "location"        # responseContent is the Location header; no body
    CHALLENGE = "challenge"      # responseContent is the WWW-Authenticate header; no body
    OPTIONAL_JAVASCRIPT = "optional-javascript"  # body only when responseContent is set


@dataclass(frozen=True)
class Shape:
    status: int
    body: Body
    challenge: str | None = None  # a fixed WWW-Authenticate value (token, revocation)


@dataclass(frozen=True)
class Reply:
    status: int
    body: str = ""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


_AUTHORIZATION = {
    "INTERNAL_SERVER_ERROR": Shape(500, Body.JSON),
    "BAD_REQUEST": Shape(400, Body.JSON),
    "LOCATION": Shape(302, Body.LOCATION),
    "FORM": Shape(200, Body.HTML),
}
_CHALLENGES = {
    "INTERNAL_SERVER_ERROR": Shape(500, Body.CHALLENGE),
    "BAD_REQUEST": Shape(400, Body.CHALLENGE),
    "UNAUTHORIZED": Shape(401, Body.CHALLENGE),
    "FORBIDDEN": Shape(403, Body.CHALLENGE),
}

ACTIONS: dict[str, dict[str, Shape]] = {
    "auth/authorization": _AUTHORIZATION,
    "auth/authorization/issue": _AUTHORIZATION,
    "auth/authorization/fail": _AUTHORIZATION,
    "auth/token": {
        # RFC 6749 §5.2 allows 400 for invalid_client; 401 with a challenge is what the
        # reference implementations return.
        "INVALID_CLIENT": Shape(401, Body.JSON, challenge='Basic realm="token"'),
        "INTERNAL_SERVER_ERROR": Shape(500, Body.JSON),
        "BAD_REQUEST": Shape(400, Body.JSON),
        "OK": Shape(200, Body.JSON),
    },
    "idtoken/reissue": {
        "OK": Shape(200, Body.JSON),
        "INTERNAL_SERVER_ERROR": Shape(500, Body.JSON),
        "CALLER_ERROR": Shape(500, Body.JSON),
    },
    "auth/token/issue": {
        "INTERNAL_SERVER_ERROR": Shape(500, Body.JSON),
        "OK": Shape(200, Body.JSON),
    },
    "auth/token/fail": {
        "INTERNAL_SERVER_ERROR": Shape(500, Body.JSON),
        "BAD_REQUEST": Shape(400, Body.JSON),
    },
    "auth/introspection/standard": {
        "INTERNAL_SERVER_ERROR": Shape(500, Body.JSON),
        "BAD_REQUEST": Shape(400, Body.JSON),
        "OK": Shape(200, Body.JSON),
        "JWT": Shape(200, Body.INTROSPECTION_JWT),
    },
    "auth/revocation": {
        "INVALID_CLIENT": Shape(401, Body.JSON, challenge='Basic realm="revocation"'),
        "INTERNAL_SERVER_ERROR": Shape(500, Body.JSON),
        "BAD_REQUEST": Shape(400, Body.JSON),
        "OK": Shape(200, Body.OPTIONAL_JAVASCRIPT),
    },
    "auth/userinfo": _CHALLENGES,
    "auth/userinfo/issue": {
        **_CHALLENGES,
        "JSON": Shape(200, Body.JSON),
        "JWT": Shape(200, Body.JWT),
    },
}

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The FORM page (OAuth 2.0 Form Post Response Mode §2) submits itself from an inline handler;
# its content is Tessera's, with every value escaped. Nothing else may run or load.
FORM_POST_POLICY = "default-src 'none'; script-src 'unsafe-inline'; frame-ancestors 'none'"


def reply(api: str, result: dict) -> Reply:
    """The HTTP response for `result`, an API response of `api` (a key of ACTIONS)."""
    shape = ACTIONS[api].get(result.get("action"))
    if shape is None:
        return server_error(f"unexpected action {result.get('action')!r} from {api}")
    headers = dict(NO_STORE)
    if result.get("dpopNonce"):
        headers["DPoP-Nonce"] = result["dpopNonce"]  # RFC 9449 §8
    if shape.challenge:
        headers["WWW-Authenticate"] = shape.challenge
    if shape.body is Body.HTML:
        headers["Content-Security-Policy"] = FORM_POST_POLICY
    return _with_content(shape, result.get("responseContent") or "", headers)


def _with_content(shape: Shape, content: str, headers: dict[str, str]) -> Reply:
    if shape.body is Body.LOCATION:
        return Reply(shape.status, headers={**headers, "Location": content})
    if shape.body is Body.CHALLENGE:
        return Reply(shape.status, headers={**headers, "WWW-Authenticate": content})
    if shape.body is Body.OPTIONAL_JAVASCRIPT:
        if not content:
            return Reply(shape.status, headers=headers)
        return Reply(shape.status, content, Body.JAVASCRIPT.value, headers)
    return Reply(shape.status, content, shape.body.value, headers)


def oauth_error(status: int, error: str, description: str,
                challenge: str | None = None) -> Reply:
    """An error the front-end itself detects (RFC 6749 §5.2 shape)."""
    headers = dict(NO_STORE)
    if challenge:
        headers["WWW-Authenticate"] = challenge
    body = json.dumps({"error": error, "error_description": description})
    return Reply(status, body, Body.JSON.value, headers)


def server_error(description: str) -> Reply:
    return oauth_error(500, "server_error", description)


def json_document(text: str) -> Reply:
    """Discovery and JWKS documents: public, so they may be cached briefly."""
    return Reply(200, text, Body.JSON.value, {"Cache-Control": "public, max-age=60"})

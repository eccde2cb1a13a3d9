"""Reference §2: the HTTP response the front-end returns for each action of each API it calls.

The expected table below is written from the reference text (authlete-api.md §2.0-§2.6), not
from `frontend.responses.ACTIONS`; `test_every_mapping_has_a_row` keeps the two in step, so a
mapping cannot be added (or dropped) without a row here.

Conventions of §2.0 checked on every row: `Cache-Control: no-store` and `Pragma: no-cache` on
every reply, JSON as `application/json;charset=UTF-8`, and `DPoP-Nonce: <dpopNonce>` exactly
when the API response carries `dpopNonce` (RFC 9449 §8, §9).
"""

import json
from dataclasses import dataclass, field

import pytest

from frontend.responses import ACTIONS, Reply, oauth_error, reply, server_error

JSON = "application/json;charset=UTF-8"
HTML = "text/html;charset=UTF-8"

ERROR_JSON = json.dumps({"error": "invalid_request",
                         "error_description": "[A001] something is missing",
                         "error_uri": "https://docs.authlete.com/#A001"})
SERVER_ERROR_JSON = json.dumps({"error": "server_error",
                                "error_description": "[A002] the server failed"})
INVALID_CLIENT_JSON = json.dumps({"error": "invalid_client",
                                  "error_description": "[A067301] The credentials are wrong"})
TOKEN_JSON = json.dumps({"access_token": "at", "token_type": "Bearer", "expires_in": 3600})
REDIRECT = "https://client.example/cb?error=access_denied&state=xyz&iss=https%3A%2F%2Fas"
FORM_HTML = "<html><body onload='document.forms[0].submit()'><form>…</form></body></html>"
INTROSPECTION_JSON = json.dumps({"active": True, "client_id": "c1", "sub": "alice"})
INTROSPECTION_JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6InRva2VuLWludHJvc3BlY3Rpb24rand0In0.e30.sig"
JSONP = 'callback({"active":false});'
USERINFO_JSON = json.dumps({"sub": "alice", "name": "Alice"})
USERINFO_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.sig"
CHALLENGE = {
    "INTERNAL_SERVER_ERROR": 'Bearer error="server_error",error_description="[A003] failed"',
    "BAD_REQUEST": 'Bearer error="invalid_request",error_description="[A004] no token"',
    "UNAUTHORIZED": 'Bearer error="invalid_token",error_description="[A005] expired"',
    "FORBIDDEN": 'Bearer error="insufficient_scope",error_description="[A006] no openid"',
}
CHALLENGE_STATUS = {"INTERNAL_SERVER_ERROR": 500, "BAD_REQUEST": 400,
                    "UNAUTHORIZED": 401, "FORBIDDEN": 403}


@dataclass(frozen=True)
class Row:
    """One (api, action) of reference §2 and the reply it must produce."""
    api: str
    action: str
    content: str | None          # the API response's responseContent
    status: int
    media_type: str | None       # Content-Type; None = no body at all
    body: str = ""
    headers: dict = field(default_factory=dict)   # Location / WWW-Authenticate
    label: str = ""              # distinguishes two rows of one (api, action)

    @property
    def id(self) -> str:
        return f"{self.api}-{self.action}" + (f"-{self.label}" if self.label else "")


def json_row(api, action, status, content, **extra) -> Row:
    return Row(api, action, content, status, JSON, content, **extra)


def authorization_rows(api: str) -> list[Row]:
    """§2.1: /auth/authorization and, "same mapping as above", its /issue and /fail."""
    return [
        json_row(api, "INTERNAL_SERVER_ERROR", 500, SERVER_ERROR_JSON),
        json_row(api, "BAD_REQUEST", 400, ERROR_JSON),          # redirect URI unusable
        Row(api, "LOCATION", REDIRECT, 302, None, headers={"Location": REDIRECT}),
        # response_mode=form_post: the page submits itself from an inline handler, which
        # the front-end's policy for its own pages (no script at all) would block.
        Row(api, "FORM", FORM_HTML, 200, HTML, FORM_HTML, headers={
            "Content-Security-Policy":
                "default-src 'none'; script-src 'unsafe-inline'; frame-ancestors 'none'"}),
    ]


def challenge_rows(api: str) -> list[Row]:
    """§2.6: userinfo errors are a status and `WWW-Authenticate: <responseContent>`, no body."""
    return [Row(api, action, CHALLENGE[action], CHALLENGE_STATUS[action], None,
                headers={"WWW-Authenticate": CHALLENGE[action]})
            for action in CHALLENGE]


EXPECTED: list[Row] = [
    *authorization_rows("auth/authorization"),
    *authorization_rows("auth/authorization/issue"),
    *authorization_rows("auth/authorization/fail"),
    # §2.2 /auth/token
    json_row("auth/token", "INVALID_CLIENT", 401, INVALID_CLIENT_JSON,
             headers={"WWW-Authenticate": 'Basic realm="token"'}),
    json_row("auth/token", "INTERNAL_SERVER_ERROR", 500, SERVER_ERROR_JSON),
    json_row("auth/token", "BAD_REQUEST", 400, ERROR_JSON),
    json_row("auth/token", "OK", 200, TOKEN_JSON),
    # ID_TOKEN_REISSUABLE is answered by calling /idtoken/reissue (the view), whose
    # §2.2 mapping follows: OK 200 JSON; INTERNAL_SERVER_ERROR and CALLER_ERROR 500.
    json_row("idtoken/reissue", "OK", 200, TOKEN_JSON),
    json_row("idtoken/reissue", "INTERNAL_SERVER_ERROR", 500, SERVER_ERROR_JSON),
    json_row("idtoken/reissue", "CALLER_ERROR", 500, SERVER_ERROR_JSON),
    # §2.2 /auth/token/issue, /auth/token/fail
    json_row("auth/token/issue", "OK", 200, TOKEN_JSON),
    json_row("auth/token/issue", "INTERNAL_SERVER_ERROR", 500, SERVER_ERROR_JSON),
    json_row("auth/token/fail", "INTERNAL_SERVER_ERROR", 500, SERVER_ERROR_JSON),
    json_row("auth/token/fail", "BAD_REQUEST", 400, ERROR_JSON),
    # §2.4 /auth/introspection/standard (RFC 7662; JWT per RFC 9701)
    json_row("auth/introspection/standard", "INTERNAL_SERVER_ERROR", 500, SERVER_ERROR_JSON),
    json_row("auth/introspection/standard", "BAD_REQUEST", 400, ERROR_JSON),
    json_row("auth/introspection/standard", "OK", 200, INTROSPECTION_JSON),
    Row("auth/introspection/standard", "JWT", INTROSPECTION_JWT, 200,
        "application/token-introspection+jwt", INTROSPECTION_JWT),
    # §2.5 /auth/revocation (RFC 7009)
    json_row("auth/revocation", "INVALID_CLIENT", 401, INVALID_CLIENT_JSON,
             headers={"WWW-Authenticate": 'Basic realm="revocation"'}),
    json_row("auth/revocation", "INTERNAL_SERVER_ERROR", 500, SERVER_ERROR_JSON),
    json_row("auth/revocation", "BAD_REQUEST", 400, ERROR_JSON),
    Row("auth/revocation", "OK", None, 200, None, ""),                 # empty body
    Row("auth/revocation", "OK", JSONP, 200, "application/javascript", JSONP, label="JSONP"),
    # §2.6 /auth/userinfo, /auth/userinfo/issue
    *challenge_rows("auth/userinfo"),
    *challenge_rows("auth/userinfo/issue"),
    json_row("auth/userinfo/issue", "JSON", 200, USERINFO_JSON),
    Row("auth/userinfo/issue", "JWT", USERINFO_JWT, 200, "application/jwt", USERINFO_JWT),
]

NONCE = "eyJ7S_zG.nonce-from-tessera"
DPOP_VARIANTS = {
    "no-dpopNonce": {},
    "dpopNonce-null": {"dpopNonce": None},
    "dpopNonce": {"dpopNonce": NONCE},
}


def lowered(headers: dict) -> dict:
    """Header names compare case-insensitively (RFC 9110 §5.1)."""
    return {name.lower(): value for name, value in headers.items()}


def media_type(content_type: str | None) -> str | None:
    return content_type.split(";")[0].strip().lower() if content_type else None


@pytest.mark.parametrize("variant", list(DPOP_VARIANTS))
@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in EXPECTED])
def test_action_maps_to_the_reference_reply(row: Row, variant: str):
    result = {"resultCode": "A000000", "resultMessage": "[A000000] test",
              "action": row.action, "responseContent": row.content, **DPOP_VARIANTS[variant]}

    answer = reply(row.api, result)

    assert isinstance(answer, Reply)
    assert answer.status == row.status
    assert media_type(answer.content_type) == media_type(row.media_type)
    if row.media_type in (JSON, HTML):       # §2.0 / §2.1 spell out the charset
        assert answer.content_type == row.media_type
    assert answer.body == row.body
    expected_headers = {"Cache-Control": "no-store", "Pragma": "no-cache", **row.headers}
    if variant == "dpopNonce":
        expected_headers["DPoP-Nonce"] = NONCE
    assert lowered(answer.headers) == lowered(expected_headers)


def test_every_mapping_has_a_row():
    """A mapping added to ACTIONS without a row here (or a row without a mapping) fails."""
    mapped = {(api, action) for api, actions in ACTIONS.items() for action in actions}
    tested = {(row.api, row.action) for row in EXPECTED}
    assert mapped - tested == set(), "mappings without a table row"
    assert tested - mapped == set(), "table rows without a mapping"


@pytest.mark.parametrize("action", ["SOMETHING_NEW", None])
@pytest.mark.parametrize("api", sorted({row.api for row in EXPECTED}))
def test_an_action_outside_the_table_is_a_server_error(api: str, action):
    answer = reply(api, {"action": action, "responseContent": "ignored"})

    assert answer.status == 500
    assert answer.content_type == JSON
    assert json.loads(answer.body)["error"] == "server_error"
    assert "ignored" not in answer.body
    assert lowered(answer.headers) == {"cache-control": "no-store", "pragma": "no-cache"}


def test_oauth_error_has_the_rfc_6749_shape():
    answer = oauth_error(400, "invalid_request", "the token parameter is missing")

    assert answer.status == 400
    assert answer.content_type == JSON
    assert json.loads(answer.body) == {"error": "invalid_request",
                                       "error_description": "the token parameter is missing"}
    assert lowered(answer.headers) == {"cache-control": "no-store", "pragma": "no-cache"}


def test_oauth_error_with_a_challenge():
    answer = oauth_error(401, "invalid_client", "resource server authentication failed",
                         challenge='Basic realm="introspection"')

    assert answer.status == 401
    assert answer.content_type == JSON
    assert json.loads(answer.body) == {"error": "invalid_client",
                                       "error_description": "resource server authentication failed"}
    assert lowered(answer.headers) == {"cache-control": "no-store", "pragma": "no-cache",
                                       "www-authenticate": 'Basic realm="introspection"'}


def test_oauth_error_escapes_its_description():
    answer = oauth_error(400, "invalid_request", 'a "quoted"\nvalue')

    assert json.loads(answer.body)["error_description"] == 'a "quoted"\nvalue'


def test_server_error():
    answer = server_error("Tessera is unreachable")

    assert answer.status == 500
    assert answer.content_type == JSON
    assert json.loads(answer.body) == {"error": "server_error",
                                       "error_description": "Tessera is unreachable"}
    assert lowered(answer.headers) == {"cache-control": "no-store", "pragma": "no-cache"}

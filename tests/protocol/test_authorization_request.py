"""The authorization request checklist (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636, RFC 9207):
every refusal with its action, result code, OAuth `error`, `state` and `iss`, and the accepted
requests with the values stored for the ticket."""

import json
from dataclasses import asdict
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from app.protocol.authorization_request import (
    AuthorizationError,
    AuthorizationRequest,
    parse_authorization_request,
)
from app.protocol.ports import ClientRecord, ServiceRecord

ISSUER = "https://as.example.com"
WEB_CB = "https://client.example.org/cb"
# RFC 7636 Appendix B: the S256 challenge of "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk".
S256_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
PLAIN_CHALLENGE = "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk"

SERVICE_DOCUMENT = {
    "issuer": ISSUER,
    "supportedResponseTypes": ["NONE", "CODE", "TOKEN", "ID_TOKEN", "CODE_TOKEN", "CODE_ID_TOKEN",
                               "ID_TOKEN_TOKEN", "CODE_ID_TOKEN_TOKEN"],
    "supportedScopes": [{"name": "openid"}, {"name": "profile"}, {"name": "email"},
                        {"name": "offline_access"}, {"name": "read", "defaultEntry": True},
                        {"name": "write"}],
}


def _client(client_id: int, alias: str | None = None, locked: bool = False,
            **document) -> ClientRecord:
    return ClientRecord(client_id=client_id, number=client_id, service_api_key=1,
                        client_secret=None, client_id_alias=alias, developer=None, locked=locked,
                        document=document, created_at=0, modified_at=0)


CLIENTS = {client.client_id: client for client in [
    _client(1001, alias="web-app", redirectUris=[WEB_CB],
            responseTypes=["CODE", "CODE_ID_TOKEN", "ID_TOKEN", "ID_TOKEN_TOKEN", "TOKEN",
                           "NONE"]),
    _client(1002, redirectUris=["https://a.example.org/cb", "https://b.example.org/cb?x=1"]),
    _client(1003, applicationType="NATIVE", clientType="PUBLIC",
            redirectUris=["http://127.0.0.1/callback", "http://[::1]:8400/callback",
                          "com.example.app:/oauth2redirect"]),
    _client(1004, locked=True, redirectUris=[WEB_CB]),
    # Registered before the implicit rules applied: http, localhost and a fixed loopback port.
    _client(1005, redirectUris=["http://client.example.org/cb", "https://localhost/cb",
                                "http://127.0.0.1:9000/cb"], responseTypes=["CODE", "TOKEN"]),
    _client(1006, redirectUris=[WEB_CB],
            extension={"requestableScopesEnabled": True, "requestableScopes": ["openid", "read"]}),
    _client(1007),
    _client(1008, redirectUris=[WEB_CB], pkceRequired=True, pkceS256Required=True),
    _client(1009, redirectUris=[WEB_CB], parRequired=True),
    _client(1010, redirectUris=[WEB_CB], defaultMaxAge=3600, defaultAcrs=["urn:acr:mfa"],
            clientIdAliasEnabled=None),
]}


async def find_client(identifier: str) -> tuple[ClientRecord, bool] | None:
    """The caller's port: a numeric client ID, or the alias of client 1001."""
    if identifier == "web-app":
        return CLIENTS[1001], True
    client = CLIENTS.get(int(identifier)) if identifier.isdigit() else None
    return (client, False) if client else None


def service(**overrides) -> ServiceRecord:
    return ServiceRecord(api_key=1, number=1, owner_id=1, api_secret="secret",
                         document={**SERVICE_DOCUMENT, **overrides}, created_at=0, modified_at=0)


def query(*pairs: tuple[str, str], **values: str) -> str:
    return urlencode([*pairs, *values.items()])


def web(*pairs: tuple[str, str], **values: str) -> str:
    return query(*pairs, client_id="1001", **values)


async def refused(parameters: str | None, **service_overrides) -> AuthorizationError:
    with pytest.raises(AuthorizationError) as caught:
        await parse_authorization_request(parameters, service(**service_overrides), find_client)
    return caught.value


class _FormInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.inputs: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.action = attributes["action"]
        elif tag == "input":
            self.inputs[attributes["name"]] = attributes["value"]


def delivered(action: str, content: str) -> tuple[str | None, dict[str, str]]:
    """Where the error went and its parameters, read back as the client would."""
    if action in ("BAD_REQUEST", "INTERNAL_SERVER_ERROR"):
        return None, json.loads(content)
    if action == "FORM":
        form = _FormInputs()
        form.feed(content)
        return form.action, form.inputs
    parts = urlsplit(content)
    encoded = parts.fragment or parts.query
    base = content.split("#")[0] if parts.fragment else content.split("?")[0]
    return base, {name: values[0] for name, values in parse_qs(encoded).items()}


# --- Refusals ------------------------------------------------------------------------------------

UNREDIRECTED = [
    ("parameters-empty", "", {}, "A004301", "invalid_request"),
    ("parameters-all-blank", "scope=&state=", {}, "A004301", "invalid_request"),
    ("client_id-missing", query(response_type="code"), {}, "A010301", "invalid_request"),
    ("client_id-unknown", query(client_id="999", response_type="code"), {}, "A010304",
     "invalid_client"),
    ("client_id-repeated", query(("client_id", "1001"), client_id="1002", response_type="code"),
     {}, "A004360", "invalid_request"),
    ("client-locked", query(client_id="1004", response_type="code"), {}, "A010307",
     "invalid_client"),
    ("request-object", web(response_type="code", request="eyJhbGciOiJub25lIn0.e30."), {},
     "A004361", "request_not_supported"),
    ("request_uri", web(response_type="code", request_uri="urn:ietf:params:oauth:request_uri:x"),
     {}, "A004362", "request_uri_not_supported"),
    ("redirect_uri-not-registered", web(response_type="code", redirect_uri=WEB_CB + "/other"),
     {}, "A011304", "invalid_request"),
    ("redirect_uri-prefix-only", web(response_type="code", redirect_uri=WEB_CB + "?extra=1"), {},
     "A011304", "invalid_request"),
    ("redirect_uri-with-fragment", web(response_type="code", redirect_uri=WEB_CB + "#x"), {},
     "A011316", "invalid_request"),
    ("redirect_uri-missing-several-registered", query(client_id="1002", response_type="code"),
     {}, "A011313", "invalid_request"),
    ("redirect_uri-none-registered", query(client_id="1007", response_type="code"), {},
     "A011360", "invalid_request"),
    ("redirect_uri-repeated", web(("redirect_uri", WEB_CB), response_type="code",
                                  redirect_uri=WEB_CB), {}, "A004360", "invalid_request"),
    ("loopback-port-varies-for-web-client",
     query(client_id="1005", response_type="code", redirect_uri="http://127.0.0.1:9001/cb"), {},
     "A011304", "invalid_request"),
    ("native-loopback-other-path",
     query(client_id="1003", response_type="code", redirect_uri="http://127.0.0.1:5000/other"),
     {}, "A011304", "invalid_request"),
    ("openid-without-redirect_uri", web(response_type="code", scope="openid", state="s1"), {},
     "A011303", "invalid_request"),
    ("implicit-web-client-http-redirect_uri",
     query(client_id="1005", response_type="token", redirect_uri="http://client.example.org/cb"),
     {}, "A011305", "invalid_request"),
    ("implicit-web-client-localhost-redirect_uri",
     query(client_id="1005", response_type="token", redirect_uri="https://localhost/cb"), {},
     "A011306", "invalid_request"),
]


@pytest.mark.parametrize(("parameters", "overrides", "code", "error"),
                         [case[1:] for case in UNREDIRECTED],
                         ids=[case[0] for case in UNREDIRECTED])
async def test_refusal_without_redirect(parameters, overrides, code, error):
    failure = await refused(parameters, **overrides)
    result = failure.to_result(service(**overrides).document)
    assert (failure.action, failure.code.code, failure.destination) == ("BAD_REQUEST", code, None)
    assert result.action == "BAD_REQUEST"
    assert json.loads(result.response_content) == {
        "error": error, "error_description": _ascii(result.body()["resultMessage"])}


CODE_REQUEST = {"client_id": "1001", "response_type": "code", "state": "af0ifjsldkj"}
HYBRID_REQUEST = {"client_id": "1001", "response_type": "code id_token", "scope": "openid",
                  "redirect_uri": WEB_CB, "nonce": "n-0S6_WzA2Mj", "state": "af0ifjsldkj"}
PKCE_ON = {"pkceRequired": True}
S256_ON = {"pkceS256Required": True}

REDIRECTED = [
    ("response_type-missing", {"response_type": None}, {}, "A009301", "invalid_request", "query"),
    ("response_type-unknown", {"response_type": "code foo"}, {}, "A009360",
     "unsupported_response_type", "query"),
    ("response_type-value-repeated", {"response_type": "code code"}, {}, "A009360",
     "unsupported_response_type", "query"),
    ("response_type-not-supported-by-service", {"response_type": "token"},
     {"supportedResponseTypes": ["CODE"]}, "A009305", "unsupported_response_type", "fragment"),
    ("response_type-not-declared-by-client",
     {"client_id": "1006", "response_type": "code id_token"}, {}, "A009306",
     "unauthorized_client", "fragment"),
    ("response_mode-unknown", {"response_mode": "web_message"}, {}, "A004363", "invalid_request",
     "query"),
    ("response_mode-jwt", {"response_mode": "query.jwt"}, {}, "A004364", "invalid_request",
     "query"),
    ("response_mode-query-with-token", {"response_type": "token", "response_mode": "query"}, {},
     "A004365", "invalid_request", "fragment"),
    ("response_mode-query-with-id_token", {**HYBRID_REQUEST, "response_mode": "query"}, {},
     "A004365", "invalid_request", "fragment"),
    ("scope-repeated", {"scope": ["read", "write"]}, {}, "A004360", "invalid_request", "query"),
    ("request-object-required-by-service", {}, {"requestObjectRequired": True}, "A150301",
     "invalid_request", "query"),
    ("par-required-by-client", {"client_id": "1009"}, {}, "A150360", "invalid_request", "query"),
    ("scope-required-none-usable", {"scope": "admin"}, {
        "scopeRequired": True, "supportedScopes": [{"name": "read"}]}, "A007305",
     "invalid_scope", "query"),
    ("prompt-unknown", {"prompt": "always"}, {}, "A004366", "invalid_request", "query"),
    ("prompt-not-supported-by-service", {"prompt": "create"},
     {"supportedPromptValues": ["NONE", "LOGIN", "CONSENT"]}, "A004366", "invalid_request",
     "query"),
    ("prompt-none-with-login", {"prompt": "none login"}, {}, "A004367", "invalid_request",
     "query"),
    ("id_token-without-openid", {**HYBRID_REQUEST, "scope": "read"}, {}, "A004302",
     "invalid_request", "fragment"),
    ("nonce-missing", {**HYBRID_REQUEST, "nonce": None}, {}, "A014303", "invalid_request",
     "fragment"),
    ("offline_access-without-consent",
     {"scope": "openid offline_access", "redirect_uri": WEB_CB}, {}, "A004303",
     "invalid_request", "query"),
    ("pkce-required-by-service", {}, PKCE_ON, "A124301", "invalid_request", "query"),
    ("pkce-required-by-client", {"client_id": "1008"}, {}, "A124301", "invalid_request",
     "query"),
    ("code_challenge_method-unsupported",
     {"code_challenge": S256_CHALLENGE, "code_challenge_method": "S512"}, {}, "A124306",
     "invalid_request", "query"),
    ("s256-required-method-missing", {"code_challenge": PLAIN_CHALLENGE}, S256_ON, "A124307",
     "invalid_request", "query"),
    ("s256-required-plain-given",
     {"code_challenge": PLAIN_CHALLENGE, "code_challenge_method": "plain"}, S256_ON, "A124308",
     "invalid_request", "query"),
    ("code_challenge-too-short", {"code_challenge": "abc", "code_challenge_method": "S256"}, {},
     "A124360", "invalid_request", "query"),
    ("code_challenge-bad-character", {"code_challenge": S256_CHALLENGE[:-1] + "+"}, {},
     "A124360", "invalid_request", "query"),
    ("code_challenge_method-alone", {"code_challenge_method": "S256"}, {}, "A124361",
     "invalid_request", "query"),
    ("max_age-negative", {"max_age": "-1"}, {}, "A004368", "invalid_request", "query"),
    ("max_age-too-large", {"max_age": "99999999999"}, {}, "A004368", "invalid_request", "query"),
    ("max_age-0-with-prompt-none", {"prompt": "none", "max_age": "0"}, {}, "A004372",
     "login_required", "query"),
    ("display-unknown", {"display": "tv"}, {}, "A004369", "invalid_request", "query"),
    ("claims-not-json", {"claims": "{userinfo"}, {}, "A004370", "invalid_request", "query"),
    ("claims-userinfo-not-object", {"claims": '{"userinfo": ["email"]}'}, {}, "A004370",
     "invalid_request", "query"),
    ("claims-essential-not-boolean", {"claims": '{"id_token": {"acr": {"essential": "yes"}}}'},
     {}, "A004370", "invalid_request", "query"),
    ("resource-relative", {"resource": "/api"}, {}, "A004371", "invalid_target", "query"),
    ("error-by-form_post", {"response_mode": "form_post", "prompt": "always"}, {}, "A004366",
     "invalid_request", "form_post"),
]


def _encoded(values: dict) -> str:
    pairs = []
    for name, value in {**CODE_REQUEST, **values}.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                pairs.append((name, item))
    return urlencode(pairs)


@pytest.mark.parametrize(("values", "overrides", "code", "error", "mode"),
                         [case[1:] for case in REDIRECTED], ids=[case[0] for case in REDIRECTED])
async def test_refusal_goes_back_to_the_client(values, overrides, code, error, mode):
    failure = await refused(_encoded(values), **overrides)
    result = failure.to_result(service(**overrides).document)
    destination, received = delivered(result.action, result.response_content)
    assert failure.code.code == code
    assert result.action == ("FORM" if mode == "form_post" else "LOCATION") == failure.action
    assert failure.destination.response_mode == mode
    assert destination == values.get("redirect_uri", WEB_CB)
    assert received == {"error": error, "error_description": _ascii(result.body()["resultMessage"]),
                        "state": "af0ifjsldkj", "iss": ISSUER}


def _ascii(message: str) -> str:
    return message.replace("§", "Section ").replace('"', "'")


async def test_location_carries_the_error_in_the_query_of_the_registered_uri():
    failure = await refused(_encoded({"prompt": "always"}))
    location = failure.to_result(SERVICE_DOCUMENT).response_content
    assert location == (
        "https://client.example.org/cb?error=invalid_request&error_description=%5BA004366%5D+The"
        "+%27prompt%27+value+%27always%27+is+not+supported%3B+supported+values+are+none%2C+login"
        "%2C+consent%2C+select_account%2C+create+%28OIDC+Core+Section+3.1.2.1%29."
        "&state=af0ifjsldkj&iss=https%3A%2F%2Fas.example.com")


async def test_state_repeated_is_refused_without_echoing_a_state():
    failure = await refused(_encoded({"state": ["a", "b"]}))
    _, received = delivered(failure.action, failure.to_result(SERVICE_DOCUMENT).response_content)
    assert (failure.action, failure.code.code) == ("LOCATION", "A004360")
    assert received["error"] == "invalid_request" and "state" not in received


async def test_iss_suppressed_and_description_omitted():
    overrides = {"issSuppressed": True, "errorDescriptionOmitted": True}
    failure = await refused(_encoded({"prompt": "always"}), **overrides)
    result = failure.to_result(service(**overrides).document)
    assert delivered(result.action, result.response_content)[1] == {
        "error": "invalid_request", "state": "af0ifjsldkj"}


async def test_missing_parameters_are_the_callers_error():
    failure = await refused(None)
    result = failure.to_result(SERVICE_DOCUMENT)
    assert (result.action, result.code.code) == ("INTERNAL_SERVER_ERROR", "A004201")
    assert json.loads(result.response_content) == {
        "error": "server_error",
        "error_description": "[A004201] The authorization request from the service does not "
                             "contain 'parameters'."}


async def test_result_message_names_the_wrong_value():
    failure = await refused(web(response_type="code", redirect_uri="https://evil.example/cb"))
    assert failure.to_result(SERVICE_DOCUMENT).body()["resultMessage"] == (
        "[A011304] The 'redirect_uri' value 'https://evil.example/cb' is not registered for the "
        "client (ID = 1001) (RFC 6749 §3.1.2.3).")


# --- Accepted requests ---------------------------------------------------------------------------

async def parsed(parameters: str, **overrides) -> AuthorizationRequest:
    return await parse_authorization_request(parameters, service(**overrides), find_client)


async def test_code_request_with_every_default():
    request = await parsed(_encoded({}))
    assert asdict(request) == {
        "client_id": 1001, "client_id_alias_used": False, "response_type": "CODE",
        "redirect_uri": WEB_CB, "redirect_uri_explicit": False, "response_mode": "query",
        "scopes": ["read"], "state": "af0ifjsldkj", "nonce": None, "code_challenge": None,
        "code_challenge_method": None, "prompts": [], "max_age": None, "display": None,
        "ui_locales": [], "claims_locales": [], "acr_values": [], "claims": None,
        "login_hint": None, "id_token_hint": None, "openid": False, "resources": []}


ACCEPTED = [
    ("code-pkce-s256", {"code_challenge": S256_CHALLENGE, "code_challenge_method": "S256"},
     S256_ON | PKCE_ON, {"code_challenge": S256_CHALLENGE, "code_challenge_method": "S256"}),
    ("code-pkce-plain-by-default", {"code_challenge": PLAIN_CHALLENGE}, {},
     {"code_challenge": PLAIN_CHALLENGE, "code_challenge_method": "plain"}),
    ("pkce-not-needed-without-code", {"response_type": "token"}, PKCE_ON,
     {"response_type": "TOKEN", "code_challenge": None, "response_mode": "fragment"}),
    ("hybrid-code-id_token-fragment", HYBRID_REQUEST, {},
     {"response_type": "CODE_ID_TOKEN", "response_mode": "fragment", "openid": True,
      "scopes": ["openid"], "nonce": "n-0S6_WzA2Mj", "redirect_uri_explicit": True}),
    ("response_type-order-irrelevant", {**HYBRID_REQUEST, "response_type": "id_token code"}, {},
     {"response_type": "CODE_ID_TOKEN"}),
    ("response_type-none", {"response_type": "none"}, {},
     {"response_type": "NONE", "response_mode": "query"}),
    ("form_post", {**HYBRID_REQUEST, "response_mode": "form_post"}, {},
     {"response_mode": "form_post"}),
    ("fragment-for-code", {"response_mode": "fragment"}, {}, {"response_mode": "fragment"}),
    ("alias-used", {"client_id": "web-app"}, {},
     {"client_id": 1001, "client_id_alias_used": True}),
    ("default-scopes", {"scope": None}, {}, {"scopes": ["read"]}),
    ("unknown-scopes-dropped", {"scope": "profile admin email profile"}, {},
     {"scopes": ["profile", "email"]}),
    ("only-unknown-scopes-fall-back-to-default", {"scope": "admin"}, {}, {"scopes": ["read"]}),
    ("no-scope-allowed-when-not-required", {"scope": "admin"},
     {"supportedScopes": [{"name": "read"}]}, {"scopes": []}),
    ("requestable-scopes-filter",
     {"client_id": "1006", "scope": "openid read write", "redirect_uri": WEB_CB}, {},
     {"scopes": ["openid", "read"], "openid": True}),
    ("loopback-port-varies-for-native-ipv4",
     {"client_id": "1003", "redirect_uri": "http://127.0.0.1:51004/callback"}, {},
     {"redirect_uri": "http://127.0.0.1:51004/callback", "redirect_uri_explicit": True}),
    ("loopback-port-varies-for-native-ipv6",
     {"client_id": "1003", "redirect_uri": "http://[::1]:6000/callback"}, {},
     {"redirect_uri": "http://[::1]:6000/callback"}),
    ("native-private-use-scheme",
     {"client_id": "1003", "redirect_uri": "com.example.app:/oauth2redirect"}, {},
     {"redirect_uri": "com.example.app:/oauth2redirect"}),
    ("loopback-port-varies-when-service-allows",
     {"client_id": "1005", "redirect_uri": "http://127.0.0.1:9001/cb"},
     {"loopbackRedirectionUriVariable": True}, {"redirect_uri": "http://127.0.0.1:9001/cb"}),
    ("several-registered-one-named",
     {"client_id": "1002", "redirect_uri": "https://b.example.org/cb?x=1"}, {},
     {"redirect_uri": "https://b.example.org/cb?x=1"}),
    ("resource-repeatable", {"resource": ["https://api.example.com/", "https://rs.example/"]},
     {}, {"resources": ["https://api.example.com/", "https://rs.example/"]}),
    ("offline_access-with-consent",
     {"scope": "openid offline_access", "prompt": "login consent", "redirect_uri": WEB_CB}, {},
     {"scopes": ["openid", "offline_access"], "prompts": ["LOGIN", "CONSENT"]}),
    ("offline_access-ignored-without-code",
     {**HYBRID_REQUEST, "response_type": "id_token token", "scope": "openid offline_access"},
     {}, {"scopes": ["openid"], "response_type": "ID_TOKEN_TOKEN"}),
    ("oidc-parameters",
     {**HYBRID_REQUEST, "prompt": "none", "max_age": "30", "display": "popup",
      "ui_locales": "fr-CA fr en", "claims_locales": "ja", "acr_values": "urn:acr:pwd",
      "login_hint": "alice@example.com", "id_token_hint": "eyJ.x.y",
      "claims": '{"userinfo": {"email": null}, "id_token": {"acr": {"essential": true, '
                '"values": ["urn:acr:pwd"]}}}'}, {},
     {"prompts": ["NONE"], "max_age": 30, "display": "POPUP", "ui_locales": ["fr-CA", "fr", "en"],
      "claims_locales": ["ja"], "acr_values": ["urn:acr:pwd"], "login_hint": "alice@example.com",
      "id_token_hint": "eyJ.x.y",
      "claims": {"userinfo": {"email": None},
                 "id_token": {"acr": {"essential": True, "values": ["urn:acr:pwd"]}}}}),
    # OIDC Core §3.1.2.1: max_age=0 is equivalent to prompt=login.
    ("max_age-0-is-prompt-login", {"max_age": "0"}, {}, {"max_age": 0, "prompts": ["LOGIN"]}),
    ("max_age-0-with-prompt-consent", {"max_age": "0", "prompt": "consent"}, {},
     {"max_age": 0, "prompts": ["CONSENT", "LOGIN"]}),
    ("client-defaults-for-max_age-and-acr", {"client_id": "1010"}, {},
     {"max_age": 3600, "acr_values": ["urn:acr:mfa"]}),
    ("request-overrides-client-defaults", {"client_id": "1010", "max_age": "60",
                                           "acr_values": "urn:acr:pwd"}, {},
     {"max_age": 60, "acr_values": ["urn:acr:pwd"]}),
    ("blank-parameters-are-omitted", {"state": "", "nonce": ""}, {},
     {"state": None, "nonce": None}),
    ("unknown-parameters-ignored", {"foo": "bar"}, {}, {"response_type": "CODE"}),
]


@pytest.mark.parametrize(("values", "overrides", "expected"), [case[1:] for case in ACCEPTED],
                         ids=[case[0] for case in ACCEPTED])
async def test_accepted_request(values, overrides, expected):
    request = asdict(await parsed(_encoded(values), **overrides))
    assert {name: request[name] for name in expected} == expected


async def test_request_survives_a_json_round_trip():
    request = await parsed(_encoded({**HYBRID_REQUEST, "claims": '{"userinfo": {"email": null}}',
                                     "resource": "https://api.example.com/"}))
    stored = json.loads(json.dumps(request.to_dict()))
    assert AuthorizationRequest.from_dict(stored) == request


async def test_request_is_a_redirect_target_for_later_errors():
    """/auth/authorization/fail answers through the stored request (same destination rules)."""
    from app.protocol import result_codes as rc
    from app.protocol.authorization_response import error_result

    request = await parsed(_encoded(HYBRID_REQUEST))
    result = error_result(request, rc.AUTHZ_CLAIMS_INVALID, SERVICE_DOCUMENT, reason="x")
    assert result.action == "LOCATION"
    assert result.response_content.startswith(WEB_CB + "#error=invalid_request&")
    assert result.response_content.endswith("&state=af0ifjsldkj&iss=https%3A%2F%2Fas.example.com")

"""`/auth/introspection/standard` (reference §2.4) over HTTP: the RFC 7662 §2.2 answer for
active and inactive tokens, token properties, the RFC 9701 JWT answer, and the request errors."""

import json
from urllib.parse import urlencode

import pytest
import trio
from joserfc import jwt
from joserfc.jwk import KeySet

from app.protocol.authorization_response import oauth_description
from app.protocol.tokens import token_digest
from tests.support import OWNER, basic

pytestmark = pytest.mark.trio

ISSUER = "https://as.example.com"
JWT_ACCEPT = "application/token-introspection+jwt"
GRANTS = ["AUTHORIZATION_CODE", "REFRESH_TOKEN", "CLIENT_CREDENTIALS", "PASSWORD"]
PROPERTIES = [{"key": "tier", "value": "gold", "hidden": False},
              {"key": "ssn", "value": "123-45-6789", "hidden": True},
              {"key": "sub", "value": "mallory", "hidden": False}]


async def setup(node):
    service = (await node.http.post("/api/service/create", headers=OWNER, json={
        "serviceName": "Standard introspection", "issuer": ISSUER,
        "tokenEndpoint": f"{ISSUER}/token", "supportedGrantTypes": GRANTS,
        "supportedScopes": [{"name": "openid"}, {"name": "read"}]})).json()
    auth = basic(service["apiKey"], service["apiSecret"])
    client = (await node.http.post("/api/client/create", headers=auth, json={
        "clientName": "rp", "grantTypes": GRANTS, "responseTypes": ["CODE"],
        "redirectUris": ["https://rp.example.com/cb"]})).json()
    return service, auth, client


async def create_token(node, auth, client, **members):
    body = {"grantType": "AUTHORIZATION_CODE", "clientId": client["clientId"],
            "subject": "alice", "scopes": ["openid", "read"], **members}
    response = await node.http.post("/api/auth/token/create", json=body, headers=auth)
    assert response.json()["action"] == "OK", response.text
    return response.json()


async def standard(node, auth, form: dict | None = None, **members):
    body = {"parameters": urlencode(form or {}), **members}
    response = await node.http.post("/api/auth/introspection/standard", json=body,
                                    headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def content_of(result: dict) -> dict:
    assert (result["action"], result["resultCode"]) == ("OK", "A145001"), result
    return json.loads(result["responseContent"])


class Shifted:
    def __init__(self, clock, offset_ms: int) -> None:
        self._clock, self._offset = clock, offset_ms

    def now_ms(self) -> int:
        return self._clock.now_ms() + self._offset


# --- Active tokens (RFC 7662 §2.2) -------------------------------------------------------------

async def test_active_access_token_has_the_standard_members(node):
    _, auth, client = await setup(node)
    created = await create_token(node, auth, client, properties=PROPERTIES)
    result = await standard(node, auth, {"token": created["accessToken"]})
    exp = created["expiresAt"] // 1000
    assert content_of(result) == {
        "active": True, "scope": "openid read", "client_id": str(client["clientId"]),
        "token_type": "Bearer", "exp": exp, "iat": exp - created["expiresIn"], "sub": "alice",
        "iss": ISSUER, "tier": "gold"}
    assert result["resultMessage"] == (
        "[A145001] Introspection was performed successfully (type=access_token, active=true).")


@pytest.mark.parametrize(("with_hidden", "expected"), [
    (False, {"tier": "gold"}),
    (None, {"tier": "gold"}),
    (True, {"tier": "gold", "ssn": "123-45-6789"}),
], ids=["hidden-withheld", "hidden-null-means-no", "hidden-requested"])
async def test_properties_become_members_hidden_ones_only_on_request(sqlite_node, with_hidden,
                                                                     expected):
    _, auth, client = await setup(sqlite_node)
    created = await create_token(sqlite_node, auth, client, properties=PROPERTIES)
    content = content_of(await standard(sqlite_node, auth, {"token": created["accessToken"]},
                                        withHiddenProperties=with_hidden))
    extra = {k: v for k, v in content.items()
             if k not in {"active", "scope", "client_id", "token_type", "exp", "iat", "sub",
                          "iss"}}
    assert extra == expected
    assert content["sub"] == "alice", "a property never overrides a standard member"


async def test_client_credentials_token_has_no_subject(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    created = await create_token(sqlite_node, auth, client, grantType="CLIENT_CREDENTIALS",
                                 subject=None, scopes=[])
    content = content_of(await standard(sqlite_node, auth, {"token": created["accessToken"]}))
    assert "sub" not in content and "scope" not in content
    assert content["client_id"] == str(client["clientId"]) and content["active"] is True


@pytest.mark.parametrize("hint", ["refresh_token", None, "access_token", "id_token"],
                         ids=["hint-refresh", "no-hint", "wrong-hint", "unknown-hint-ignored"])
async def test_refresh_token_is_found_whatever_the_hint(node, hint):
    service, auth, client = await setup(node)
    created = await create_token(node, auth, client)
    form = {"token": created["refreshToken"]} | ({"token_type_hint": hint} if hint else {})
    result = await standard(node, auth, form)
    refresh = await node.started.context.storage.tokens.refresh_token(
        service["apiKey"], token_digest(created["refreshToken"]))
    assert content_of(result) == {
        "active": True, "scope": "openid read", "client_id": str(client["clientId"]),
        "exp": refresh.expires_at // 1000, "iat": refresh.created_at // 1000, "sub": "alice",
        "iss": ISSUER}, "no token_type: a refresh token has no RFC 6749 §5.1 type"
    assert "type=refresh_token, active=true" in result["resultMessage"]


# --- Inactive tokens: `{"active": false}` and nothing else -------------------------------------

async def test_unknown_token_is_inactive(node):
    _, auth, _ = await setup(node)
    result = await standard(node, auth, {"token": "never-issued"})
    assert result["responseContent"] == '{"active":false}'
    assert result["resultMessage"].endswith("(type=null, active=false).")


async def test_expired_access_token_is_inactive_while_its_refresh_token_lives(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    created = await create_token(sqlite_node, auth, client, accessTokenDuration=60)
    ctx = sqlite_node.started.context
    ctx.clock = Shifted(ctx.clock, 61_000)
    expired = await standard(sqlite_node, auth, {"token": created["accessToken"]})
    assert content_of(expired) == {"active": False}
    assert expired["resultMessage"].endswith("(type=access_token, active=false).")
    refresh = await standard(sqlite_node, auth, {"token": created["refreshToken"]})
    assert content_of(refresh)["active"] is True


async def test_rotated_refresh_token_is_inactive(node):
    _, auth, client = await setup(node)
    created = await create_token(node, auth, client)
    refreshed = (await node.http.post("/api/auth/token", headers=auth, json={
        "parameters": urlencode({"grant_type": "refresh_token",
                                 "refresh_token": created["refreshToken"]}),
        "clientId": str(client["clientId"]), "clientSecret": client["clientSecret"]})).json()
    assert refreshed["action"] == "OK", refreshed
    old = await standard(node, auth, {"token": created["refreshToken"],
                                      "token_type_hint": "refresh_token"})
    assert content_of(old) == {"active": False}
    new = json.loads(refreshed["responseContent"])["refresh_token"]
    assert content_of(await standard(node, auth, {"token": new}))["active"] is True


async def test_tokens_of_a_locked_client_are_inactive(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    created = await create_token(sqlite_node, auth, client)
    locked = await sqlite_node.http.post(f"/api/client/lock_flag/update/{client['clientId']}",
                                         json={"clientLocked": True}, headers=auth)
    assert locked.status_code == 200, locked.text
    for value in (created["accessToken"], created["refreshToken"]):
        assert content_of(await standard(sqlite_node, auth, {"token": value})) == {
            "active": False}


# --- Request errors ----------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "action", "code", "error"), [
    ({"parameters": ""}, "BAD_REQUEST", "A145302", "invalid_request"),
    ({"parameters": "token="}, "BAD_REQUEST", "A145302", "invalid_request"),
    ({"parameters": "token=a&token=b"}, "BAD_REQUEST", "A145303", "invalid_request"),
    ({"parameters": None}, "INTERNAL_SERVER_ERROR", "A145201", "server_error"),
    ({"parameters": "token=a", "httpAcceptHeader": JWT_ACCEPT, "introspectionSignAlg": "HS256"},
     "INTERNAL_SERVER_ERROR", "A145202", "server_error"),
    ({"parameters": "token=a", "httpAcceptHeader": JWT_ACCEPT, "introspectionSignAlg": "NONE"},
     "INTERNAL_SERVER_ERROR", "A145202", "server_error"),
    ({"parameters": "token=a", "httpAcceptHeader": JWT_ACCEPT, "introspectionSignAlg": "PS256"},
     "INTERNAL_SERVER_ERROR", "A145101", "server_error"),
    ({"parameters": "token=a", "introspectionEncryptionAlg": "RSA_OAEP_256"},
     "INTERNAL_SERVER_ERROR", "A145203", "server_error"),
], ids=["parameters-empty", "token-empty", "token-duplicated", "parameters-null",
        "shared-secret-alg", "alg-none", "alg-without-key", "encryption-requested"])
async def test_request_errors(sqlite_node, body, action, code, error):
    _, auth, _ = await setup(sqlite_node)
    response = await sqlite_node.http.post("/api/auth/introspection/standard", json=body,
                                           headers=auth)
    result = response.json()
    assert (response.status_code, result["action"], result["resultCode"]) == (200, action, code)
    assert json.loads(result["responseContent"]) == {
        # RFC 6749 §5.2 charset: the message with '§' spelled out.
        "error": error, "error_description": oauth_description(result["resultMessage"])}


async def test_duplicate_parameter_is_named(sqlite_node):
    _, auth, _ = await setup(sqlite_node)
    result = await standard(sqlite_node, auth, {}, parameters="token=a&token_type_hint=x"
                                                               "&token_type_hint=y")
    assert result["resultCode"] == "A145303" and "'token_type_hint'" in result["resultMessage"]


# --- RFC 9701: the JWT answer --------------------------------------------------------------------

async def verified(node, auth, result: dict, alg: str):
    assert (result["action"], result["resultCode"]) == ("JWT", "A145001"), result
    jwks = (await node.http.get("/api/service/jwks/get", headers=auth)).json()
    return jwt.decode(result["responseContent"], KeySet.import_key_set(jwks), algorithms=[alg])


@pytest.mark.parametrize(("accept", "members", "alg", "aud"), [
    (JWT_ACCEPT, {}, "RS256", ISSUER),
    (f"application/json;q=0.5, {JWT_ACCEPT}", {"introspectionSignAlg": "ES256",
                                               "rsUri": "https://rs.example.com"},
     "ES256", "https://rs.example.com"),
], ids=["default-alg-issuer-audience", "requested-alg-rs-audience"])
async def test_jwt_response_is_signed_with_a_service_key(node, accept, members, alg, aud):
    _, auth, client = await setup(node)
    created = await create_token(node, auth, client, properties=PROPERTIES)
    plain = content_of(await standard(node, auth, {"token": created["accessToken"]}))
    before_s = node.started.context.clock.now_ms() // 1000
    result = await standard(node, auth, {"token": created["accessToken"]},
                            httpAcceptHeader=accept, **members)
    decoded = await verified(node, auth, result, alg)
    assert decoded.header["typ"] == "token-introspection+jwt" and decoded.header["alg"] == alg
    claims = decoded.claims
    assert set(claims) == {"iss", "aud", "iat", "token_introspection"}
    assert (claims["iss"], claims["aud"]) == (ISSUER, aud)
    assert before_s <= claims["iat"] <= before_s + 5
    assert claims["token_introspection"] == plain


async def test_jwt_response_for_an_inactive_token(sqlite_node):
    _, auth, _ = await setup(sqlite_node)
    result = await standard(sqlite_node, auth, {"token": "never-issued"},
                            httpAcceptHeader=JWT_ACCEPT)
    decoded = await verified(sqlite_node, auth, result, "RS256")
    assert decoded.claims["token_introspection"] == {"active": False}


@pytest.mark.parametrize("accept", [None, "application/json", f"{JWT_ACCEPT};q=0"],
                         ids=["no-accept", "json", "jwt-refused-by-q0"])
async def test_json_unless_the_jwt_is_acceptable(sqlite_node, accept):
    _, auth, client = await setup(sqlite_node)
    created = await create_token(sqlite_node, auth, client)
    result = await standard(sqlite_node, auth, {"token": created["accessToken"]},
                            httpAcceptHeader=accept)
    assert content_of(result)["active"] is True


# --- Authlete's Python SDK, unchanged ------------------------------------------------------------

async def test_authlete_sdk_standard_introspection_with_jwt(sqlite_node):
    from authlete.api.authlete_api_impl import AuthleteApiImpl
    from authlete.conf.authlete_configuration import AuthleteConfiguration
    from authlete.dto.standard_introspection_action import StandardIntrospectionAction
    from authlete.dto.standard_introspection_request import StandardIntrospectionRequest
    from authlete.types.jws_alg import JWSAlg

    service, auth, client = await setup(sqlite_node)
    created = await create_token(sqlite_node, auth, client)
    configuration = AuthleteConfiguration()
    configuration.apiVersion = "V2"
    configuration.baseUrl = sqlite_node.base_url
    configuration.serviceApiKey = str(service["apiKey"])
    configuration.serviceApiSecret = service["apiSecret"]
    request = StandardIntrospectionRequest()
    request.parameters = urlencode({"token": created["accessToken"]})
    request.httpAcceptHeader = JWT_ACCEPT
    request.introspectionSignAlg = JWSAlg.ES256
    request.rsUri = "https://rs.example.com"
    # The SDK sends every other member as null; the node runs in this trio loop, so the
    # blocking SDK call goes to a thread.
    response = await trio.to_thread.run_sync(
        AuthleteApiImpl(configuration).standardIntrospection, request)
    assert response.action is StandardIntrospectionAction.JWT
    decoded = await verified(sqlite_node, auth, {"action": "JWT", "resultCode": "A145001",
                                                 "responseContent": response.responseContent},
                             "ES256")
    assert decoded.claims["token_introspection"]["sub"] == "alice"

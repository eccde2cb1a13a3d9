"""Discovery and JWKS (reference §2.11), info/echo/health, and the HTTP plumbing every API shares
(§1.1, §6): JSON errors for unknown paths and methods, body decoding, form bodies, size limit."""

import json

import pytest

from app import bootstrap
from tests.support import OWNER, basic, bearer

pytestmark = pytest.mark.trio

ISSUER = "https://as.example.com"
SERVICE = {
    "serviceName": "Discovery",
    "issuer": ISSUER,
    "authorizationEndpoint": f"{ISSUER}/authorize",
    "tokenEndpoint": f"{ISSUER}/token",
    "jwksUri": f"{ISSUER}/jwks",
    "supportedScopes": [{"name": "openid"}, {"name": "profile"}, {"name": "offline_access"}],
    "supportedGrantTypes": ["AUTHORIZATION_CODE", "REFRESH_TOKEN", "CLIENT_CREDENTIALS"],
    "supportedResponseTypes": ["CODE"],
}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


async def new_service(node, **members) -> tuple[dict, dict]:
    response = await node.http.post("/api/service/create", json={**SERVICE, **members},
                                    headers=OWNER)
    assert response.status_code == 200, response.text
    service = response.json()
    return service, basic(service["apiKey"], service["apiSecret"])


async def service_token(node, service: dict) -> str:
    ctx = node.started.context
    return await bootstrap.issue_access_token(ctx.storage, service["serviceOwnerNumber"],
                                              service["apiKey"], "test", ctx.clock.now_ms())


def is_indented(text: str) -> bool:
    return "\n  " in text


# --- /service/configuration ---------------------------------------------------------------------


async def test_configuration_is_built_from_the_service(node):
    """On both databases: the metadata names the service's values in RFC terms."""
    _, auth = await new_service(node)
    response = await node.http.get("/api/service/configuration", headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert document["issuer"] == ISSUER
    assert document["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert document["token_endpoint"] == f"{ISSUER}/token"
    assert document["jwks_uri"] == f"{ISSUER}/jwks"
    assert document["scopes_supported"] == ["openid", "profile", "offline_access"]
    assert document["grant_types_supported"] == ["authorization_code", "refresh_token",
                                                 "client_credentials"]
    assert document["response_types_supported"] == ["code"]
    algorithms = node.started.context.key_manager.algorithms()
    assert algorithms == ["RS256", "ES256"]
    assert document["id_token_signing_alg_values_supported"] == algorithms
    assert "userinfo_endpoint" not in document  # unset members are omitted, never null
    assert "apiSecret" not in json.dumps(document)


async def test_get_is_compact_unless_pretty(sqlite_node):
    _, auth = await new_service(sqlite_node)
    compact = await sqlite_node.http.get("/api/service/configuration", headers=auth)
    assert compact.status_code == 200 and "\n" not in compact.text
    pretty = await sqlite_node.http.get("/api/service/configuration?pretty=true", headers=auth)
    assert pretty.status_code == 200 and is_indented(pretty.text)
    assert pretty.json() == compact.json()


@pytest.mark.parametrize(("body", "indented"), [
    ({"pretty": True, "patch": None}, True),
    ({"pretty": False, "patch": None}, False),
    ({}, False),
], ids=["sdk-default-pretty", "sdk-compact", "empty-body"])
async def test_post_as_the_sdk_sends_it(sqlite_node, body, indented):
    _, auth = await new_service(sqlite_node)
    response = await sqlite_node.http.post("/api/service/configuration", json=body,
                                           headers=auth)
    assert response.status_code == 200, response.text
    assert is_indented(response.text) is indented
    assert response.json()["issuer"] == ISSUER


async def test_patch_adds_and_replaces_members(sqlite_node):
    _, auth = await new_service(sqlite_node)
    patch = json.dumps([
        {"op": "add", "path": "/frontchannel_logout_supported", "value": True},
        {"op": "replace", "path": "/issuer", "value": "https://patched.example.com"},
        {"op": "add", "path": "/scopes_supported/-", "value": "email"},
        {"op": "remove", "path": "/jwks_uri"},
    ])
    posted = await sqlite_node.http.post("/api/service/configuration",
                                         json={"pretty": False, "patch": patch}, headers=auth)
    assert posted.status_code == 200, posted.text
    document = posted.json()
    assert document["frontchannel_logout_supported"] is True
    assert document["issuer"] == "https://patched.example.com"
    assert document["scopes_supported"][-1] == "email"
    assert "jwks_uri" not in document
    got = await sqlite_node.http.get("/api/service/configuration", params={"patch": patch},
                                     headers=auth)
    assert got.status_code == 200 and got.json() == document


@pytest.mark.parametrize(("patch", "fragment"), [
    ('[{"op": "remove", "path": "/no_such_member"}]', "operation 0 (remove)"),
    ('[{"op": "add", "path": "/a", "value": 1}, {"op": "frob", "path": "/a"}]',
     "operation 1 (frob)"),
    ('[{"op": "test", "path": "/issuer", "value": "https://other"}]', "operation 0 (test)"),
    ("not json", "not valid JSON"),
], ids=["remove-missing", "unknown-op", "failed-test", "not-json"])
async def test_bad_patch_is_refused_naming_the_operation(sqlite_node, patch, fragment):
    _, auth = await new_service(sqlite_node)
    response = await sqlite_node.http.post("/api/service/configuration",
                                           json={"pretty": True, "patch": patch}, headers=auth)
    assert response.status_code == 400
    body = response.json()
    assert body["resultCode"] == "A031203"
    assert body["resultMessage"].startswith("[A031203] /service/configuration, ")
    assert fragment in body["resultMessage"]


async def test_configuration_on_the_v3_path_with_a_bearer_token(sqlite_node):
    service, auth = await new_service(sqlite_node)
    token = await service_token(sqlite_node, service)
    path = f"/api/{service['apiKey']}/service/configuration"
    v3 = await sqlite_node.http.post(path, json={"pretty": True, "patch": None},
                                     headers=bearer(token))
    assert v3.status_code == 200, v3.text
    v2 = await sqlite_node.http.get("/api/service/configuration", headers=auth)
    assert v3.json() == v2.json()
    basic_on_v3 = await sqlite_node.http.get(path, headers=auth)
    assert basic_on_v3.status_code == 401 and basic_on_v3.json()["resultCode"] == "A001207"


async def test_configuration_needs_service_credentials(sqlite_node):
    missing = await sqlite_node.http.get("/api/service/configuration")
    assert missing.status_code == 401 and missing.json()["resultCode"] == "A001202"
    owner = await sqlite_node.http.get("/api/service/configuration", headers=OWNER)
    assert owner.status_code == 401 and owner.json()["resultCode"] == "A003201"


# --- /service/jwks/get --------------------------------------------------------------------------


async def test_jwks_publishes_public_signing_keys_only(sqlite_node):
    _, auth = await new_service(sqlite_node)
    response = await sqlite_node.http.get("/api/service/jwks/get", headers=auth)
    assert response.status_code == 200, response.text
    assert is_indented(response.text)  # the SDK's default is pretty=True
    keys = response.json()["keys"]
    assert keys
    for key in keys:
        assert key["kid"] and key["use"] == "sig"
        assert key["alg"] in ("RS256", "ES256")
        assert not PRIVATE_MEMBERS & set(key), key
    assert {key["alg"] for key in keys} == {"RS256", "ES256"}
    assert len({key["kid"] for key in keys}) == len(keys)


@pytest.mark.parametrize("query", [
    "pretty=True&includePrivateKeys=False", "pretty=true&includePrivateKeys=false",
    "pretty=TRUE", "includePrivateKeys=False",
], ids=["python-sdk", "java-sdk", "upper-case", "defaults"])
async def test_jwks_query_booleans_in_any_case(sqlite_node, query):
    _, auth = await new_service(sqlite_node)
    response = await sqlite_node.http.get(f"/api/service/jwks/get?{query}", headers=auth)
    assert response.status_code == 200, response.text
    assert is_indented(response.text)


@pytest.mark.parametrize("value", ["False", "false"])
async def test_jwks_compact_when_not_pretty(sqlite_node, value):
    _, auth = await new_service(sqlite_node)
    response = await sqlite_node.http.get(f"/api/service/jwks/get?pretty={value}", headers=auth)
    assert response.status_code == 200
    assert "\n" not in response.text and " " not in response.text
    assert response.json()["keys"]


@pytest.mark.parametrize("value", ["True", "true"])
async def test_private_keys_are_never_exported(sqlite_node, value):
    _, auth = await new_service(sqlite_node)
    response = await sqlite_node.http.get(
        f"/api/service/jwks/get?pretty=True&includePrivateKeys={value}", headers=auth)
    assert response.status_code == 403
    assert response.json()["resultCode"] == "A001224"
    assert response.json()["resultMessage"].startswith("[A001224] /service/jwks/get, ")


async def test_jwks_rejects_a_query_boolean_it_cannot_read(sqlite_node):
    _, auth = await new_service(sqlite_node)
    response = await sqlite_node.http.get("/api/service/jwks/get?pretty=yes", headers=auth)
    assert response.status_code == 400
    assert response.json()["resultCode"] == "A031204"
    assert "'pretty'" in response.json()["resultMessage"]


async def test_jwks_on_the_v3_path(sqlite_node):
    service, auth = await new_service(sqlite_node)
    token = await service_token(sqlite_node, service)
    v3 = await sqlite_node.http.get(f"/api/{service['apiKey']}/service/jwks/get",
                                    headers=bearer(token))
    v2 = await sqlite_node.http.get("/api/service/jwks/get", headers=auth)
    assert v3.status_code == 200 and v3.json() == v2.json()


# --- info, echo, health -------------------------------------------------------------------------


async def test_info_is_public(sqlite_node):
    response = await sqlite_node.http.get("/api/info")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Tessera" and body["version"]
    assert body["apiVersions"] == ["V2", "V3"]
    assert body["signingAlgorithms"] == ["RS256", "ES256"]


@pytest.mark.parametrize("path", ["/misc/echo", "/api/misc/echo"])
async def test_echo_returns_the_query_to_any_credential(sqlite_node, path):
    service, auth = await new_service(sqlite_node)
    token = await service_token(sqlite_node, service)
    for headers in (auth, OWNER, bearer(token)):
        response = await sqlite_node.http.get(path, params={"a": "1", "b": "two"},
                                              headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"a": "1", "b": "two"}


@pytest.mark.parametrize("path", ["/misc/echo", "/api/misc/echo"])
async def test_echo_requires_credentials(sqlite_node, path):
    missing = await sqlite_node.http.get(path, params={"a": "1"})
    assert missing.status_code == 401
    assert missing.json()["resultCode"] == "A001202"
    wrong = await sqlite_node.http.get(path, headers=basic("7700112233", "wrong"))
    assert wrong.status_code == 401 and wrong.json()["resultCode"] == "A002205"


@pytest.mark.parametrize("path", ["/health", "/api/lifecycle/healthcheck"])
async def test_liveness(sqlite_node, path):
    response = await sqlite_node.http.get(path)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_ready_once_started(sqlite_node):
    response = await sqlite_node.http.get("/ready")
    assert response.status_code == 200 and response.json() == {"status": "ready"}


# --- plumbing: unknown paths and methods, bodies ------------------------------------------------


@pytest.mark.parametrize("path", ["/api/no/such/api", "/nothing", "/api/123/no/such/api"])
async def test_unknown_path_is_a_json_404(sqlite_node, path):
    response = await sqlite_node.http.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["resultCode"] == "A001225"
    assert "no such API" in response.json()["resultMessage"]


@pytest.mark.parametrize(("method", "path"), [
    ("DELETE", "/api/info"), ("POST", "/api/service/jwks/get"), ("GET", "/api/client/create"),
], ids=["delete-info", "post-jwks", "get-create"])
async def test_wrong_method_is_a_json_405(sqlite_node, method, path):
    response = await sqlite_node.http.request(method, path, headers=OWNER)
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["resultCode"] == "A001226"
    assert method in response.json()["resultMessage"]


@pytest.mark.parametrize(("content", "fragment"), [
    (b"{not json", "Expecting property name"),
    (b"[1, 2]", "it is a JSON list"),
    (b'"text"', "it is a JSON str"),
    (b"\xff\xfe", ""),
], ids=["malformed", "array", "string", "not-utf8"])
async def test_body_that_is_not_a_json_object_is_refused(sqlite_node, content, fragment):
    _, auth = await new_service(sqlite_node)
    response = await sqlite_node.http.post(
        "/api/client/create", content=content,
        headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    assert body["resultCode"] == "A001204"
    assert body["resultMessage"].startswith("[A001204] /client/create, ")
    assert fragment in body["resultMessage"]


async def test_json_content_type_on_a_bodyless_get_is_accepted(sqlite_node):
    """The SDK sends Content-Type: application/json on every request (reference §1.2)."""
    _, auth = await new_service(sqlite_node)
    response = await sqlite_node.http.get(
        "/api/client/get/list", headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 200


async def new_client(node, auth) -> dict:
    body = {"clientName": "Form", "redirectUris": ["https://rp.example.com/cb"]}
    response = await node.http.post("/api/client/create", json=body, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_form_body_is_accepted_for_a_post_api(sqlite_node):
    _, auth = await new_service(sqlite_node)
    client = await new_client(sqlite_node, auth)
    secret = "a-new-secret-of-sufficient-length-0123456789"
    response = await sqlite_node.http.post(
        f"/api/client/secret/update/{client['clientId']}", data={"clientSecret": secret},
        headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["resultCode"] == "A149001"
    assert response.json()["newClientSecret"] == secret
    got = await sqlite_node.http.get(f"/api/client/get/{client['clientId']}", headers=auth)
    assert got.json()["clientSecret"] == secret


@pytest.mark.parametrize(("value", "locked"), [("true", True), ("false", False),
                                                ("True", True)])
async def test_form_encoded_lock_flag_is_read_as_a_boolean(sqlite_node, value, locked):
    """Form fields are strings; `clientLocked=true` is the only way a form can say true."""
    _, auth = await new_service(sqlite_node)
    client = await new_client(sqlite_node, auth)
    response = await sqlite_node.http.post(
        f"/api/client/lock_flag/update/{client['clientId']}", data={"clientLocked": value},
        headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["resultCode"] == "A293001"
    got = await sqlite_node.http.get(f"/api/client/get/{client['clientId']}", headers=auth)
    assert got.json()["locked"] is locked


async def test_form_encoded_lock_flag_that_is_not_a_boolean_is_refused(sqlite_node):
    _, auth = await new_service(sqlite_node)
    client = await new_client(sqlite_node, auth)
    response = await sqlite_node.http.post(
        f"/api/client/lock_flag/update/{client['clientId']}", data={"clientLocked": "maybe"},
        headers=auth)
    assert response.status_code == 400
    assert response.json()["resultCode"] == "A031202"
    assert "'clientLocked'" in response.json()["resultMessage"]


async def test_json_string_is_not_a_boolean_for_the_lock_flag(sqlite_node):
    _, auth = await new_service(sqlite_node)
    client = await new_client(sqlite_node, auth)
    response = await sqlite_node.http.post(
        f"/api/client/lock_flag/update/{client['clientId']}", json={"clientLocked": "true"},
        headers=auth)
    assert response.status_code == 400
    assert response.json()["resultCode"] == "A031202"


async def test_form_encoded_configuration_request(sqlite_node):
    _, auth = await new_service(sqlite_node)
    response = await sqlite_node.http.post("/api/service/configuration",
                                           data={"pretty": "true"}, headers=auth)
    assert response.status_code == 200, response.text
    assert is_indented(response.text)


async def test_oversized_body_is_a_json_413(sqlite_node):
    _, auth = await new_service(sqlite_node)
    body = b'{"clientName": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await sqlite_node.http.post(
        "/api/client/create", content=body, headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["resultCode"] == "A001227"
    assert "exceeds 1048576 bytes" in response.json()["resultMessage"]
    # The unread body makes the connection unusable; the client is told not to reuse it.
    assert response.headers["connection"] == "close"
    # The node is still healthy afterwards.
    assert (await sqlite_node.http.get("/health")).status_code == 200

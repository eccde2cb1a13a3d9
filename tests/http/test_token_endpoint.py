"""`/auth/token` and its PASSWORD follow-ups (reference §2.2) over HTTP: client credentials,
password, refresh with rotation and reuse detection, and the client-facing errors."""

import json
from urllib.parse import urlencode

import pytest
import trio

from tests.support import OWNER, basic

pytestmark = pytest.mark.trio

GRANTS = ["AUTHORIZATION_CODE", "REFRESH_TOKEN", "CLIENT_CREDENTIALS", "PASSWORD"]


async def setup(node, service_members=None, client_members=None):
    body = {"serviceName": "Token endpoint", "issuer": "https://as.example.com",
            "tokenEndpoint": "https://as.example.com/token", "supportedGrantTypes": GRANTS,
            "supportedScopes": [{"name": "read", "defaultEntry": True}, {"name": "write"},
                                {"name": "admin"}], **(service_members or {})}
    service = (await node.http.post("/api/service/create", json=body, headers=OWNER)).json()
    auth = basic(service["apiKey"], service["apiSecret"])
    client_body = {"clientName": "rp", "grantTypes": GRANTS, "responseTypes": ["CODE"],
                   "redirectUris": ["https://rp.example.com/cb"], **(client_members or {})}
    client = (await node.http.post("/api/client/create", json=client_body, headers=auth)).json()
    return service, auth, client


async def token(node, auth, client, form: dict, *, basic_secret=True, **members):
    body = {"parameters": urlencode(form), **members}
    if basic_secret:
        body |= {"clientId": str(client["clientId"]), "clientSecret": client["clientSecret"]}
    response = await node.http.post("/api/auth/token", json=body, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_client_credentials_with_basic_and_with_post(node):
    _, auth, client = await setup(node)
    result = await token(node, auth, client, {"grant_type": "client_credentials",
                                              "scope": "read write unknown"})
    assert (result["action"], result["resultCode"]) == ("OK", "A052001")
    content = json.loads(result["responseContent"])
    assert content["token_type"] == "Bearer" and content["scope"] == "read write"
    assert "refresh_token" not in content and content["expires_in"] == 86400
    assert result["clientAuthMethod"] == "CLIENT_SECRET_BASIC"

    posted = await token(node, auth, client, {"grant_type": "client_credentials"},
                         basic_secret=False)
    assert posted["action"] == "INVALID_CLIENT", "the client registered client_secret_basic"
    introspected = (await node.http.post("/api/auth/introspection", headers=auth, json={
        "token": content["access_token"]})).json()
    assert introspected["action"] == "OK" and introspected["subject"] is None


@pytest.mark.parametrize(("form", "members", "action", "code", "error"), [
    ({"grant_type": "client_credentials"}, {"clientSecret": "wrong"}, "INVALID_CLIENT",
     "A157372", "invalid_client"),
    ({}, {}, "BAD_REQUEST", "A049301", "invalid_request"),
    ({"grant_type": "magic"}, {}, "BAD_REQUEST", "A049303", "unsupported_grant_type"),
    ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, {}, "BAD_REQUEST",
     "A049303", "unsupported_grant_type"),
    ({"grant_type": "refresh_token"}, {}, "BAD_REQUEST", "A053301", "invalid_request"),
    ({"grant_type": "refresh_token", "refresh_token": "nope"}, {}, "BAD_REQUEST", "A053305",
     "invalid_grant"),
    ({"grant_type": "password", "username": "alice"}, {}, "BAD_REQUEST", "A051301",
     "invalid_request"),
], ids=["wrong-secret", "no-grant-type", "unknown-grant-type", "unimplemented-grant-type",
        "refresh-token-missing", "refresh-token-unknown", "password-missing"])
async def test_client_facing_errors_are_actions_with_oauth_json(sqlite_node, form, members,
                                                                action, code, error):
    _, auth, client = await setup(sqlite_node)
    body = {"parameters": urlencode(form), "clientId": str(client["clientId"]),
            "clientSecret": client["clientSecret"], **members}
    result = (await sqlite_node.http.post("/api/auth/token", json=body, headers=auth)).json()
    assert (result["action"], result["resultCode"]) == (action, code)
    content = json.loads(result["responseContent"])
    assert content["error"] == error and content["error_description"].startswith(f"[{code}]")


async def test_duplicated_parameter_and_missing_parameters(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    body = {"parameters": "grant_type=client_credentials&grant_type=password",
            "clientId": str(client["clientId"]), "clientSecret": client["clientSecret"]}
    result = (await sqlite_node.http.post("/api/auth/token", json=body, headers=auth)).json()
    assert (result["action"], result["resultCode"]) == ("BAD_REQUEST", "A049302")
    assert "'grant_type'" in result["resultMessage"]
    result = (await sqlite_node.http.post("/api/auth/token", json={}, headers=auth)).json()
    assert (result["action"], result["resultCode"]) == ("INTERNAL_SERVER_ERROR", "A049201")


async def test_grant_type_must_be_supported_and_declared(sqlite_node):
    _, auth, client = await setup(sqlite_node, client_members={
        "grantTypes": ["AUTHORIZATION_CODE"]})
    result = await token(sqlite_node, auth, client, {"grant_type": "client_credentials"})
    assert (result["action"], result["resultCode"]) == ("BAD_REQUEST", "A047302")
    assert json.loads(result["responseContent"])["error"] == "unauthorized_client"
    _, auth, client = await setup(sqlite_node, service_members={
        "supportedGrantTypes": ["AUTHORIZATION_CODE"]})
    result = await token(sqlite_node, auth, client, {"grant_type": "client_credentials"})
    assert (result["action"], result["resultCode"]) == ("BAD_REQUEST", "A049305")


async def test_public_clients_cannot_use_client_credentials(sqlite_node):
    _, auth, client = await setup(sqlite_node, client_members={"clientType": "PUBLIC"})
    result = await token(sqlite_node, auth, client, {
        "grant_type": "client_credentials", "client_id": str(client["clientId"])},
        basic_secret=False)
    assert (result["action"], result["resultCode"]) == ("BAD_REQUEST", "A052301")


async def test_locked_client_is_an_invalid_client(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    await sqlite_node.http.post(f"/api/client/lock_flag/update/{client['clientId']}",
                                json={"clientLocked": True}, headers=auth)
    result = await token(sqlite_node, auth, client, {"grant_type": "client_credentials"})
    assert (result["action"], result["resultCode"]) == ("INVALID_CLIENT", "A047304")


async def password_tokens(node, auth, client, **issue_members):
    started = await token(node, auth, client, {"grant_type": "password", "username": "alice",
                                               "password": "s3cret", "scope": "read write"})
    assert (started["action"], started["resultCode"]) == ("PASSWORD", "A051001")
    assert (started["username"], started["password"]) == ("alice", "s3cret")
    issued = (await node.http.post("/api/auth/token/issue", headers=auth, json={
        "ticket": started["ticket"], "subject": "alice", **issue_members})).json()
    return started, issued


async def test_password_grant_issue_then_ticket_is_spent(node):
    _, auth, client = await setup(node)
    started, issued = await password_tokens(
        node, auth, client, properties=[{"key": "region", "value": "eu", "hidden": False}])
    assert (issued["action"], issued["resultCode"]) == ("OK", "A054001")
    content = json.loads(issued["responseContent"])
    assert content["scope"] == "read write" and content["refresh_token"]
    assert content["region"] == "eu", "visible properties are echoed in the token response"
    again = (await node.http.post("/api/auth/token/issue", headers=auth, json={
        "ticket": started["ticket"], "subject": "alice"})).json()
    assert (again["action"], again["resultCode"]) == ("INTERNAL_SERVER_ERROR", "A054203")


async def test_password_grant_fail(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    started = await token(sqlite_node, auth, client, {"grant_type": "password",
                                                      "username": "a", "password": "b"})
    failed = (await sqlite_node.http.post("/api/auth/token/fail", headers=auth, json={
        "ticket": started["ticket"], "reason": "INVALID_RESOURCE_OWNER_CREDENTIALS"})).json()
    assert (failed["action"], failed["resultCode"]) == ("BAD_REQUEST", "A067301")
    assert json.loads(failed["responseContent"])["error"] == "invalid_grant"


async def test_refresh_rotates_and_reuse_revokes_the_family(node):
    _, auth, client = await setup(node)
    _, issued = await password_tokens(node, auth, client)
    first = json.loads(issued["responseContent"])
    refreshed = await token(node, auth, client, {"grant_type": "refresh_token",
                                                 "refresh_token": first["refresh_token"],
                                                 "scope": "read"})
    assert (refreshed["action"], refreshed["resultCode"]) == ("OK", "A053001")
    second = json.loads(refreshed["responseContent"])
    assert second["refresh_token"] != first["refresh_token"] and second["scope"] == "read"
    assert refreshed["refreshTokenScopes"] == ["read", "write"], "RFC 6749 §6: RT scope kept"
    old_access = (await node.http.post("/api/auth/introspection", headers=auth, json={
        "token": first["access_token"]})).json()
    assert old_access["resultCode"] == "A088302", "refreshing replaces the coupled token"

    reused = await token(node, auth, client, {"grant_type": "refresh_token",
                                              "refresh_token": first["refresh_token"]})
    assert (reused["action"], reused["resultCode"]) == ("BAD_REQUEST", "A053310")
    latest = (await node.http.post("/api/auth/introspection", headers=auth, json={
        "token": second["access_token"]})).json()
    assert latest["resultCode"] == "A088302", "reuse revoked the whole grant"
    dead = await token(node, auth, client, {"grant_type": "refresh_token",
                                            "refresh_token": second["refresh_token"]})
    assert dead["action"] == "BAD_REQUEST"


async def test_refresh_scope_cannot_widen_and_kept_tokens_stay_valid(sqlite_node):
    _, auth, client = await setup(sqlite_node, service_members={"refreshTokenKept": True})
    _, issued = await password_tokens(sqlite_node, auth, client)
    first = json.loads(issued["responseContent"])
    wider = await token(sqlite_node, auth, client, {"grant_type": "refresh_token",
                                                    "refresh_token": first["refresh_token"],
                                                    "scope": "read admin"})
    assert (wider["action"], wider["resultCode"]) == ("BAD_REQUEST", "A053309")
    for _ in range(2):
        kept = await token(sqlite_node, auth, client, {"grant_type": "refresh_token",
                                                       "refresh_token": first["refresh_token"]})
        assert kept["action"] == "OK"
        assert json.loads(kept["responseContent"])["refresh_token"] == first["refresh_token"]


async def test_refresh_token_of_another_client_is_refused(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    other = (await sqlite_node.http.post("/api/client/create", headers=auth, json={
        "clientName": "other", "grantTypes": GRANTS, "responseTypes": ["CODE"],
        "redirectUris": ["https://other.example.com/cb"]})).json()
    _, issued = await password_tokens(sqlite_node, auth, client)
    stolen = json.loads(issued["responseContent"])["refresh_token"]
    result = await token(sqlite_node, auth, other, {"grant_type": "refresh_token",
                                                    "refresh_token": stolen})
    assert (result["action"], result["resultCode"]) == ("BAD_REQUEST", "A053307")


@pytest.mark.postgres
async def test_concurrent_refreshes_on_postgres_exactly_one_wins(nursery, postgres_url,
                                                                tmp_path):
    from tests.conftest import _running_node
    from tests.support import node_settings

    async with _running_node(nursery, node_settings(postgres_url, tmp_path)) as node:
        _, auth, client = await setup(node)
        _, issued = await password_tokens(node, auth, client)
        refresh_token = json.loads(issued["responseContent"])["refresh_token"]
        results = []

        async def redeem():
            results.append(await token(node, auth, client, {"grant_type": "refresh_token",
                                                            "refresh_token": refresh_token}))
        async with trio.open_nursery() as racers:
            for _ in range(6):
                racers.start_soon(redeem)
        assert [r["action"] for r in results].count("OK") == 1
        # The first loser sees a rotated token (reuse: the grant is revoked); later ones may
        # find it already gone with its grant.
        refused = {r["resultCode"] for r in results if r["action"] != "OK"}
        assert "A053310" in refused and refused <= {"A053310", "A053305"}


async def revoke(node, auth, client, form: dict, **members):
    body = {"parameters": urlencode(form), "clientId": str(client["clientId"]),
            "clientSecret": client["clientSecret"], **members}
    response = await node.http.post("/api/auth/revocation", json=body, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def introspection_code(node, auth, token_value: str) -> str:
    return (await node.http.post("/api/auth/introspection", headers=auth,
                                 json={"token": token_value})).json()["resultCode"]


async def test_revoking_a_refresh_token_revokes_its_grant(node):
    _, auth, client = await setup(node)
    _, issued = await password_tokens(node, auth, client)
    tokens = json.loads(issued["responseContent"])
    result = await revoke(node, auth, client, {"token": tokens["refresh_token"],
                                               "token_type_hint": "refresh_token"})
    assert (result["action"], result["resultCode"]) == ("OK", "A113001")
    assert await introspection_code(node, auth, tokens["access_token"]) == "A088302"
    refreshed = await token(node, auth, client, {"grant_type": "refresh_token",
                                                 "refresh_token": tokens["refresh_token"]})
    assert refreshed["action"] == "BAD_REQUEST"


async def test_revoking_an_access_token_keeps_the_refresh_token(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    _, issued = await password_tokens(sqlite_node, auth, client)
    tokens = json.loads(issued["responseContent"])
    result = await revoke(sqlite_node, auth, client, {"token": tokens["access_token"]})
    assert result["action"] == "OK"
    assert await introspection_code(sqlite_node, auth, tokens["access_token"]) == "A088302"
    refreshed = await token(sqlite_node, auth, client, {
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed["action"] == "OK"


async def test_another_clients_token_is_not_revoked_but_the_answer_is_the_same(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    other = (await sqlite_node.http.post("/api/client/create", headers=auth, json={
        "clientName": "other", "grantTypes": GRANTS, "responseTypes": ["CODE"],
        "redirectUris": ["https://other.example.com/cb"]})).json()
    _, issued = await password_tokens(sqlite_node, auth, client)
    tokens = json.loads(issued["responseContent"])
    result = await revoke(sqlite_node, auth, other, {"token": tokens["access_token"]})
    assert (result["action"], result["resultCode"]) == ("OK", "A113001")
    assert await introspection_code(sqlite_node, auth, tokens["access_token"]) == "A056001"
    unknown = await revoke(sqlite_node, auth, client, {"token": "never-issued"})
    assert unknown["action"] == "OK", "RFC 7009 §2.2: invalid tokens do not cause an error"


@pytest.mark.parametrize(("form", "members", "action", "code"), [
    ({}, {}, "BAD_REQUEST", "A115301"),
    ({"token": "x", "token_type_hint": "id_token"}, {}, "OK", "A113001"),
    ({"token": "x"}, {"clientSecret": "wrong"}, "INVALID_CLIENT", "A157372"),
    ({"token": "x"}, {"parameters": None}, "INTERNAL_SERVER_ERROR", "A115201"),
], ids=["token-missing", "unknown-hint-ignored", "wrong-secret", "parameters-null"])
async def test_revocation_errors(sqlite_node, form, members, action, code):
    _, auth, client = await setup(sqlite_node)
    result = await revoke(sqlite_node, auth, client, form, **members)
    assert (result["action"], result["resultCode"]) == (action, code)


async def test_jwt_access_tokens_when_the_service_sets_a_signing_algorithm(sqlite_node):
    from joserfc import jwt
    from joserfc.jwk import KeySet

    _, auth, client = await setup(sqlite_node, service_members={"accessTokenSignAlg": "ES256"})
    result = await token(sqlite_node, auth, client, {"grant_type": "client_credentials",
                                                     "scope": "read"})
    access_token = json.loads(result["responseContent"])["access_token"]
    jwks = (await sqlite_node.http.get("/api/service/jwks/get", headers=auth)).json()
    decoded = jwt.decode(access_token, KeySet.import_key_set(jwks), algorithms=["ES256"])
    assert decoded.header["typ"] == "at+jwt"
    assert decoded.claims["client_id"] == str(client["clientId"])
    assert decoded.claims["sub"] == str(client["clientId"]), "RFC 9068 §2.2"
    assert decoded.claims["scope"] == "read" and decoded.claims["iss"] == "https://as.example.com"
    introspected = (await sqlite_node.http.post("/api/auth/introspection", headers=auth,
                                                json={"token": access_token})).json()
    assert introspected["action"] == "OK"


@pytest.mark.parametrize(("service_members", "same_expiry"), [
    ({"refreshTokenDurationKept": True}, True),
    ({}, False),
    ({"refreshTokenKept": True, "refreshTokenDurationReset": True}, False),
    ({"refreshTokenKept": True}, True),
], ids=["rotated-duration-kept", "rotated-duration-renewed", "kept-duration-reset",
        "kept-duration-unchanged"])
async def test_refresh_token_lifetime_policies(sqlite_node, service_members, same_expiry):
    _, auth, client = await setup(sqlite_node, service_members=service_members)
    _, issued = await password_tokens(sqlite_node, auth, client)
    await trio.sleep(0.05)  # so that a renewed expiry is visibly later (epoch ms)
    refreshed = await token(sqlite_node, auth, client, {
        "grant_type": "refresh_token",
        "refresh_token": json.loads(issued["responseContent"])["refresh_token"]})
    assert refreshed["action"] == "OK"
    before, after = issued["refreshTokenExpiresAt"], refreshed["refreshTokenExpiresAt"]
    assert (after == before) is same_expiry, (before, after)
    if not same_expiry:
        assert after > before

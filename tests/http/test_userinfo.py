"""`/auth/userinfo` and `/auth/userinfo/issue` (reference §2.6, OpenID Connect Core §5.3)."""

import json

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support import OWNER, basic

pytestmark = pytest.mark.trio


async def setup(node, **client_members):
    service = (await node.http.post("/api/service/create", headers=OWNER, json={
        "serviceName": "UserInfo", "issuer": "https://as.example.com",
        "supportedScopes": [{"name": "openid"}, {"name": "profile"}, {"name": "email"}],
    })).json()
    auth = basic(service["apiKey"], service["apiSecret"])
    client = (await node.http.post("/api/client/create", headers=auth, json={
        "clientName": "rp", "redirectUris": ["https://rp.example.com/cb"], **client_members,
    })).json()
    return service, auth, client


async def access_token(node, auth, client, scopes):
    created = (await node.http.post("/api/auth/token/create", headers=auth, json={
        "grantType": "AUTHORIZATION_CODE", "clientId": client["clientId"], "subject": "alice",
        "scopes": scopes})).json()
    return created["accessToken"]


USER = {"name": "Alice Liddell", "email": "alice@example.com", "email_verified": True,
        "phone_number": "+1 555 0100"}


async def test_userinfo_lists_the_claims_of_the_scopes_and_issue_returns_only_those(node):
    _, auth, client = await setup(node)
    token = await access_token(node, auth, client, ["openid", "email"])
    info = (await node.http.post("/api/auth/userinfo", headers=auth,
                                 json={"token": token})).json()
    assert (info["action"], info["resultCode"]) == ("OK", "A091001")
    assert info["subject"] == "alice" and info["claims"] == ["email", "email_verified"]
    issued = (await node.http.post("/api/auth/userinfo/issue", headers=auth, json={
        "token": token, "claims": json.dumps(USER)})).json()
    assert (issued["action"], issued["resultCode"]) == ("JSON", "A096001")
    assert json.loads(issued["responseContent"]) == {
        "sub": "alice", "email": "alice@example.com", "email_verified": True}


async def test_signed_userinfo_verifies_against_the_service_jwks(sqlite_node):
    _, auth, client = await setup(sqlite_node, userInfoSignAlg="ES256")
    token = await access_token(sqlite_node, auth, client, ["openid", "profile"])
    issued = (await sqlite_node.http.post("/api/auth/userinfo/issue", headers=auth, json={
        "token": token, "claims": json.dumps(USER)})).json()
    assert issued["action"] == "JWT"
    jwks = (await sqlite_node.http.get("/api/service/jwks/get", headers=auth)).json()
    decoded = jwt.decode(issued["responseContent"], KeySet.import_key_set(jwks),
                         algorithms=["ES256"])
    assert decoded.claims["sub"] == "alice" and decoded.claims["name"] == "Alice Liddell"
    assert decoded.claims["iss"] == "https://as.example.com"
    assert decoded.claims["aud"] == str(client["clientId"])
    assert "email" not in decoded.claims


@pytest.mark.parametrize(("scopes", "token_value", "action", "code", "error"), [
    (["email"], None, "FORBIDDEN", "A089304", "insufficient_scope"),
    (["openid"], "unknown", "UNAUTHORIZED", "A088302", "invalid_token"),
    (["openid"], "", "BAD_REQUEST", "A091201", "invalid_request"),
], ids=["no-openid-scope", "unknown-token", "token-missing"])
async def test_userinfo_refusals(sqlite_node, scopes, token_value, action, code, error):
    _, auth, client = await setup(sqlite_node)
    token = await access_token(sqlite_node, auth, client, scopes)
    body = {"token": token if token_value is None else token_value}
    result = (await sqlite_node.http.post("/api/auth/userinfo", headers=auth, json=body)).json()
    assert (result["action"], result["resultCode"]) == (action, code)
    assert f'error="{error}"' in result["responseContent"]

"""Token management (reference §2.3) and introspection (§2.4) over HTTP, on both databases."""

import hashlib

import pytest

from tests.support import OWNER, basic

pytestmark = pytest.mark.trio


async def service_with_client(node, **service_members):
    body = {"serviceName": "Tokens", "clientIdAliasEnabled": True,
            "supportedScopes": [{"name": "openid"}, {"name": "read"},
                                {"name": "short", "attributes": [
                                    {"key": "access_token.duration", "value": "60"}]}],
            **service_members}
    service = (await node.http.post("/api/service/create", json=body, headers=OWNER)).json()
    auth = basic(service["apiKey"], service["apiSecret"])
    client = (await node.http.post("/api/client/create", headers=auth, json={
        "clientName": "rp", "clientIdAlias": "rp", "clientIdAliasEnabled": True,
        "redirectUris": ["https://rp.example.com/cb"]})).json()
    return service, auth, client


async def create(node, auth, **members):
    response = await node.http.post("/api/auth/token/create", json=members, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def introspect(node, auth, **members):
    response = await node.http.post("/api/auth/introspection", json=members, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_created_token_introspects_with_its_properties(node):
    _service, auth, client = await service_with_client(node)
    created = await create(node, auth, grantType="AUTHORIZATION_CODE",
                           clientId=client["clientId"], subject="alice",
                           scopes=["openid", "read"],
                           properties=[{"key": "tier", "value": "gold", "hidden": True}])
    assert (created["action"], created["resultCode"]) == ("OK", "A109001")
    assert created["tokenType"] == "Bearer" and created["expiresIn"] == 86400
    assert created["refreshToken"], "the service supports REFRESH_TOKEN by default"
    result = await introspect(node, auth, token=created["accessToken"], scopes=["read"],
                              subject="alice")
    assert (result["action"], result["resultCode"]) == ("OK", "A056001")
    assert result["clientId"] == client["clientId"] and result["subject"] == "alice"
    assert result["scopes"] == ["openid", "read"] and result["refreshable"] is True
    assert result["properties"] == [{"key": "tier", "value": "gold", "hidden": True}]
    assert result["expiresAt"] == created["expiresAt"]


async def test_token_values_are_stored_only_as_digests(sqlite_node):
    service, auth, client = await service_with_client(sqlite_node)
    created = await create(sqlite_node, auth, grantType="PASSWORD",
                           clientId=client["clientId"], subject="bob")
    tokens = sqlite_node.started.context.storage.tokens
    record = (await tokens.page(service["apiKey"], None, None, 0, 10)).items[0]
    assert record.digest == created["tokenId"] != created["accessToken"]
    assert created["accessToken"] not in repr(record)
    assert created["refreshToken"] not in repr(record)


@pytest.mark.parametrize(("members", "action", "code"), [
    ({}, "BAD_REQUEST", "A109201"),
    ({"clientId": 1}, "BAD_REQUEST", "A109202"),
    ({"grantType": "AUTHORIZATION_CODE"}, "BAD_REQUEST", "A109203"),
    ({"grantType": "NOT_A_GRANT"}, "BAD_REQUEST", "A109204"),
    ({"grantType": "CLIENT_CREDENTIALS", "scopes": "read"}, "BAD_REQUEST", "A109205"),
], ids=["no-client", "unknown-client", "no-subject", "unknown-grant", "scopes-not-array"])
async def test_create_refuses_bad_requests_as_actions(sqlite_node, members, action, code):
    _, auth, client = await service_with_client(sqlite_node)
    if members.get("grantType") in ("AUTHORIZATION_CODE", "CLIENT_CREDENTIALS"):
        members = {**members, "clientId": client["clientId"]}
    result = await create(sqlite_node, auth, **members)
    assert (result["action"], result["resultCode"]) == (action, code)
    assert "accessToken" not in result


async def test_locked_client_gets_no_token_and_its_tokens_stop_working(sqlite_node):
    _, auth, client = await service_with_client(sqlite_node)
    created = await create(sqlite_node, auth, grantType="CLIENT_CREDENTIALS",
                           clientId=client["clientId"])
    assert created["refreshToken"] is None, "RFC 6749 §4.4.3: no refresh token"
    await sqlite_node.http.post(f"/api/client/lock_flag/update/{client['clientId']}",
                                json={"clientLocked": True}, headers=auth)
    result = await introspect(sqlite_node, auth, token=created["accessToken"])
    assert (result["action"], result["resultCode"]) == ("UNAUTHORIZED", "A097303")
    again = await create(sqlite_node, auth, grantType="CLIENT_CREDENTIALS",
                         clientId=client["clientId"])
    assert (again["action"], again["resultCode"]) == ("FORBIDDEN", "A109306")


@pytest.mark.parametrize(("query", "action", "code", "challenge"), [
    ({}, "BAD_REQUEST", "A056201", 'error="invalid_request"'),
    ({"token": "unknown-token"}, "UNAUTHORIZED", "A088302", 'error="invalid_token"'),
    ({"scopes": ["admin"]}, "FORBIDDEN", "A064302", 'scope="admin"'),
    ({"subject": "mallory"}, "FORBIDDEN", "A066302", 'error="insufficient_scope"'),
], ids=["token-missing", "token-unknown", "scope-not-covered", "other-subject"])
async def test_introspection_refusals_carry_a_bearer_challenge(sqlite_node, query, action, code,
                                                               challenge):
    _, auth, client = await service_with_client(sqlite_node)
    created = await create(sqlite_node, auth, grantType="AUTHORIZATION_CODE",
                           clientId=client["clientId"], subject="alice", scopes=["read"])
    body = {"token": created["accessToken"], **query} if query else {}
    result = await introspect(sqlite_node, auth, **body)
    assert (result["action"], result["resultCode"]) == (action, code)
    assert result["responseContent"].startswith("Bearer ")
    assert challenge in result["responseContent"]
    assert f"[{code}]" in result["responseContent"]


async def test_expired_token_is_unauthorized_and_says_whether_refreshable(sqlite_node):
    _, auth, client = await service_with_client(sqlite_node)
    created = await create(sqlite_node, auth, grantType="AUTHORIZATION_CODE",
                           clientId=client["clientId"], subject="alice", scopes=["short"])
    assert created["expiresIn"] == 60, "the scope attribute is shorter than the service's 86400"
    ctx = sqlite_node.started.context
    ctx.clock = _Shifted(ctx.clock, 61_000)
    result = await introspect(sqlite_node, auth, token=created["accessToken"])
    assert (result["action"], result["resultCode"]) == ("UNAUTHORIZED", "A089303")


class _Shifted:
    def __init__(self, clock, offset_ms: int) -> None:
        self._clock, self._offset = clock, offset_ms

    def now_ms(self) -> int:
        return self._clock.now_ms() + self._offset


async def test_list_delete_and_revoke(node):
    _, auth, client = await service_with_client(node)
    made = [await create(node, auth, grantType="AUTHORIZATION_CODE",
                         clientId=client["clientId"], subject=subject)
            for subject in ("alice", "alice", "bob")]
    listed = (await node.http.get("/api/auth/token/get/list?clientIdentifier=rp",
                                  headers=auth)).json()
    assert listed["totalCount"] == 3 and listed["client"]["clientId"] == client["clientId"]
    hashes = {entry["accessTokenHash"] for entry in listed["accessTokens"]}
    assert hashes == {m["tokenId"] for m in made}
    assert all(m["accessToken"] not in str(listed) for m in made)

    deleted = await node.http.delete(f"/api/auth/token/delete/{made[2]['tokenId']}",
                                     headers=auth)
    assert deleted.status_code == 204
    gone = await node.http.delete(f"/api/auth/token/delete/{made[2]['accessToken']}",
                                  headers=auth)
    assert gone.status_code == 404 and gone.json()["resultCode"] == "A161201"

    revoked = await node.http.post("/api/auth/token/revoke",
                                   json={"clientIdentifier": "rp", "subject": "alice"},
                                   headers=auth)
    assert revoked.json() == {"resultCode": "A312001",
                              "resultMessage": "[A312001] Revoked 2 access token(s).",
                              "count": 2}
    result = await introspect(node, auth, token=made[0]["accessToken"])
    assert result["resultCode"] == "A088302"
    nothing = await node.http.post("/api/auth/token/revoke", json={}, headers=auth)
    assert nothing.status_code == 400 and nothing.json()["resultCode"] == "A312201"


async def test_token_update_changes_scopes_properties_and_expiry(node):
    _, auth, client = await service_with_client(node)
    created = await create(node, auth, grantType="AUTHORIZATION_CODE",
                           clientId=client["clientId"], subject="alice", scopes=["read"])
    new_expiry = created["expiresAt"] + 3_600_000
    response = await node.http.post("/api/auth/token/update", headers=auth, json={
        "accessToken": created["accessToken"], "scopes": ["openid", "read"],
        "properties": [{"key": "k", "value": "v", "hidden": False}],
        "accessTokenExpiresAt": new_expiry})
    updated = response.json()
    assert (updated["action"], updated["resultCode"]) == ("OK", "A135001")
    assert updated["accessTokenExpiresAt"] == new_expiry
    result = await introspect(node, auth, token=created["accessToken"])
    assert result["scopes"] == ["openid", "read"] and result["expiresAt"] == new_expiry
    assert result["properties"] == [{"key": "k", "value": "v", "hidden": False}]


@pytest.mark.parametrize(("members", "action", "code"), [
    ({}, "BAD_REQUEST", "A135201"),
    ({"accessToken": "unknown"}, "NOT_FOUND", "A135202"),
    ({"accessTokenExpiresAt": 1}, "BAD_REQUEST", "A135203"),
], ids=["no-token", "unknown-token", "expiry-in-the-past"])
async def test_token_update_refusals(sqlite_node, members, action, code):
    _, auth, client = await service_with_client(sqlite_node)
    created = await create(sqlite_node, auth, grantType="CLIENT_CREDENTIALS",
                           clientId=client["clientId"])
    if "accessTokenExpiresAt" in members:
        members = {**members, "accessTokenHash": created["tokenId"]}
    result = (await sqlite_node.http.post("/api/auth/token/update", headers=auth,
                                          json=members)).json()
    assert (result["action"], result["resultCode"]) == (action, code)


CHOSEN_ACCESS = "chosen-access-token.0123456789abcdefghijklmnopqrstuvwxyz"
CHOSEN_REFRESH = "chosen-refresh-token~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


async def test_create_uses_the_values_the_caller_chose(node):
    """Reference §2.3: `accessToken` / `refreshToken` of /auth/token/create are the values of
    the new tokens; they work like minted ones and are stored as digests only."""
    service, auth, client = await service_with_client(node)
    created = await create(node, auth, grantType="AUTHORIZATION_CODE",
                           clientId=client["clientId"], subject="alice", scopes=["read"],
                           accessToken=CHOSEN_ACCESS, refreshToken=CHOSEN_REFRESH)
    assert (created["action"], created["accessToken"]) == ("OK", CHOSEN_ACCESS)
    assert created["refreshToken"] == CHOSEN_REFRESH and created["jwtAccessToken"] is None
    result = await introspect(node, auth, token=CHOSEN_ACCESS, scopes=["read"])
    assert (result["action"], result["subject"]) == ("OK", "alice")
    again = await create(node, auth, grantType="AUTHORIZATION_CODE",
                         clientId=client["clientId"], subject="bob", accessToken=CHOSEN_ACCESS)
    assert (again["action"], again["resultCode"]) == ("BAD_REQUEST", "A109207")
    assert "'accessToken'" in again["resultMessage"]
    still = await introspect(node, auth, token=CHOSEN_ACCESS)
    assert still["subject"] == "alice"          # the first token is untouched
    tokens = node.started.context.storage.tokens
    [record] = (await tokens.page(service["apiKey"], None, None, 0, 10)).items
    assert record.digest == hashlib.sha256(CHOSEN_ACCESS.encode()).hexdigest()
    assert CHOSEN_ACCESS not in repr(record) and CHOSEN_REFRESH not in repr(record)


async def test_a_chosen_value_wins_over_a_jwt_access_token(sqlite_node):
    _service, auth, client = await service_with_client(sqlite_node, accessTokenSignAlg="ES256")
    minted = await create(sqlite_node, auth, grantType="CLIENT_CREDENTIALS",
                          clientId=client["clientId"])
    assert minted["jwtAccessToken"] == minted["accessToken"]
    assert minted["accessToken"].count(".") == 2
    chosen = await create(sqlite_node, auth, grantType="CLIENT_CREDENTIALS",
                          clientId=client["clientId"], accessToken=CHOSEN_ACCESS)
    assert chosen["accessToken"] == CHOSEN_ACCESS and chosen["jwtAccessToken"] is None


@pytest.mark.parametrize(("members", "code", "named"), [
    ({"accessToken": "short"}, "A109205", "accessToken"),
    ({"accessToken": "has spaces " * 4}, "A109205", "accessToken"),
    ({"accessToken": 12345}, "A109205", "accessToken"),
    ({"refreshToken": "x" * 2000}, "A109205", "refreshToken"),
    ({"grantType": "CLIENT_CREDENTIALS", "refreshToken": CHOSEN_REFRESH}, "A109208",
     "CLIENT_CREDENTIALS"),
], ids=["too-short", "not-b64token", "not-a-string", "too-long", "refresh-not-issued"])
async def test_a_bad_chosen_value_is_refused_and_nothing_is_stored(sqlite_node, members, code,
                                                                   named):
    service, auth, client = await service_with_client(sqlite_node)
    body = {"grantType": "AUTHORIZATION_CODE", "subject": "alice", **members}
    result = await create(sqlite_node, auth, clientId=client["clientId"], **body)
    assert (result["action"], result["resultCode"]) == ("BAD_REQUEST", code)
    assert named in result["resultMessage"]
    tokens = sqlite_node.started.context.storage.tokens
    assert (await tokens.page(service["apiKey"], None, None, 0, 10)).items == []

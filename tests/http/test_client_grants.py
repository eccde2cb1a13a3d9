"""Granted scopes, client authorizations (reference §2.12) and `singleAccessTokenPerSubject`
(reference §3) over HTTP: records made by real code and password flows, read back through the
management APIs and checked through introspection."""

import json
from urllib.parse import urlencode

import pytest
import trio

from tests.http.test_client_api import service_token
from tests.support import OWNER, basic, bearer

pytestmark = pytest.mark.trio

REDIRECT = "https://rp.example.com/cb"
ISSUER = "https://as.example.com"
GRANTS = ["AUTHORIZATION_CODE", "REFRESH_TOKEN", "CLIENT_CREDENTIALS", "PASSWORD", "IMPLICIT"]


async def setup(node, service_members=None, **client_members):
    service = (await node.http.post("/api/service/create", headers=OWNER, json={
        "serviceName": "Grants", "issuer": ISSUER, "tokenEndpoint": f"{ISSUER}/token",
        "supportedScopes": [{"name": n} for n in ("openid", "profile", "email", "read")],
        "supportedResponseTypes": ["CODE", "CODE_TOKEN"], "supportedGrantTypes": GRANTS,
        **(service_members or {})})).json()
    auth = basic(service["apiKey"], service["apiSecret"])
    return service, auth, await new_client(node, auth, **client_members)


async def new_client(node, auth, **members) -> dict:
    return (await node.http.post("/api/client/create", headers=auth, json={
        "clientName": "rp", "redirectUris": [REDIRECT], "grantTypes": GRANTS,
        "responseTypes": ["CODE", "CODE_TOKEN"], **members})).json()


async def code_flow(node, auth, client, scope: str, subject: str = "alice",
                    response_type: str = "code") -> dict:
    """Authorization request → issue → (for response_type=code) code exchange."""
    query = {"response_type": response_type, "client_id": client["clientId"],
             "redirect_uri": REDIRECT, "scope": scope, "nonce": "n-1"}
    started = (await node.http.post("/api/auth/authorization", headers=auth, json={
        "parameters": urlencode(query)})).json()
    issued = (await node.http.post("/api/auth/authorization/issue", headers=auth, json={
        "ticket": started["ticket"], "subject": subject})).json()
    assert issued["action"] in ("LOCATION", "FRAGMENT"), issued
    if response_type != "code":
        return issued
    return await token(node, auth, client, {"grant_type": "authorization_code",
                                            "code": issued["authorizationCode"],
                                            "redirect_uri": REDIRECT})


async def token(node, auth, client, form: dict) -> dict:
    result = (await node.http.post("/api/auth/token", headers=auth, json={
        "parameters": urlencode(form), "clientId": str(client["clientId"]),
        "clientSecret": client["clientSecret"]})).json()
    assert result["action"] in ("OK", "PASSWORD"), result
    return result


async def password_ticket(node, auth, client, scope: str = "read") -> str:
    started = await token(node, auth, client, {"grant_type": "password", "username": "u",
                                               "password": "p", "scope": scope})
    return started["ticket"]


async def issue_password(node, auth, ticket: str, subject: str) -> dict:
    issued = (await node.http.post("/api/auth/token/issue", headers=auth, json={
        "ticket": ticket, "subject": subject})).json()
    assert issued["action"] == "OK", issued
    return json.loads(issued["responseContent"])


async def password_tokens(node, auth, client, subject: str = "alice",
                          scope: str = "read") -> dict:
    return await issue_password(node, auth, await password_ticket(node, auth, client, scope),
                                subject)


async def introspect(node, auth, access_token: str) -> dict:
    return (await node.http.post("/api/auth/introspection", headers=auth,
                                 json={"token": access_token})).json()


async def granted(node, auth, client, subject: str = "alice") -> dict:
    response = await node.http.post(f"/api/client/granted_scopes/get/{client['clientId']}",
                                    headers=auth, json={"subject": subject})
    assert response.status_code == 200, response.text
    return response.json()


# --- Granted scopes ----------------------------------------------------------------------------

async def test_granted_scopes_follow_code_exchanges_and_can_be_forgotten(node):
    service, auth, client = await setup(node)
    none = await granted(node, auth, client)
    assert none["resultCode"] == "A140001"
    assert (none["latestGrantedScopes"], none["mergedGrantedScopes"]) == (None, None)

    first = await code_flow(node, auth, client, "openid profile")
    second = await code_flow(node, auth, client, "openid email")
    record = await granted(node, auth, client)
    assert record["resultCode"] == "A139001"
    assert record["latestGrantedScopes"] == ["openid", "email"]
    assert record["mergedGrantedScopes"] == ["openid", "profile", "email"]
    assert record["serviceApiKey"] == record["serviceApikey"] == service["apiKey"]
    assert (record["clientId"], record["subject"]) == (client["clientId"], "alice")
    assert record["modifiedAt"] > 0
    by_query = (await node.http.get(f"/api/client/granted_scopes/get/{client['clientId']}",
                                    params={"subject": "alice"}, headers=auth)).json()
    assert by_query["mergedGrantedScopes"] == record["mergedGrantedScopes"]
    assert (await granted(node, auth, client, "bob"))["resultCode"] == "A140001"

    deleted = await node.http.post(f"/api/client/granted_scopes/delete/{client['clientId']}",
                                   headers=auth, json={"subject": "alice"})
    assert (deleted.status_code, deleted.json()["resultCode"]) == (200, "A139002")
    assert (await granted(node, auth, client))["resultCode"] == "A140001"
    for result in (first, second):
        access_token = json.loads(result["responseContent"])["access_token"]
        assert (await introspect(node, auth, access_token))["resultCode"] == "A056001", \
            "forgetting the record leaves the tokens alone"


async def test_password_and_implicit_grants_are_recorded_client_credentials_not(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    await password_tokens(sqlite_node, auth, client, scope="read")
    assert (await granted(sqlite_node, auth, client))["latestGrantedScopes"] == ["read"]
    await code_flow(sqlite_node, auth, client, "profile email", response_type="code token")
    record = await granted(sqlite_node, auth, client)
    assert record["latestGrantedScopes"] == ["profile", "email"]
    assert record["mergedGrantedScopes"] == ["read", "profile", "email"]
    await token(sqlite_node, auth, client, {"grant_type": "client_credentials", "scope": "email"})
    assert (await granted(sqlite_node, auth, client))["latestGrantedScopes"] == \
        ["profile", "email"]


async def test_concurrent_grants_all_reach_the_merged_scopes(node):
    _, auth, client = await setup(node)
    scopes = ["openid", "profile", "email", "read"]
    tickets = [await password_ticket(node, auth, client, scope) for scope in scopes]
    async with trio.open_nursery() as nursery:
        for ticket in tickets:
            nursery.start_soon(issue_password, node, auth, ticket, "alice")
    record = await granted(node, auth, client)
    assert sorted(record["mergedGrantedScopes"]) == sorted(scopes)
    assert len(record["latestGrantedScopes"]) == 1


# --- Client authorizations ---------------------------------------------------------------------

async def test_authorized_clients_of_a_subject_are_listed(node):
    service, auth, client = await setup(node, developer="dev-1")
    other = await new_client(node, auth)
    await password_tokens(node, auth, client, "alice")
    await password_tokens(node, auth, other, "bob")
    await token(node, auth, other, {"grant_type": "client_credentials"})

    listed = (await node.http.post("/api/client/authorization/get/list", headers=auth,
                                   json={"subject": "alice", "developer": None, "start": 0,
                                         "end": 0})).json()
    assert (listed["subject"], listed["totalCount"], listed["start"]) == ("alice", 1, 0)
    assert [c["clientId"] for c in listed["clients"]] == [client["clientId"]]
    by_query = (await node.http.get("/api/client/authorization/get/list", headers=auth,
                                    params={"subject": "alice", "developer": "dev-2"})).json()
    assert (by_query["developer"], by_query["totalCount"], by_query["clients"]) == \
        ("dev-2", 0, [])

    v3 = await node.http.get(f"/api/{service['apiKey']}/client/authorization/get/list/bob",
                             headers=bearer(await service_token(node, service)))
    assert v3.status_code == 200, v3.text
    assert [c["clientId"] for c in v3.json()["clients"]] == [other["clientId"]]


async def test_update_replaces_the_scopes_of_the_subjects_tokens(node):
    service, auth, client = await setup(node)
    alice = await password_tokens(node, auth, client, "alice", scope="openid email")
    bob = await password_tokens(node, auth, client, "bob", scope="openid email")
    updated = await node.http.post(
        f"/api/client/authorization/update/{client['clientId']}", headers=auth,
        json={"subject": "alice", "scopes": ["read"]})
    assert updated.status_code == 200, updated.text
    assert updated.json()["resultCode"] == "A138001"
    assert updated.json()["resultMessage"].startswith("[A138001] Updated 1 access token(s)")
    assert str(service["apiKey"]) in updated.json()["resultMessage"]
    assert (await introspect(node, auth, alice["access_token"]))["scopes"] == ["read"]
    assert (await introspect(node, auth, bob["access_token"]))["scopes"] == ["openid", "email"]
    refreshed = await token(node, auth, client, {"grant_type": "refresh_token",
                                                 "refresh_token": alice["refresh_token"]})
    assert refreshed["scopes"] == ["read"], "the refresh token got the new scopes too"


async def test_delete_removes_the_subjects_tokens_for_the_client(node):
    service, auth, client = await setup(node)
    other = await new_client(node, auth)
    alice = [await password_tokens(node, auth, client, "alice") for _ in range(2)]
    kept = await password_tokens(node, auth, other, "alice")
    deleted = await node.http.post(
        f"/api/client/authorization/delete/{client['clientId']}", headers=auth,
        json={"subject": "alice"})
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["resultCode"] == "A137001"
    assert deleted.json()["resultMessage"].startswith("[A137001] Deleted 2 access token(s)")
    for tokens in alice:
        assert (await introspect(node, auth, tokens["access_token"]))["resultCode"] == "A088302"
    assert (await introspect(node, auth, kept["access_token"]))["resultCode"] == "A056001"
    refused = (await node.http.post("/api/auth/token", headers=auth, json={
        "parameters": urlencode({"grant_type": "refresh_token",
                                 "refresh_token": alice[0]["refresh_token"]}),
        "clientId": str(client["clientId"]), "clientSecret": client["clientSecret"]})).json()
    assert refused["action"] == "BAD_REQUEST"

    again = await password_tokens(node, auth, client, "alice")
    v3 = await node.http.delete(
        f"/api/{service['apiKey']}/client/authorization/delete/{client['clientId']}/alice",
        headers=bearer(await service_token(node, service)))
    assert v3.status_code == 200, v3.text
    assert v3.json()["resultMessage"].startswith("[A137001] Deleted 1 access token(s)")
    assert (await introspect(node, auth, again["access_token"]))["resultCode"] == "A088302"


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("POST", "/client/granted_scopes/get/{id}", {}, 400, "A137201"),
    ("DELETE", "/client/granted_scopes/delete/{id}", None, 400, "A137201"),
    ("POST", "/client/authorization/get/list", {"subject": ""}, 400, "A137201"),
    ("POST", "/client/authorization/get/list", {"subject": "a", "start": -1}, 400, "A031202"),
    ("POST", "/client/authorization/get/list", {"subject": "a", "start": 5, "end": 2}, 400,
     "A031202"),
    ("POST", "/client/authorization/update/{id}", {"subject": "a", "scopes": "x"}, 200,
     "A138001"),
    ("POST", "/client/authorization/update/{id}", {"subject": "a", "scopes": [1]}, 400,
     "A031202"),
    ("POST", "/client/authorization/delete/{id}", {"scopes": []}, 400, "A137201"),
    ("POST", "/client/authorization/delete/1", {"subject": "a"}, 404, "A001212"),
    ("POST", "/client/granted_scopes/get/1", {"subject": "a"}, 404, "A001212"),
], ids=["granted-get-no-subject", "granted-delete-no-subject", "list-empty-subject",
        "list-negative-start", "list-end-before-start", "update-scopes-as-a-string",
        "update-scopes-not-strings", "delete-no-subject", "delete-unknown-client",
        "granted-get-unknown-client"])
async def test_request_errors(sqlite_node, method, path, body, status, code):
    _, auth, client = await setup(sqlite_node)
    response = await sqlite_node.http.request(
        method, "/api" + path.format(id=client["clientId"]), headers=auth, json=body)
    assert (response.status_code, response.json()["resultCode"]) == (status, code)


# --- singleAccessTokenPerSubject ---------------------------------------------------------------

@pytest.mark.parametrize("holder", ["service", "client"])
async def test_a_new_token_revokes_the_subjects_older_ones(node, holder):
    flag = {"singleAccessTokenPerSubject": True}
    _, auth, client = await setup(node, flag if holder == "service" else None,
                                  **(flag if holder == "client" else {}))
    machine = json.loads((await token(node, auth, client, {
        "grant_type": "client_credentials"}))["responseContent"])["access_token"]
    first = await password_tokens(node, auth, client, "alice")
    bob = await password_tokens(node, auth, client, "bob")
    second = await password_tokens(node, auth, client, "alice")

    assert (await introspect(node, auth, first["access_token"]))["resultCode"] == "A088302"
    assert (await introspect(node, auth, second["access_token"]))["resultCode"] == "A056001"
    assert (await introspect(node, auth, bob["access_token"]))["resultCode"] == "A056001"
    assert (await introspect(node, auth, machine))["resultCode"] == "A056001"
    stale = (await node.http.post("/api/auth/token", headers=auth, json={
        "parameters": urlencode({"grant_type": "refresh_token",
                                 "refresh_token": first["refresh_token"]}),
        "clientId": str(client["clientId"]), "clientSecret": client["clientSecret"]})).json()
    assert stale["action"] == "BAD_REQUEST", "the older token's refresh token went with it"

    await token(node, auth, client, {"grant_type": "client_credentials"})
    assert (await introspect(node, auth, machine))["resultCode"] == "A056001"
    assert (await introspect(node, auth, second["access_token"]))["resultCode"] == "A056001"


async def test_without_the_flag_tokens_accumulate(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    tokens = [await password_tokens(sqlite_node, auth, client, "alice") for _ in range(2)]
    for issued in tokens:
        result = await introspect(sqlite_node, auth, issued["access_token"])
        assert result["resultCode"] == "A056001"


async def test_concurrent_tokens_for_one_subject_leave_exactly_one(node):
    _, auth, client = await setup(node, {"singleAccessTokenPerSubject": True})
    tickets = [await password_ticket(node, auth, client) for _ in range(4)]
    issued = []

    async def issue(ticket):
        issued.append(await issue_password(node, auth, ticket, "alice"))

    async with trio.open_nursery() as nursery:
        for ticket in tickets:
            nursery.start_soon(issue, ticket)
    codes = [(await introspect(node, auth, t["access_token"]))["resultCode"] for t in issued]
    assert sorted(codes) == ["A056001"] + ["A088302"] * 3


async def test_implicit_tokens_without_refresh_tokens_are_replaced_too(node):
    _, auth, client = await setup(node, {"singleAccessTokenPerSubject": True})
    first, second = [await code_flow(node, auth, client, "profile", response_type="code token")
                     for _ in range(2)]
    assert (await introspect(node, auth, first["accessToken"]))["resultCode"] == "A088302"
    assert (await introspect(node, auth, second["accessToken"]))["resultCode"] == "A056001"

"""Client management APIs (reference §2.12) over HTTP, v2 and v3 path styles."""

import pytest

from app import bootstrap
from tests.support import OWNER, basic, bearer

pytestmark = pytest.mark.trio


async def new_service(node, **members) -> tuple[dict, dict]:
    body = {"serviceName": "Clients", "clientIdAliasEnabled": True, **members}
    service = (await node.http.post("/api/service/create", json=body, headers=OWNER)).json()
    return service, basic(service["apiKey"], service["apiSecret"])


async def service_token(node, service: dict) -> str:
    ctx = node.started.context
    return await bootstrap.issue_access_token(ctx.storage, service["serviceOwnerNumber"],
                                              service["apiKey"], "test", ctx.clock.now_ms())


WEB_CLIENT = {"clientName": "Web", "redirectUris": ["https://rp.example.com/cb"],
              "clientIdAlias": "web-app", "clientIdAliasEnabled": True}


async def test_create_get_update_list_delete_v2(node):
    _, auth = await new_service(node)
    created = await node.http.post("/api/client/create", json=WEB_CLIENT, headers=auth)
    assert created.status_code == 200, created.text
    client = created.json()
    assert client["clientType"] == "CONFIDENTIAL" and client["tokenAuthMethod"] == \
        "CLIENT_SECRET_BASIC"
    assert len(client["clientSecret"]) >= 64 and client["clientId"] > 0

    got = await node.http.get(f"/api/client/get/{client['clientId']}", headers=auth)
    assert got.json() == client
    by_alias = await node.http.get("/api/client/get/web-app", headers=auth)
    assert by_alias.json()["clientId"] == client["clientId"]

    changed = {**client, "clientName": "Web 2", "clientSecret": "ignored-on-update"}
    updated = await node.http.post(f"/api/client/update/{client['clientId']}", json=changed,
                                   headers=auth)
    assert updated.json()["clientName"] == "Web 2"
    assert updated.json()["clientSecret"] == client["clientSecret"]

    listed = (await node.http.get("/api/client/get/list", headers=auth)).json()
    assert listed["totalCount"] == 1 and listed["clients"][0]["clientId"] == client["clientId"]

    deleted = await node.http.delete(f"/api/client/delete/{client['clientId']}", headers=auth)
    assert deleted.status_code == 204
    gone = await node.http.get(f"/api/client/get/{client['clientId']}", headers=auth)
    assert gone.status_code == 404 and gone.json()["resultCode"] == "A001212"


async def test_v3_bearer_paths(node):
    service, _ = await new_service(node)
    token = await service_token(node, service)
    prefix = f"/api/{service['apiKey']}"
    created = await node.http.post(f"{prefix}/client/create", json=WEB_CLIENT,
                                   headers=bearer(token))
    assert created.status_code == 200, created.text
    got = await node.http.get(f"{prefix}/client/get/{created.json()['clientId']}",
                              headers=bearer(token))
    assert got.json()["clientName"] == "Web"
    own = await node.http.get(f"{prefix}/service/get", headers=bearer(token))
    assert own.status_code == 200 and own.json()["apiKey"] == service["apiKey"]


async def test_v3_token_of_one_service_cannot_reach_another(sqlite_node):
    first, _ = await new_service(sqlite_node)
    second, _ = await new_service(sqlite_node)
    token = await service_token(sqlite_node, first)
    prefix = f"/api/{second['apiKey']}"
    for path in (f"{prefix}/client/get/list", f"{prefix}/service/get"):
        response = await sqlite_node.http.get(path, headers=bearer(token))
        assert response.status_code == 403, path
        assert response.json()["resultCode"] == "A001206"


async def test_v3_path_refuses_basic_and_v2_path_refuses_bearer(sqlite_node):
    service, auth = await new_service(sqlite_node)
    token = await service_token(sqlite_node, service)
    v3 = await sqlite_node.http.get(f"/api/{service['apiKey']}/client/get/list", headers=auth)
    v2 = await sqlite_node.http.get("/api/client/get/list", headers=bearer(token))
    assert (v3.status_code, v3.json()["resultCode"]) == (401, "A001207")
    assert (v2.status_code, v2.json()["resultCode"]) == (401, "A001207")


async def test_service_secret_mismatch(sqlite_node):
    service, _ = await new_service(sqlite_node)
    response = await sqlite_node.http.get("/api/client/get/list",
                                          headers=basic(service["apiKey"], "wrong"))
    assert response.status_code == 401 and response.json()["resultCode"] == "A003204"


async def test_alias_unique_per_service(node):
    _, auth = await new_service(node)
    assert (await node.http.post("/api/client/create", json=WEB_CLIENT,
                                 headers=auth)).status_code == 200
    clash = await node.http.post("/api/client/create", json=WEB_CLIENT, headers=auth)
    assert clash.status_code == 409 and clash.json()["resultCode"] == "A030601"
    assert "'web-app'" in clash.json()["resultMessage"]
    _, other_auth = await new_service(node)
    elsewhere = await node.http.post("/api/client/create", json=WEB_CLIENT, headers=other_auth)
    assert elsewhere.status_code == 200


async def test_alias_honoured_only_when_service_and_client_enable_it(sqlite_node):
    _, auth = await new_service(sqlite_node, clientIdAliasEnabled=False)
    await sqlite_node.http.post("/api/client/create", json=WEB_CLIENT, headers=auth)
    response = await sqlite_node.http.get("/api/client/get/web-app", headers=auth)
    assert response.status_code == 404 and response.json()["resultCode"] == "A001222"

    _, auth = await new_service(sqlite_node)
    client = {**WEB_CLIENT, "clientIdAliasEnabled": False}
    await sqlite_node.http.post("/api/client/create", json=client, headers=auth)
    response = await sqlite_node.http.get("/api/client/get/web-app", headers=auth)
    assert response.json()["resultCode"] == "A001222"


async def test_lock_flag_and_secrets(node):
    _, auth = await new_service(node)
    client = (await node.http.post("/api/client/create", json=WEB_CLIENT, headers=auth)).json()
    cid = client["clientId"]
    locked = await node.http.post("/api/client/lock_flag/update/web-app",
                                  json={"clientLocked": True}, headers=auth)
    assert locked.status_code == 200 and locked.json()["resultCode"] == "A293001"
    assert (await node.http.get(f"/api/client/get/{cid}", headers=auth)).json()["locked"] is True

    refreshed = (await node.http.get(f"/api/client/secret/refresh/{cid}", headers=auth)).json()
    assert refreshed["resultCode"] == "A148001"
    assert refreshed["oldClientSecret"] == client["clientSecret"]
    assert refreshed["newClientSecret"] != client["clientSecret"]
    now = (await node.http.get(f"/api/client/get/{cid}", headers=auth)).json()["clientSecret"]
    assert now == refreshed["newClientSecret"]

    chosen = "S" * 40
    updated = await node.http.post(f"/api/client/secret/update/{cid}",
                                   json={"clientSecret": chosen}, headers=auth)
    assert updated.json()["resultCode"] == "A149001"
    assert (await node.http.get(f"/api/client/get/{cid}", headers=auth)).json()[
        "clientSecret"] == chosen
    too_short = await node.http.post(f"/api/client/secret/update/{cid}",
                                     json={"clientSecret": "short"}, headers=auth)
    assert too_short.status_code == 400 and too_short.json()["resultCode"] == "A149202"


async def test_requestable_scopes(sqlite_node):
    _, auth = await new_service(sqlite_node)
    cid = (await sqlite_node.http.post("/api/client/create", json=WEB_CLIENT,
                                       headers=auth)).json()["clientId"]
    base = "/api/client/extension/requestable_scopes"
    assert (await sqlite_node.http.get(f"{base}/get/{cid}", headers=auth)).json() == {
        "requestableScopes": None}
    put = await sqlite_node.http.put(f"{base}/update/{cid}",
                                     json={"requestableScopes": ["openid", "email"]}, headers=auth)
    assert put.json() == {"requestableScopes": ["openid", "email"]}
    client = (await sqlite_node.http.get(f"/api/client/get/{cid}", headers=auth)).json()
    assert client["extension"] == {"requestableScopesEnabled": True,
                                   "requestableScopes": ["openid", "email"]}
    assert (await sqlite_node.http.delete(f"{base}/delete/{cid}",
                                          headers=auth)).status_code == 204
    assert (await sqlite_node.http.get(f"{base}/get/{cid}", headers=auth)).json() == {
        "requestableScopes": None}


@pytest.mark.parametrize(("members", "key", "fragment"), [
    ({"applicationType": "NATIVE", "redirectUris": ["http://app.example.com/cb"]},
     "redirectUris[0]", "only with localhost or a loopback IP"),
    ({"redirectUris": ["https://rp.example.com/cb#frag"]}, "redirectUris[0]", "fragment"),
    ({"redirectUris": ["/relative"]}, "redirectUris[0]", "not an absolute URI"),
    ({"grantTypes": ["AUTHORIZATION_CODE", "IMPLICIT"], "responseTypes": ["CODE", "ID_TOKEN"],
      "redirectUris": ["http://rp.example.com/cb"]}, "redirectUris[0]", "must use https"),
    ({"clientType": "PUBLIC", "tokenAuthMethod": "CLIENT_SECRET_BASIC"}, "tokenAuthMethod",
     "public client"),
    ({"tokenAuthMethod": "NONE"}, "tokenAuthMethod", "confidential client must authenticate"),
    ({"tokenAuthMethod": "PRIVATE_KEY_JWT"}, "tokenAuthMethod", "'jwks' or 'jwksUri'"),
    ({"grantTypes": ["CLIENT_CREDENTIALS"], "responseTypes": ["CODE"]}, "grantTypes",
     "requires grant type 'AUTHORIZATION_CODE'"),
    ({"subjectType": "PAIRWISE", "redirectUris": ["https://a.example/cb", "https://b.example/cb"]},
     "subjectType", "sectorIdentifierUri"),
    ({"jwksUri": "http://rp.example.com/jwks"}, "jwksUri", "must use https"),
    ({"clientIdAlias": "12345"}, "clientIdAlias", "digits only"),
    ({"bcDeliveryMode": "PING"}, "bcNotificationEndpoint", "notification endpoint"),
], ids=["native-http-not-loopback", "fragment", "relative", "implicit-over-http",
        "public-with-secret-method", "confidential-without-auth", "pkjwt-without-keys",
        "grant-response-mismatch", "pairwise-several-hosts", "jwks-uri-http", "numeric-alias",
        "ping-without-endpoint"])
async def test_invalid_client_is_refused_with_field_and_reason(sqlite_node, members, key,
                                                               fragment):
    _, auth = await new_service(sqlite_node)
    response = await sqlite_node.http.post("/api/client/create",
                                           json={"clientName": "bad", **members}, headers=auth)
    assert response.status_code == 400, response.text
    message = response.json()["resultMessage"]
    assert response.json()["resultCode"] == "A031202"
    assert f"'{key}'" in message and fragment in message
    listed = (await sqlite_node.http.get("/api/client/get/list", headers=auth)).json()
    assert listed["totalCount"] == 0


async def test_native_loopback_and_custom_scheme_are_accepted(sqlite_node):
    _, auth = await new_service(sqlite_node)
    body = {"applicationType": "NATIVE", "clientType": "PUBLIC",
            "redirectUris": ["http://127.0.0.1:4000/cb", "http://localhost/cb",
                             "com.example.app:/oauth2redirect"]}
    response = await sqlite_node.http.post("/api/client/create", json=body, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["tokenAuthMethod"] == "NONE"


async def test_clients_per_developer_quota(sqlite_node):
    _, auth = await new_service(sqlite_node, clientsPerDeveloper=1)
    body = {"developer": "dev-1", "redirectUris": ["https://rp.example.com/cb"]}
    assert (await sqlite_node.http.post("/api/client/create", json=body,
                                        headers=auth)).status_code == 200
    second = await sqlite_node.http.post("/api/client/create", json=body, headers=auth)
    assert second.status_code == 403 and second.json()["resultCode"] == "A123601"


async def test_v3_service_token_lists_only_its_own_service(sqlite_node):
    first, _ = await new_service(sqlite_node)
    await new_service(sqlite_node)
    token = await service_token(sqlite_node, first)
    listed = await sqlite_node.http.get("/api/service/get/list", headers=bearer(token))
    assert listed.status_code == 200
    assert listed.json()["totalCount"] == 1
    assert [s["apiKey"] for s in listed.json()["services"]] == [first["apiKey"]]

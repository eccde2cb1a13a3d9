"""Service-owner APIs over HTTP (reference §2.13), v2 Basic and v3 Bearer, on both databases."""

import pytest

from tests.support import OWNER, basic, bearer

pytestmark = pytest.mark.trio


async def create_service(node, **members) -> dict:
    body = {"serviceName": "Example", "issuer": "https://as.example.com", **members}
    response = await node.http.post("/api/service/create", json=body, headers=OWNER)
    assert response.status_code == 200, response.text
    return response.json()


async def test_create_assigns_identity_and_applies_defaults(node):
    service = await create_service(node, accessTokenDuration=3600)
    assert isinstance(service["apiKey"], int) and service["apiKey"] > 0
    assert len(service["apiSecret"]) >= 64
    assert service["createdAt"] == service["modifiedAt"] > 1_700_000_000_000
    assert service["accessTokenDuration"] == 3600
    assert service["refreshTokenDuration"] == 864000
    assert service["supportedGrantTypes"] == ["AUTHORIZATION_CODE", "REFRESH_TOKEN"]


async def test_sdk_style_body_with_null_zero_false_members_is_accepted(node):
    body = {"serviceName": "Nulls", "apiKey": 0, "apiSecret": None, "issuer": None,
            "accessTokenDuration": 0, "pkceRequired": False, "supportedScopes": None,
            "createdAt": 0, "number": 0}
    response = await node.http.post("/api/service/create", json=body, headers=OWNER)
    assert response.status_code == 200, response.text
    service = response.json()
    assert service["apiKey"] != 0 and "issuer" not in service
    assert service["accessTokenDuration"] == 86400


async def test_get_update_list_delete(node):
    created = await create_service(node)
    api_key = created["apiKey"]
    got = await node.http.get(f"/api/service/get/{api_key}", headers=OWNER)
    assert got.status_code == 200 and got.json() == created

    updated_body = {**created, "serviceName": "Renamed", "pkceRequired": True}
    updated = await node.http.post(f"/api/service/update/{api_key}", json=updated_body,
                                   headers=OWNER)
    assert updated.status_code == 200
    assert updated.json()["serviceName"] == "Renamed" and updated.json()["pkceRequired"] is True
    assert updated.json()["apiSecret"] == created["apiSecret"]

    listed = (await node.http.get("/api/service/get/list?start=0&end=10", headers=OWNER)).json()
    assert listed["totalCount"] >= 1
    assert api_key in [s["apiKey"] for s in listed["services"]]

    deleted = await node.http.delete(f"/api/service/delete/{api_key}", headers=OWNER)
    assert deleted.status_code == 204
    missing = await node.http.get(f"/api/service/get/{api_key}", headers=OWNER)
    assert missing.status_code == 404
    assert missing.json()["resultCode"] == "A035201"
    assert str(api_key) in missing.json()["resultMessage"]


@pytest.mark.parametrize(("members", "key", "fragment"), [
    ({"issuer": "https://as.example.com/?x=1"}, "issuer", "must not have a query"),
    ({"issuer": "http://as.example.com"}, "issuer", "must use https"),
    ({"tokenEndpoint": "as.example.com/token"}, "tokenEndpoint", "not an absolute"),
    ({"supportedScopes": [{"name": "a b"}]}, "supportedScopes[0].name", "not a scope token"),
    ({"accessTokenSignAlg": "HS256"}, "accessTokenSignAlg", "not one of the server's"),
    ({"accessTokenDuration": -1}, "accessTokenDuration", "must not be negative"),
    ({"jwks": "{\"keys\": [{\"kty\": \"oct\", \"k\": \"c2VjcmV0\"}]}"}, "jwks",
     "private or symmetric"),
    ({"pkceRequired": "yes"}, "pkceRequired", "is not a boolean"),
], ids=["issuer-with-query", "issuer-http", "endpoint-relative", "scope-with-space",
        "symmetric-at-alg", "negative-duration", "jwks-with-secret", "bool-as-string"])
async def test_invalid_service_is_refused_with_the_field_named(sqlite_node, members, key,
                                                               fragment):
    response = await sqlite_node.http.post("/api/service/create",
                                           json={"serviceName": "x", **members}, headers=OWNER)
    assert response.status_code == 400
    body = response.json()
    assert body["resultCode"] == "A031202"
    assert f"'{key}'" in body["resultMessage"] and fragment in body["resultMessage"]


async def test_unsupported_enum_value_names_key_and_value(sqlite_node):
    response = await sqlite_node.http.post(
        "/api/service/create", json={"supportedGrantTypes": ["authorization_code"]},
        headers=OWNER)
    assert response.status_code == 400
    assert response.json()["resultCode"] == "A031201"
    assert "'authorization_code'" in response.json()["resultMessage"]
    assert "supportedGrantTypes[0]" in response.json()["resultMessage"]


async def test_nothing_is_written_when_validation_fails(sqlite_node):
    before = (await sqlite_node.http.get("/api/service/get/list", headers=OWNER)).json()
    await sqlite_node.http.post("/api/service/create", json={"issuer": "ftp://x"}, headers=OWNER)
    after = (await sqlite_node.http.get("/api/service/get/list", headers=OWNER)).json()
    assert after["totalCount"] == before["totalCount"]


@pytest.mark.parametrize(("headers", "status", "code"), [
    ({}, 401, "A001202"),
    (basic("nobody", "x"), 401, "A002201"),
    (basic("7700112233", "wrong"), 401, "A002205"),
    ({"Authorization": "Basic !!!"}, 400, "A001203"),
    ({"Authorization": "Digest abc"}, 400, "A001203"),
    (bearer("not-a-token"), 401, "A001205"),
], ids=["missing", "unknown-owner", "wrong-secret", "not-base64", "other-scheme",
        "unknown-token"])
async def test_owner_authentication_errors(sqlite_node, headers, status, code):
    response = await sqlite_node.http.get("/api/service/get/list", headers=headers)
    assert response.status_code == status
    assert response.json()["resultCode"] == code
    assert response.json()["resultMessage"].startswith(f"[{code}] /service/get/list, ")


async def test_service_credentials_cannot_call_owner_apis(sqlite_node):
    service = await create_service(sqlite_node)
    response = await sqlite_node.http.get(
        "/api/service/get/list", headers=basic(service["apiKey"], service["apiSecret"]))
    assert response.status_code == 401
    assert response.json()["resultCode"] == "A002201"

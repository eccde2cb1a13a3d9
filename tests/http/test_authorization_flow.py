"""The authorization endpoint APIs and the code grant end to end over HTTP (reference §2.1,
§2.2), with ID tokens checked by Authlib's independent OIDC validation."""

import base64
import gc
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import trio
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oidc.core import CodeIDToken, HybridIDToken
from quart.ctx import RequestContext

from tests.support import OWNER, basic

pytestmark = pytest.mark.trio

REDIRECT = "https://rp.example.com/cb"
ISSUER = "https://as.example.com"


async def setup(node, **client_members):
    service = (await node.http.post("/api/service/create", headers=OWNER, json={
        "serviceName": "Flows", "issuer": ISSUER, "tokenEndpoint": f"{ISSUER}/token",
        "supportedScopes": [{"name": "openid"}, {"name": "profile"}, {"name": "email"}],
        "supportedResponseTypes": ["CODE", "CODE_ID_TOKEN", "ID_TOKEN", "CODE_TOKEN"],
        "supportedGrantTypes": ["AUTHORIZATION_CODE", "REFRESH_TOKEN", "IMPLICIT"],
    })).json()
    auth = basic(service["apiKey"], service["apiSecret"])
    client = (await node.http.post("/api/client/create", headers=auth, json={
        "clientName": "rp", "redirectUris": [REDIRECT],
        "grantTypes": ["AUTHORIZATION_CODE", "REFRESH_TOKEN", "IMPLICIT"],
        "responseTypes": ["CODE", "CODE_ID_TOKEN", "ID_TOKEN", "CODE_TOKEN"], **client_members,
    })).json()
    return service, auth, client


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


async def authorize(node, auth, client, **parameters) -> dict:
    query = {"response_type": "code", "client_id": client["clientId"],
             "redirect_uri": REDIRECT, "scope": "openid profile", "state": "st-1",
             "nonce": "n-1", **parameters}
    response = await node.http.post("/api/auth/authorization", headers=auth,
                                    json={"parameters": urlencode(query), "context": "ctx"})
    assert response.status_code == 200, response.text
    return response.json()


async def issue(node, auth, ticket: str, **members) -> dict:
    body = {"ticket": ticket, "subject": "alice", "authTime": 1_700_000_000,
            "claims": json.dumps({"name": "Alice", "email": "alice@example.com"}), **members}
    return (await node.http.post("/api/auth/authorization/issue", headers=auth,
                                 json=body)).json()


async def exchange(node, auth, client, code: str, **form) -> dict:
    parameters = {"grant_type": "authorization_code", "code": code,
                  "redirect_uri": REDIRECT, **form}
    return (await node.http.post("/api/auth/token", headers=auth, json={
        "parameters": urlencode(parameters), "clientId": str(client["clientId"]),
        "clientSecret": client["clientSecret"]})).json()


async def verify_id_token(node, auth, token: str, claims_class, **params) -> dict:
    jwks = (await node.http.get("/api/service/jwks/get", headers=auth)).json()
    claims = JsonWebToken(["RS256", "ES256", "PS256"]).decode(
        token, JsonWebKey.import_key_set(jwks), claims_cls=claims_class,
        claims_options={"iss": {"values": [ISSUER]}}, claims_params=params)
    claims.validate()
    return dict(claims)


async def test_code_flow_with_pkce_and_id_token(node):
    _, auth, client = await setup(node)
    verifier, challenge = pkce_pair()
    started = await authorize(node, auth, client, code_challenge=challenge,
                              code_challenge_method="S256")
    assert (started["action"], started["resultCode"]) == ("INTERACTION", "A004001")
    assert started["client"]["clientId"] == client["clientId"]
    assert "clientSecret" not in started["client"] and "apiSecret" not in started["service"]
    assert [s["name"] for s in started["scopes"]] == ["openid", "profile"]
    assert "name" in started["claimsAtUserInfo"]

    issued = await issue(node, auth, started["ticket"])
    assert (issued["action"], issued["resultCode"]) == ("LOCATION", "A040001")
    location = urlsplit(issued["responseContent"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["state"] == "st-1" and query["iss"] == ISSUER
    assert query["code"] == issued["authorizationCode"]

    tokens = await exchange(node, auth, client, query["code"], code_verifier=verifier)
    assert (tokens["action"], tokens["resultCode"]) == ("OK", "A050001")
    content = json.loads(tokens["responseContent"])
    assert content["refresh_token"] and content["scope"] == "openid profile"
    claims = await verify_id_token(node, auth, content["id_token"], CodeIDToken, nonce="n-1",
                                   client_id=str(client["clientId"]),
                                   access_token=content["access_token"])
    assert claims["sub"] == "alice" and claims["auth_time"] == 1_700_000_000
    assert "name" not in claims, "scope claims go to userinfo when an access token is issued"


async def test_replayed_code_is_refused_and_revokes_its_tokens(node):
    _, auth, client = await setup(node)
    started = await authorize(node, auth, client)
    code = (await issue(node, auth, started["ticket"]))["authorizationCode"]
    first = await exchange(node, auth, client, code)
    access_token = json.loads(first["responseContent"])["access_token"]
    second = await exchange(node, auth, client, code)
    assert (second["action"], second["resultCode"]) == ("BAD_REQUEST", "A050306")
    assert json.loads(second["responseContent"])["error"] == "invalid_grant"
    introspected = (await node.http.post("/api/auth/introspection", headers=auth,
                                         json={"token": access_token})).json()
    assert introspected["resultCode"] == "A088302"


@pytest.mark.parametrize(("form", "code"), [
    ({}, "A050312"),
    ({"code_verifier": "x" * 43}, "A050315"),
    ({"code_verifier": "short"}, "A050313"),
    ({"code_verifier": "VERIFIER", "redirect_uri": "https://rp.example.com/other"}, "A050309"),
], ids=["verifier-missing", "verifier-wrong", "verifier-malformed", "redirect-uri-differs"])
async def test_code_exchange_checks(sqlite_node, form, code):
    _, auth, client = await setup(sqlite_node)
    verifier, challenge = pkce_pair()
    started = await authorize(sqlite_node, auth, client, code_challenge=challenge,
                              code_challenge_method="S256")
    value = (await issue(sqlite_node, auth, started["ticket"]))["authorizationCode"]
    form = {k: (verifier if v == "VERIFIER" else v) for k, v in form.items()}
    result = await exchange(sqlite_node, auth, client, value, **form)
    assert (result["action"], result["resultCode"]) == ("BAD_REQUEST", code)


async def test_hybrid_flow_returns_id_token_with_c_hash_in_the_fragment(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    started = await authorize(sqlite_node, auth, client, response_type="code id_token")
    issued = await issue(sqlite_node, auth, started["ticket"])
    fragment = {k: v[0] for k, v in parse_qs(urlsplit(issued["responseContent"]).fragment).items()}
    assert {"code", "id_token", "state", "iss"} <= fragment.keys()
    await verify_id_token(sqlite_node, auth, fragment["id_token"], HybridIDToken, nonce="n-1",
                          client_id=str(client["clientId"]), code=fragment["code"])


async def test_form_post_answers_with_an_html_form(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    started = await authorize(sqlite_node, auth, client, response_mode="form_post")
    issued = await issue(sqlite_node, auth, started["ticket"])
    assert issued["action"] == "FORM"
    assert f'action="{REDIRECT}"' in issued["responseContent"]
    assert issued["authorizationCode"] in issued["responseContent"]


async def test_fail_redirects_the_error_and_the_ticket_is_spent(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    started = await authorize(sqlite_node, auth, client)
    failed = (await sqlite_node.http.post("/api/auth/authorization/fail", headers=auth, json={
        "ticket": started["ticket"], "reason": "DENIED"})).json()
    assert failed["action"] == "LOCATION"
    query = parse_qs(urlsplit(failed["responseContent"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["st-1"]
    again = await issue(sqlite_node, auth, started["ticket"])
    assert (again["action"], again["resultCode"]) == ("BAD_REQUEST", "A041202")

    started = await authorize(sqlite_node, auth, client, prompt="none")
    assert started["action"] == "NO_INTERACTION"
    failed = (await sqlite_node.http.post("/api/auth/authorization/fail", headers=auth, json={
        "ticket": started["ticket"], "reason": "NOT_LOGGED_IN"})).json()
    assert parse_qs(urlsplit(failed["responseContent"]).query)["error"] == ["login_required"]


async def test_unregistered_redirect_uri_is_not_redirected(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    result = await authorize(sqlite_node, auth, client, redirect_uri="https://evil.example/cb")
    assert (result["action"], result["resultCode"]) == ("BAD_REQUEST", "A011304")
    assert json.loads(result["responseContent"])["error"] == "invalid_request"


async def test_ticket_info_and_update(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    started = await authorize(sqlite_node, auth, client)
    info = (await sqlite_node.http.post("/api/auth/authorization/ticket/info", headers=auth,
                                        json={"ticket": started["ticket"]})).json()
    assert info["action"] == "OK" and info["info"] == {"context": "ctx"}
    updated = (await sqlite_node.http.post("/api/auth/authorization/ticket/update",
                                           headers=auth, json={"ticket": started["ticket"],
                                                               "info": {"context": "new"}})).json()
    assert updated["action"] == "OK"
    info = (await sqlite_node.http.post("/api/auth/authorization/ticket/info", headers=auth,
                                        json={"ticket": started["ticket"]})).json()
    assert info["info"] == {"context": "new"}
    missing = (await sqlite_node.http.post("/api/auth/authorization/ticket/info", headers=auth,
                                           json={"ticket": "nope"})).json()
    assert missing["action"] == "NOT_FOUND"


@pytest.mark.postgres
async def test_concurrent_code_redemptions_on_postgres_exactly_one_wins(nursery, postgres_url,
                                                                       tmp_path):
    from tests.conftest import _running_node
    from tests.support import node_settings

    async with _running_node(nursery, node_settings(postgres_url, tmp_path)) as node:
        _, auth, client = await setup(node)
        started = await authorize(node, auth, client)
        code = (await issue(node, auth, started["ticket"]))["authorizationCode"]
        results = []

        async def redeem():
            results.append(await exchange(node, auth, client, code))
        async with trio.open_nursery() as racers:
            for _ in range(6):
                racers.start_soon(redeem)
        assert [r["action"] for r in results].count("OK") == 1
        assert {r["resultCode"] for r in results if r["action"] != "OK"} == {"A050306"}


async def test_refresh_can_reissue_an_id_token(sqlite_node):
    service, auth, client = await setup(sqlite_node)
    await sqlite_node.http.post(f"/api/service/update/{service['apiKey']}", headers=OWNER,
                                json={**service, "idTokenReissuable": True})
    started = await authorize(sqlite_node, auth, client)
    code = (await issue(sqlite_node, auth, started["ticket"]))["authorizationCode"]
    first = json.loads((await exchange(sqlite_node, auth, client, code))["responseContent"])
    refreshed = (await sqlite_node.http.post("/api/auth/token", headers=auth, json={
        "parameters": urlencode({"grant_type": "refresh_token",
                                 "refresh_token": first["refresh_token"]}),
        "clientId": str(client["clientId"]), "clientSecret": client["clientSecret"]})).json()
    assert refreshed["action"] == "ID_TOKEN_REISSUABLE"
    tokens = json.loads(refreshed["responseContent"])
    reissued = (await sqlite_node.http.post("/api/idtoken/reissue", headers=auth, json={
        "accessToken": tokens["access_token"], "refreshToken": tokens["refresh_token"],
        "claims": json.dumps({"name": "Alice"})})).json()
    assert (reissued["action"], reissued["resultCode"]) == ("OK", "A346001")
    content = json.loads(reissued["responseContent"])
    assert content["access_token"] == tokens["access_token"]
    claims = await verify_id_token(sqlite_node, auth, content["id_token"], CodeIDToken,
                                   client_id=str(client["clientId"]),
                                   access_token=tokens["access_token"])
    assert claims["sub"] == "alice" and claims["name"] == "Alice"
    stale = (await sqlite_node.http.post("/api/idtoken/reissue", headers=auth, json={
        "accessToken": first["access_token"], "refreshToken": first["refresh_token"]})).json()
    assert (stale["action"], stale["resultCode"]) == ("CALLER_ERROR", "A346202")


async def pairwise_sub(node, auth, client, redirect_uri=REDIRECT) -> tuple[str, str]:
    started = await authorize(node, auth, client, redirect_uri=redirect_uri)
    code = (await issue(node, auth, started["ticket"]))["authorizationCode"]
    exchanged = await exchange(node, auth, client, code, redirect_uri=redirect_uri)
    content = json.loads(exchanged["responseContent"])
    claims = await verify_id_token(node, auth, content["id_token"], CodeIDToken, nonce="n-1",
                                   client_id=str(client["clientId"]),
                                   access_token=content["access_token"])
    return claims["sub"], content["access_token"]


async def test_pairwise_subjects_are_stable_per_sector_and_differ_across_sectors(sqlite_node):
    service, auth, client = await setup(sqlite_node, subjectType="PAIRWISE")
    first, access_token = await pairwise_sub(sqlite_node, auth, client)
    second, _ = await pairwise_sub(sqlite_node, auth, client)
    assert first == second != "alice"
    other = (await sqlite_node.http.post("/api/client/create", headers=auth, json={
        "clientName": "other", "subjectType": "PAIRWISE",
        "redirectUris": ["https://other.example.org/cb"],
        "grantTypes": ["AUTHORIZATION_CODE"], "responseTypes": ["CODE"]})).json()
    elsewhere, _ = await pairwise_sub(sqlite_node, auth, other, "https://other.example.org/cb")
    assert elsewhere not in (first, "alice")
    info = (await sqlite_node.http.post("/api/auth/userinfo/issue", headers=auth, json={
        "token": access_token, "claims": "{}"})).json()
    assert json.loads(info["responseContent"])["sub"] == first
    assert "_pairwiseSalt" not in (await sqlite_node.http.get(
        f"/api/service/get/{service['apiKey']}", headers=OWNER)).json()


async def test_id_token_hint_names_the_expected_subject_and_forgeries_are_refused(sqlite_node):
    _, auth, client = await setup(sqlite_node)
    started = await authorize(sqlite_node, auth, client)
    code = (await issue(sqlite_node, auth, started["ticket"]))["authorizationCode"]
    id_token = json.loads((await exchange(sqlite_node, auth, client, code))[
        "responseContent"])["id_token"]
    hinted = await authorize(sqlite_node, auth, client, prompt="none", id_token_hint=id_token)
    assert (hinted["action"], hinted["subject"]) == ("NO_INTERACTION", "alice")

    header, payload, signature = id_token.split(".")
    forged_payload = base64.urlsafe_b64encode(json.dumps(
        {**json.loads(base64.urlsafe_b64decode(payload + "==")), "sub": "mallory"}
    ).encode()).rstrip(b"=").decode()
    forged = await authorize(sqlite_node, auth, client, prompt="none",
                             id_token_hint=f"{header}.{forged_payload}.{signature}")
    assert (forged["action"], forged["resultCode"]) == ("LOCATION", "A004380")
    assert parse_qs(urlsplit(forged["responseContent"]).query)["error"] == ["invalid_request"]

    other = (await sqlite_node.http.post("/api/client/create", headers=auth, json={
        "clientName": "other", "redirectUris": [REDIRECT],
        "grantTypes": ["AUTHORIZATION_CODE"], "responseTypes": ["CODE"]})).json()
    elsewhere = await authorize(sqlite_node, auth, other, id_token_hint=id_token)
    assert elsewhere["resultCode"] == "A004380"
    assert "'aud'" in elsewhere["resultMessage"]


async def test_finished_requests_leave_nothing_behind(node):
    """No request outlives its response: on PostgreSQL, asyncpg's idle-connection and statement
    timers used to pin every request's context (and so the request) for minutes."""
    _, auth, client = await setup(node)
    for _ in range(25):
        ticket = (await authorize(node, auth, client))["ticket"]
        redirect = (await issue(node, auth, ticket))["responseContent"]
        code = parse_qs(urlsplit(redirect).query)["code"][0]
        assert (await exchange(node, auth, client, code))["action"] == "OK"
    gc.collect()
    assert [item for item in gc.get_objects() if isinstance(item, RequestContext)] == []


@pytest.mark.parametrize(("parameters", "acrs"), [
    ({"acr_values": "urn:a urn:b"}, ["urn:a", "urn:b"]),
    ({"claims": json.dumps({"id_token": {"acr": {"essential": True,
                                                   "values": ["urn:mfa"]}}})}, ["urn:mfa"]),
    ({"claims": json.dumps({"id_token": {"acr": {"value": "urn:one"}}})}, ["urn:one"]),
    ({}, None),
], ids=["acr_values", "claims-acr-values", "claims-acr-value", "none"])
async def test_interaction_names_the_acrs_asked_for(sqlite_node, parameters, acrs):
    """OIDC Core §3.1.2.1 acr_values and §5.5.1.1 the claims parameter's acr request."""
    _, auth, client = await setup(sqlite_node)
    started = await authorize(sqlite_node, auth, client, **parameters)
    assert started["action"] == "INTERACTION"
    assert started["acrs"] == acrs

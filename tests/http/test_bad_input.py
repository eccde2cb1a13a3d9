"""A client's or caller's malformed input gets a specific result code and message — never a
500 — and spends no single-use value (found by review; each case was a crash or a loss)."""

import base64
import json
from urllib.parse import urlencode

import pytest

from tests.http.test_authorization_flow import REDIRECT, authorize, exchange, issue
from tests.http.test_authorization_flow import setup as flow_setup
from tests.http.test_token_endpoint import password_tokens, token
from tests.http.test_token_endpoint import setup as token_setup
from tests.support import basic

pytestmark = pytest.mark.trio


async def post(node, auth, path, body):
    response = await node.http.post(path, headers=auth, json=body)
    assert response.status_code != 500, response.text
    return response


async def test_non_ascii_digits_in_credentials_and_client_ids(sqlite_node):
    response = await sqlite_node.http.get("/api/client/get/list", headers=basic("²", "x"))
    assert (response.status_code, response.json()["resultCode"]) == (401, "A003201")
    _, auth, client = await flow_setup(sqlite_node)
    result = (await post(sqlite_node, auth, "/api/auth/authorization", {
        "parameters": urlencode({"response_type": "code", "client_id": "²",
                                 "redirect_uri": REDIRECT})})).json()
    assert result["action"] == "BAD_REQUEST"
    arabic_one = "\u0661"
    result = await authorize(sqlite_node, auth, client, client_id=arabic_one)
    assert result["action"] == "BAD_REQUEST", "U+0661 must not resolve to a numeric client ID"


@pytest.mark.parametrize("properties", ["abc", {"key": "k"}, ["k"], [{"value": "v"}]],
                         ids=["string", "object", "list-of-strings", "no-key"])
async def test_malformed_properties_are_refused_before_anything_is_stored(sqlite_node,
                                                                          properties):
    _, auth, client = await token_setup(sqlite_node)
    result = await token(sqlite_node, auth, client, {"grant_type": "client_credentials"},
                         properties=properties)
    assert (result["action"], result["resultCode"]) == ("INTERNAL_SERVER_ERROR", "A050201")
    listed = (await sqlite_node.http.get("/api/auth/token/get/list", headers=auth)).json()
    assert listed["totalCount"] == 0


async def test_type_errors_in_action_api_bodies(sqlite_node):
    _, auth, client = await token_setup(sqlite_node)
    cases = [
        ("/api/auth/introspection", {"token": "x", "scopes": "read"}, "A056202"),
        ("/api/auth/authorization", {"parameters": 5}, "A004201"),
        ("/api/auth/authorization/ticket/update", {"ticket": "t", "info": "x"}, "A041201"),
    ]
    for path, body, code in cases:
        result = (await post(sqlite_node, auth, path, body)).json()
        assert result["resultCode"] == code, (path, result)
    result = await token(sqlite_node, auth, client, {"grant_type": "client_credentials"},
                         basic_secret=False, clientId=str(client["clientId"]), clientSecret=123)
    assert result["action"] == "INVALID_CLIENT"


async def test_a_client_assertion_with_a_non_string_alg_is_an_invalid_client(sqlite_node):
    _, auth, client = await token_setup(sqlite_node)
    header = base64.urlsafe_b64encode(json.dumps({"alg": ["HS256"]}).encode()).rstrip(b"=")
    claims = base64.urlsafe_b64encode(b'{"iss":"x"}').rstrip(b"=")
    assertion = f"{header.decode()}.{claims.decode()}.c2ln"
    result = await token(sqlite_node, auth, client, {
        "grant_type": "client_credentials", "client_id": str(client["clientId"]),
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion}, basic_secret=False)
    assert result["action"] == "INVALID_CLIENT"


async def test_another_clients_code_is_refused_without_spending_it(sqlite_node):
    _, auth, client = await flow_setup(sqlite_node)
    thief = (await sqlite_node.http.post("/api/client/create", headers=auth, json={
        "clientName": "thief", "redirectUris": [REDIRECT],
        "grantTypes": ["AUTHORIZATION_CODE"], "responseTypes": ["CODE"]})).json()
    started = await authorize(sqlite_node, auth, client)
    code = (await issue(sqlite_node, auth, started["ticket"]))["authorizationCode"]
    stolen = await exchange(sqlite_node, auth, thief, code)
    assert (stolen["action"], stolen["resultCode"]) == ("BAD_REQUEST", "A050307")
    rightful = await exchange(sqlite_node, auth, client, code)
    assert rightful["action"] == "OK"


async def test_a_rejected_issue_call_does_not_spend_the_ticket(sqlite_node):
    _, auth, client = await token_setup(sqlite_node)
    started = await token(sqlite_node, auth, client, {"grant_type": "password",
                                                      "username": "u", "password": "p"})
    missing = (await post(sqlite_node, auth, "/api/auth/token/issue",
                          {"ticket": started["ticket"]})).json()
    assert (missing["action"], missing["resultCode"]) == ("INTERNAL_SERVER_ERROR", "A054202")
    retried = (await post(sqlite_node, auth, "/api/auth/token/issue",
                          {"ticket": started["ticket"], "subject": "u"})).json()
    assert retried["action"] == "OK"

    _, auth, client = await flow_setup(sqlite_node)
    started = await authorize(sqlite_node, auth, client)
    missing = (await post(sqlite_node, auth, "/api/auth/authorization/issue",
                          {"ticket": started["ticket"]})).json()
    assert missing["resultCode"] == "A042201"
    assert (await issue(sqlite_node, auth, started["ticket"]))["action"] == "LOCATION"


async def test_error_descriptions_use_only_the_characters_rfc_6749_allows(sqlite_node):
    _, auth, client = await token_setup(sqlite_node)
    body = {"parameters": "grant_type=password&grant_type=password",
            "clientId": str(client["clientId"]), "clientSecret": client["clientSecret"]}
    result = (await post(sqlite_node, auth, "/api/auth/token", body)).json()
    description = json.loads(result["responseContent"])["error_description"]
    assert "§" in result["resultMessage"] and "§" not in description
    assert all(0x20 <= ord(ch) <= 0x7E and ch not in '"\\' for ch in description)
    assert password_tokens  # the shared helpers above drive the real flows


async def test_a_ticket_sent_to_the_wrong_api_is_not_spent(sqlite_node):
    _, auth, client = await flow_setup(sqlite_node)
    started = await authorize(sqlite_node, auth, client)
    wrong = (await post(sqlite_node, auth, "/api/auth/token/fail",
                        {"ticket": started["ticket"], "reason": "UNKNOWN"})).json()
    assert wrong["resultCode"] == "A054203"
    assert (await issue(sqlite_node, auth, started["ticket"]))["action"] == "LOCATION"

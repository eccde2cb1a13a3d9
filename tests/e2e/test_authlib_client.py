"""Authlib's OAuth 2.0 client (httpx integration) against the running demo stack: every grant,
every client authentication method, and every ID token checked against the front-end's JWKS."""

import json
import secrets
import time
from pathlib import Path

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from authlib.jose import JsonWebKey, jwt
from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT
from authlib.oidc.core import CodeIDToken
from joserfc.jwk import RSAKey

from tests.e2e.agent import page_kind, redirect_parameters

SCOPE = "openid profile email"


# --- helpers -------------------------------------------------------------------------------

def oauth_client(stack, client: dict, method: str, **kwargs) -> OAuth2Client:
    token_endpoint = f"{stack.issuer}/token"
    session = OAuth2Client(client["clientId"], client.get("clientSecret"),
                           token_endpoint_auth_method=method,
                           redirect_uri=client.get("redirectUri"), scope=SCOPE,
                           code_challenge_method="S256", **kwargs)
    if method == "private_key_jwt":
        session.register_client_auth_method(PrivateKeyJWT(token_endpoint))
    if method == "client_secret_jwt":
        session.register_client_auth_method(ClientSecretJWT(token_endpoint))
    return session


def authorize(stack, agent, session: OAuth2Client, username="alice", **extra):
    """Run the authorization request through login and consent; the client's view of it:
    (callback URL, code_verifier, nonce, state)."""
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    url, state = session.create_authorization_url(f"{stack.issuer}/authorize",
                                                  code_verifier=verifier, nonce=nonce, **extra)
    page = agent.open(url)
    if page_kind(page) == "login":
        page = agent.sign_in(page, username, stack.password(username))
    if page_kind(page) == "consent":
        page = agent.decide(page, "approve")
    assert "code" in redirect_parameters(page), page.headers["Location"]
    return page.headers["Location"], verifier, nonce, state


def code_flow(stack, agent, session: OAuth2Client, **extra) -> tuple[dict, str]:
    callback, verifier, nonce, _ = authorize(stack, agent, session, **extra)
    token = session.fetch_token(f"{stack.issuer}/token", authorization_response=callback,
                                code_verifier=verifier)
    return token, nonce


def id_token_claims(stack, token: dict, client_id: str, nonce: str | None):
    """OIDC Core §3.1.3.7: signature against the front-end's JWKS, iss, aud, nonce, at_hash."""
    jwks = httpx.get(f"{stack.issuer}/jwks").json()
    claims = jwt.decode(token["id_token"], JsonWebKey.import_key_set(jwks),
                        claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": stack.issuer}},
                        claims_params={"nonce": nonce, "client_id": client_id,
                                       "access_token": token["access_token"]})
    claims.validate(leeway=5)
    return claims


def private_key(stack) -> dict:
    return json.loads(Path(stack.client("private_key_jwt")["privateKeyFile"]).read_text())


# --- authorization code + PKCE, with each client authentication method ---------------------

@pytest.fixture(scope="module")
def secret_post_client(stack):
    return stack.add_client("Authlib client_secret_post", "CLIENT_SECRET_POST")


@pytest.fixture(scope="module")
def secret_jwt_client(stack):
    return stack.add_client("Authlib client_secret_jwt", "CLIENT_SECRET_JWT")


def _session_for(stack, method, secret_post_client, secret_jwt_client):
    if method == "client_secret_basic":
        return stack.client("confidential"), oauth_client(stack, stack.client("confidential"),
                                                          method)
    if method == "client_secret_post":
        return secret_post_client, oauth_client(stack, secret_post_client, method)
    if method == "client_secret_jwt":
        return secret_jwt_client, oauth_client(stack, secret_jwt_client, method)
    if method == "private_key_jwt":
        client = {**stack.client("private_key_jwt"), "clientSecret": private_key(stack)}
        return client, oauth_client(stack, client, method)
    return stack.client("public"), oauth_client(stack, stack.client("public"), "none")


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post",
                                    "client_secret_jwt", "private_key_jwt", "none"])
def test_code_flow_with_pkce(stack, agent, method, secret_post_client, secret_jwt_client):
    client, session = _session_for(stack, method, secret_post_client, secret_jwt_client)
    token, nonce = code_flow(stack, agent, session)
    assert token["token_type"] == "Bearer"
    assert token["refresh_token"]
    claims = id_token_claims(stack, token, client["clientId"], nonce)
    assert claims["sub"] == "alice"
    assert abs(claims["auth_time"] - time.time()) < 120


def test_refresh_token_rotates_and_the_new_one_works(stack, agent):
    session = oauth_client(stack, stack.client("confidential"), "client_secret_basic")
    token, _ = code_flow(stack, agent, session)
    refreshed = session.refresh_token(f"{stack.issuer}/token",
                                      refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    # OIDC Core §12.2: the demo service re-issues ID tokens on refresh (idTokenReissuable)
    assert id_token_claims(stack, refreshed, session.client_id, None)["sub"] == "alice"
    userinfo = session.get(f"{stack.issuer}/userinfo")
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == "alice"


def test_offline_access_needs_and_gets_explicit_consent(stack, agent):
    """OIDC Core §11: offline_access is honoured only with prompt=consent."""
    session = oauth_client(stack, stack.client("confidential"), "client_secret_basic")
    url, _ = session.create_authorization_url(f"{stack.issuer}/authorize",
                                              scope="openid offline_access",
                                              code_verifier=secrets.token_urlsafe(48))
    assert redirect_parameters(agent.open(url))["error"] == "invalid_request"
    token, _ = code_flow(stack, agent, session, scope="openid offline_access",
                         prompt="consent")
    assert token["refresh_token"]
    assert set(token["scope"].split()) == {"openid", "offline_access"}


def test_client_credentials(stack):
    session = oauth_client(stack, stack.client("confidential"), "client_secret_basic")
    token = session.fetch_token(f"{stack.issuer}/token", grant_type="client_credentials",
                                scope="api.read")
    assert token["scope"] == "api.read"
    assert "refresh_token" not in token
    introspected = _introspect(stack, token["access_token"])
    assert introspected["active"] is True
    assert introspected["client_id"] == stack.client("confidential")["clientId"]


def test_password_grant_checks_the_users_password(stack):
    session = oauth_client(stack, stack.client("confidential"), "client_secret_basic")
    token = session.fetch_token(f"{stack.issuer}/token", username="bob",
                                password=stack.password("bob"), scope="openid email")
    assert _introspect(stack, token["access_token"])["sub"] == "bob"
    assert "id_token" not in token   # RFC 6749 §4.3: an OAuth grant; no ID token here
    with pytest.raises(OAuthError) as refused:
        session.fetch_token(f"{stack.issuer}/token", username="bob", password="wrong",
                            scope="openid")
    assert refused.value.error == "invalid_grant"   # RFC 6749 §5.2


# --- introspection, revocation, userinfo ---------------------------------------------------

def _introspect(stack, token: str) -> dict:
    rs_id, rs_secret = stack.resource_server
    with OAuth2Client(rs_id, rs_secret) as resource_server:
        response = resource_server.introspect_token(f"{stack.issuer}/introspect", token=token)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()


def test_introspection_for_a_resource_server(stack, agent):
    session = oauth_client(stack, stack.client("confidential"), "client_secret_basic")
    token, _ = code_flow(stack, agent, session)
    introspected = _introspect(stack, token["access_token"])
    assert introspected["active"] is True
    assert introspected["sub"] == "alice"
    assert set(introspected["scope"].split()) == set(SCOPE.split())
    assert introspected["client_id"] == stack.client("confidential")["clientId"]
    assert _introspect(stack, "not-a-token") == {"active": False}


def test_introspection_refuses_a_caller_without_resource_server_credentials(stack):
    client = stack.client("confidential")
    response = httpx.post(f"{stack.issuer}/introspect", data={"token": "x"},
                          auth=(client["clientId"], client["clientSecret"]))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="introspection"'
    assert response.json()["error"] == "invalid_client"


def test_revocation_of_the_refresh_token_ends_the_grant(stack, agent):
    session = oauth_client(stack, stack.client("confidential"), "client_secret_basic")
    token, _ = code_flow(stack, agent, session)
    response = session.revoke_token(f"{stack.issuer}/revoke", token=token["refresh_token"],
                                    token_type_hint="refresh_token")
    assert response.status_code == 200
    assert _introspect(stack, token["access_token"])["active"] is False
    with pytest.raises(OAuthError) as refused:
        session.refresh_token(f"{stack.issuer}/token", refresh_token=token["refresh_token"])
    assert refused.value.error == "invalid_grant"


@pytest.mark.parametrize("style", ["GET-header", "POST-header", "POST-form"])
def test_userinfo(stack, agent, style):
    session = oauth_client(stack, stack.client("confidential"), "client_secret_basic")
    token, _ = code_flow(stack, agent, session)
    url, access_token = f"{stack.issuer}/userinfo", token["access_token"]
    if style == "GET-header":
        response = httpx.get(url, headers={"Authorization": f"Bearer {access_token}"})
    elif style == "POST-header":
        response = httpx.post(url, headers={"Authorization": f"Bearer {access_token}"})
    else:
        response = httpx.post(url, data={"access_token": access_token})
    assert response.status_code == 200, response.text
    assert response.json() == {"sub": "alice", "name": "Alice Example",
                               "given_name": "Alice", "family_name": "Example",
                               "preferred_username": "alice", "locale": "en-GB",
                               "email": "alice@example.com", "email_verified": True}


def test_userinfo_without_a_valid_token_is_refused_with_a_challenge(stack):
    response = httpx.get(f"{stack.issuer}/userinfo",
                         headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


# --- error paths ---------------------------------------------------------------------------

def test_consent_denied(stack, agent):
    session = oauth_client(stack, stack.client("confidential"), "client_secret_basic")
    url, state = session.create_authorization_url(f"{stack.issuer}/authorize",
                                                  code_verifier=secrets.token_urlsafe(48))
    page = agent.sign_in(agent.open(url), "bob", stack.password("bob"))
    assert page_kind(page) == "consent"
    answer = redirect_parameters(agent.decide(page, "deny"))
    assert answer["error"] == "access_denied"
    assert answer["state"] == state
    assert answer["iss"] == stack.issuer


def test_unregistered_redirect_uri_is_not_redirected_to(stack, agent):
    client = {**stack.client("confidential"), "redirectUri": "https://attacker.example/cb"}
    session = oauth_client(stack, client, "client_secret_basic")
    url, _ = session.create_authorization_url(f"{stack.issuer}/authorize")
    response = agent.open(url)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.json()["error"] == "invalid_request"
    assert "attacker.example" in response.json()["error_description"]


def test_prompt_none_without_a_session(stack, agent):
    session = oauth_client(stack, stack.client("confidential"), "client_secret_basic")
    url, state = session.create_authorization_url(f"{stack.issuer}/authorize", prompt="none",
                                                  nonce="n")
    answer = redirect_parameters(agent.open(url))
    assert answer["error"] == "login_required"
    assert answer["state"] == state


def test_replayed_code_is_refused(stack, agent):
    session = oauth_client(stack, stack.client("confidential"), "client_secret_basic")
    callback, verifier, _, _ = authorize(stack, agent, session)
    first = session.fetch_token(f"{stack.issuer}/token", authorization_response=callback,
                                code_verifier=verifier)
    with pytest.raises(OAuthError) as refused:
        session.fetch_token(f"{stack.issuer}/token", authorization_response=callback,
                            code_verifier=verifier)
    assert refused.value.error == "invalid_grant"
    # RFC 6749 §4.1.2: the tokens issued with a replayed code are revoked
    assert _introspect(stack, first["access_token"])["active"] is False


def test_private_key_jwt_signed_with_another_key_is_refused(stack, agent):
    stranger = RSAKey.generate_key(2048, private=True).as_dict(private=True)
    client = {**stack.client("private_key_jwt"), "clientSecret": stranger}
    session = oauth_client(stack, client, "private_key_jwt")
    with pytest.raises(OAuthError) as refused:
        session.fetch_token(f"{stack.issuer}/token", grant_type="client_credentials")
    assert refused.value.error == "invalid_client"

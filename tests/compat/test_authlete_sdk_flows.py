"""Complete OAuth 2.0 / OpenID Connect flows through Authlete's Python SDK (authlete 1.3.0),
unchanged, against a real Tessera node process.

Reference §2.0 to §2.6: every end-user or client mistake comes back as HTTP 200 with an `action`
the front-end maps, never as an exception; §1.4: every response must parse in the SDK (an enum
value it does not know raises KeyError inside the SDK call). The front-end here is this test:
it relays the client's query string or form body in `parameters`, plays the login and consent
page by calling `/issue` or `/fail`, and checks what a relying party or resource server would
check, the ID token and the JWT access token with Authlib against the service's JWK Set.

One node per module and database (SQLite, PostgreSQL); the services are shared by the module,
every test registers its own client. Flows run in v2 mode (service API key and secret); the
code flow runs once more in v3 mode (Bearer service access token, `/api/{serviceId}/...`).
"""

import base64
import hashlib
import json
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlete.api.authlete_api_impl import AuthleteApiImpl
from authlete.conf.authlete_configuration import AuthleteConfiguration
from authlete.dto.authorization_action import AuthorizationAction
from authlete.dto.authorization_fail_action import AuthorizationFailAction
from authlete.dto.authorization_fail_reason import AuthorizationFailReason
from authlete.dto.authorization_fail_request import AuthorizationFailRequest
from authlete.dto.authorization_issue_action import AuthorizationIssueAction
from authlete.dto.authorization_issue_request import AuthorizationIssueRequest
from authlete.dto.authorization_issue_response import AuthorizationIssueResponse
from authlete.dto.authorization_request import AuthorizationRequest
from authlete.dto.authorization_response import AuthorizationResponse
from authlete.dto.client import Client
from authlete.dto.introspection_action import IntrospectionAction
from authlete.dto.introspection_request import IntrospectionRequest
from authlete.dto.introspection_response import IntrospectionResponse
from authlete.dto.revocation_action import RevocationAction
from authlete.dto.revocation_request import RevocationRequest
from authlete.dto.revocation_response import RevocationResponse
from authlete.dto.scope import Scope
from authlete.dto.service import Service
from authlete.dto.token_action import TokenAction
from authlete.dto.token_fail_action import TokenFailAction
from authlete.dto.token_fail_reason import TokenFailReason
from authlete.dto.token_fail_request import TokenFailRequest
from authlete.dto.token_fail_response import TokenFailResponse
from authlete.dto.token_issue_action import TokenIssueAction
from authlete.dto.token_issue_request import TokenIssueRequest
from authlete.dto.token_issue_response import TokenIssueResponse
from authlete.dto.token_request import TokenRequest
from authlete.dto.token_response import TokenResponse
from authlete.dto.userinfo_action import UserInfoAction
from authlete.dto.userinfo_issue_action import UserInfoIssueAction
from authlete.dto.userinfo_issue_request import UserInfoIssueRequest
from authlete.dto.userinfo_issue_response import UserInfoIssueResponse
from authlete.dto.userinfo_request import UserInfoRequest
from authlete.dto.userinfo_response import UserInfoResponse
from authlete.types.application_type import ApplicationType
from authlete.types.client_auth_method import ClientAuthMethod
from authlete.types.client_type import ClientType
from authlete.types.grant_type import GrantType
from authlete.types.jws_alg import JWSAlg
from authlete.types.response_type import ResponseType
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oidc.core import CodeIDToken

from tests.compat.nodes import TesseraNode
from tests.support import (
    OWNER_KEY,
    OWNER_SECRET,
)

ISSUER = "https://as.example.com"
TOKEN_ENDPOINT = f"{ISSUER}/token"
REDIRECT_URI = "https://rp.example.com/callback"
GRANT_TYPES = [GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN,
               GrantType.CLIENT_CREDENTIALS, GrantType.PASSWORD]
ACCESS_TOKEN_DURATION = 3600

# RFC 7636 Appendix B: the example code_verifier and its S256 code_challenge.
RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

SUBJECT = "alice"
USER_CLAIMS = {"name": "Alice Example", "given_name": "Alice", "family_name": "Example",
               "email": "alice@example.com", "email_verified": True,
               "phone_number": "+1 555 0100"}
# OpenID Connect Core §5.4: the claims the `profile` and `email` scope values request.
PROFILE_AND_EMAIL_CLAIMS = {
    "name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
    "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
    "email", "email_verified"}
RESULT_MESSAGE = re.compile(r"^\[A\d{6}\] ")


# --- the service, its SDK instances and clients ------------------------------------------------

def owner_api(node: TesseraNode) -> AuthleteApiImpl:
    configuration = AuthleteConfiguration()
    configuration.baseUrl = node.base_url
    configuration.serviceOwnerApiKey = OWNER_KEY
    configuration.serviceOwnerApiSecret = OWNER_SECRET
    return AuthleteApiImpl(configuration)


def v2_api(node: TesseraNode, service: Service) -> AuthleteApiImpl:
    """v2 mode: HTTP Basic with the service's API key and secret, paths `/api/...`."""
    configuration = AuthleteConfiguration()
    configuration.apiVersion = "V2"
    configuration.baseUrl = node.base_url
    configuration.serviceApiKey = str(service.apiKey)
    configuration.serviceApiSecret = service.apiSecret
    return AuthleteApiImpl(configuration)


def v3_api(node: TesseraNode, service: Service) -> AuthleteApiImpl:
    """v3 mode: Bearer service access token, paths `/api/{serviceId}/...`."""
    configuration = AuthleteConfiguration()
    configuration.apiVersion = "V3"
    configuration.baseUrl = node.base_url
    configuration.serviceApiKey = str(service.apiKey)
    configuration.serviceAccessToken = node.issue_service_token(service.apiKey)
    return AuthleteApiImpl(configuration)


def scope(name: str, *, default: bool = False) -> Scope:
    entry = Scope()
    entry.name = name
    entry.defaultEntry = default
    return entry


def flow_service(name: str, *, access_token_sign_alg: JWSAlg | None = None) -> Service:
    service = Service()
    service.serviceName = name
    service.issuer = ISSUER
    service.tokenEndpoint = TOKEN_ENDPOINT
    service.supportedScopes = [scope("openid"), scope("profile"), scope("email")]
    service.supportedGrantTypes = GRANT_TYPES
    service.supportedResponseTypes = [ResponseType.CODE]
    service.supportedTokenAuthMethods = [ClientAuthMethod.CLIENT_SECRET_BASIC,
                                         ClientAuthMethod.CLIENT_SECRET_POST]
    service.accessTokenDuration = ACCESS_TOKEN_DURATION
    service.accessTokenSignAlg = access_token_sign_alg
    return service


def flow_client(name: str) -> Client:
    client = Client()
    client.clientName = name
    client.clientType = ClientType.CONFIDENTIAL
    client.applicationType = ApplicationType.WEB
    client.tokenAuthMethod = ClientAuthMethod.CLIENT_SECRET_BASIC
    client.grantTypes = GRANT_TYPES
    client.responseTypes = [ResponseType.CODE]
    client.redirectUris = [REDIRECT_URI]
    return client


@pytest.fixture(scope="module")
def service(node) -> Service:
    """Opaque access tokens; created with the service-owner credentials."""
    return owner_api(node).createService(flow_service("SDK flows"))


@pytest.fixture(scope="module")
def jwt_service(node) -> Service:
    """RFC 9068 JWT access tokens signed with ES256."""
    return owner_api(node).createService(
        flow_service("SDK flows, JWT access tokens", access_token_sign_alg=JWSAlg.ES256))


@pytest.fixture(scope="module")
def api(node, service) -> AuthleteApiImpl:
    return v2_api(node, service)


@pytest.fixture
def client(api, request) -> Client:
    return api.createClient(flow_client(f"RP {request.node.name}"))


def service_jwks(api: AuthleteApiImpl):
    """What a relying party fetches from the `jwks_uri`: the service's public keys."""
    return JsonWebKey.import_key_set(json.loads(api.getServiceJwks()))


# --- what a front-end and a client send --------------------------------------------------------

def authorization_parameters(client: Client, **overrides: str | None) -> str:
    """The client's authorization request (OIDC Core §3.1.2.1 with PKCE, RFC 7636 §4.3);
    an override of None leaves the parameter out."""
    parameters = {"response_type": "code", "client_id": str(client.clientId),
                  "redirect_uri": REDIRECT_URI, "scope": "openid profile email",
                  "state": "af0ifjsldkj", "nonce": "n-0S6_WzA2Mj",
                  "code_challenge": RFC7636_CHALLENGE, "code_challenge_method": "S256",
                  **overrides}
    return urlencode({name: value for name, value in parameters.items() if value is not None})


def authorize(api: AuthleteApiImpl, client: Client, **overrides: str | None
              ) -> AuthorizationResponse:
    return api.authorization(AuthorizationRequest(
        {"parameters": authorization_parameters(client, **overrides)}))


def approve(api: AuthleteApiImpl, ticket: str, auth_time: int | None = None
            ) -> AuthorizationIssueResponse:
    """The user logged in as alice and consented: `/auth/authorization/issue`."""
    return api.authorizationIssue(AuthorizationIssueRequest({
        "ticket": ticket, "subject": SUBJECT, "authTime": auth_time,
        "claims": json.dumps(USER_CLAIMS)}))


def token(api: AuthleteApiImpl, client: Client, *, client_secret: str | None = None,
          **form: str) -> TokenResponse:
    """A token request whose HTTP Basic credentials the front-end passes on (reference §2.2)."""
    return api.token(TokenRequest({
        "parameters": urlencode(form), "clientId": str(client.clientId),
        "clientSecret": client_secret or client.clientSecret}))


def redirect_parameters(location: str) -> dict[str, str]:
    """The query of a LOCATION redirect, after checking it goes to the registered URI."""
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI
    assert not parts.fragment
    return {name: values[0] for name, values in parse_qs(parts.query).items()}


def code_grant(api: AuthleteApiImpl, client: Client) -> TokenResponse:
    """The whole code flow up to the token response, asserting only that each step worked."""
    ticket = authorize(api, client).ticket
    code = redirect_parameters(approve(api, ticket).responseContent)["code"]
    response = token(api, client, grant_type="authorization_code", code=code,
                     redirect_uri=REDIRECT_URI, code_verifier=RFC7636_VERIFIER)
    assert response.action is TokenAction.OK, response.resultMessage
    return response


def introspect(api: AuthleteApiImpl, access_token: str, **members) -> IntrospectionResponse:
    return api.introspection(IntrospectionRequest({"token": access_token, **members}))


def revoke(api: AuthleteApiImpl, client: Client, parameters: dict[str, str], *,
           client_secret: str | None = None) -> RevocationResponse:
    return api.revocation(RevocationRequest({
        "parameters": urlencode(parameters), "clientId": str(client.clientId),
        "clientSecret": client_secret or client.clientSecret}))


def oauth_error(response_content: str, code: str) -> str:
    """The OAuth error JSON inside `responseContent`; its description is the result message."""
    content = json.loads(response_content)
    assert content["error_description"].startswith(f"[{code}] ")
    return content["error"]


def now_ms() -> int:
    return int(time.time() * 1000)


# --- 1. authorization code with PKCE S256 and a verifiable ID token ----------------------------

def test_rfc7636_appendix_b_vector():
    digest = hashlib.sha256(RFC7636_VERIFIER.encode("ascii")).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == RFC7636_CHALLENGE


@pytest.mark.parametrize("mode", ["v2-basic", "v3-bearer"])
def test_code_flow_with_pkce_s256_issues_a_valid_id_token(node, service, mode):
    api = v2_api(node, service) if mode == "v2-basic" else v3_api(node, service)
    client = api.createClient(flow_client(f"Code flow {mode}"))

    authorization = authorize(api, client)
    assert isinstance(authorization, AuthorizationResponse)
    assert (authorization.action, authorization.resultCode) == (
        AuthorizationAction.INTERACTION, "A004001")
    assert authorization.ticket
    assert authorization.client.clientId == client.clientId
    assert authorization.service.apiKey == service.apiKey
    assert [s.name for s in authorization.scopes] == ["openid", "profile", "email"]

    auth_time = int(time.time()) - 5
    issued = approve(api, authorization.ticket, auth_time)
    assert (issued.action, issued.resultCode) == (AuthorizationIssueAction.LOCATION, "A040001")
    redirect = redirect_parameters(issued.responseContent)
    assert redirect.keys() == {"code", "state", "iss"}
    assert redirect["state"] == "af0ifjsldkj"
    assert redirect["iss"] == ISSUER  # RFC 9207 §2
    assert redirect["code"] == issued.authorizationCode

    before = now_ms()
    response = token(api, client, grant_type="authorization_code", code=redirect["code"],
                     redirect_uri=REDIRECT_URI, code_verifier=RFC7636_VERIFIER)
    assert isinstance(response, TokenResponse)
    assert (response.action, response.resultCode) == (TokenAction.OK, "A050001")
    assert response.grantType is GrantType.AUTHORIZATION_CODE
    assert response.clientId == client.clientId
    assert response.clientAuthMethod is ClientAuthMethod.CLIENT_SECRET_BASIC
    assert response.subject == SUBJECT
    assert response.scopes == ["openid", "profile", "email"]
    assert response.accessTokenDuration == ACCESS_TOKEN_DURATION
    assert before + ACCESS_TOKEN_DURATION * 1000 - 5000 <= response.accessTokenExpiresAt
    assert response.accessTokenExpiresAt <= now_ms() + ACCESS_TOKEN_DURATION * 1000 + 5000
    body = json.loads(response.responseContent)
    assert body == {"access_token": response.accessToken, "token_type": "Bearer",
                    "expires_in": ACCESS_TOKEN_DURATION, "scope": "openid profile email",
                    "refresh_token": response.refreshToken, "id_token": response.idToken}

    # OIDC Core §3.1.3.7, as the relying party checks it, with the keys from the jwks_uri.
    id_token = JsonWebToken(["RS256"]).decode(
        body["id_token"], service_jwks(api), claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": ISSUER},
                        "aud": {"essential": True, "value": str(client.clientId)},
                        "sub": {"essential": True, "value": SUBJECT},
                        "nonce": {"essential": True, "value": "n-0S6_WzA2Mj"},
                        "auth_time": {"essential": True, "value": auth_time}},
        claims_params={"nonce": "n-0S6_WzA2Mj", "client_id": str(client.clientId),
                       "access_token": body["access_token"]})
    id_token.validate(leeway=5)
    assert id_token["auth_time"] == auth_time
    assert id_token.header["alg"] == "RS256" and id_token.header["kid"]
    assert "at_hash" in id_token, "validate() checks at_hash only when it is present"
    assert id_token["iat"] <= time.time() + 5 < id_token["exp"]


def test_a_replayed_authorization_code_is_refused_and_revokes_its_tokens(api, client):
    """RFC 6749 §4.1.2: a code used twice is refused; the tokens it issued SHOULD be revoked."""
    other_grant = code_grant(api, client)
    ticket = authorize(api, client).ticket
    code = redirect_parameters(approve(api, ticket).responseContent)["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "code_verifier": RFC7636_VERIFIER}
    first = token(api, client, **form)
    assert first.action is TokenAction.OK

    replayed = token(api, client, **form)
    assert replayed.action is TokenAction.BAD_REQUEST
    assert json.loads(replayed.responseContent)["error"] == "invalid_grant"
    assert introspect(api, first.accessToken).action is IntrospectionAction.UNAUTHORIZED
    assert introspect(api, other_grant.accessToken).action is IntrospectionAction.OK


# --- 2. refresh token rotation and reuse -------------------------------------------------------

def test_refresh_token_rotates_and_a_reused_one_is_refused(api, client):
    original = code_grant(api, client)

    refreshed = token(api, client, grant_type="refresh_token",
                      refresh_token=original.refreshToken)
    assert (refreshed.action, refreshed.resultCode) == (TokenAction.OK, "A053001")
    assert refreshed.grantType is GrantType.REFRESH_TOKEN
    assert refreshed.subject == SUBJECT
    assert refreshed.scopes == ["openid", "profile", "email"]
    assert refreshed.refreshToken and refreshed.refreshToken != original.refreshToken
    assert refreshed.accessToken and refreshed.accessToken != original.accessToken
    body = json.loads(refreshed.responseContent)
    assert (body["access_token"], body["refresh_token"]) == (
        refreshed.accessToken, refreshed.refreshToken)
    assert body["token_type"] == "Bearer" and body["expires_in"] == ACCESS_TOKEN_DURATION

    reused = token(api, client, grant_type="refresh_token", refresh_token=original.refreshToken)
    assert (reused.action, reused.resultCode) == (TokenAction.BAD_REQUEST, "A053310")
    assert oauth_error(reused.responseContent, "A053310") == "invalid_grant"
    # RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the grant (docs/api.md).
    assert token(api, client, grant_type="refresh_token",
                 refresh_token=refreshed.refreshToken).action is TokenAction.BAD_REQUEST
    assert introspect(api, refreshed.accessToken).action is IntrospectionAction.UNAUTHORIZED


# --- 3. client credentials, opaque and RFC 9068 JWT access tokens -------------------------------

def test_client_credentials_issue_no_refresh_token(api, client):
    response = token(api, client, grant_type="client_credentials", scope="profile")
    assert (response.action, response.resultCode) == (TokenAction.OK, "A052001")
    assert response.grantType is GrantType.CLIENT_CREDENTIALS
    assert response.clientId == client.clientId
    assert response.subject is None
    assert response.scopes == ["profile"]
    assert response.refreshToken is None
    assert json.loads(response.responseContent) == {
        "access_token": response.accessToken, "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_DURATION, "scope": "profile"}


def test_client_credentials_jwt_access_token_verifies_against_the_jwks(node, jwt_service):
    api = v2_api(node, jwt_service)
    client = api.createClient(flow_client("JWT access tokens"))

    response = token(api, client, grant_type="client_credentials", scope="profile email")
    assert (response.action, response.resultCode) == (TokenAction.OK, "A052001")
    access_token = json.loads(response.responseContent)["access_token"]
    assert response.accessToken

    # RFC 9068 §4: the resource server validates signature, typ and claims.
    claims = JsonWebToken(["ES256"]).decode(
        access_token, service_jwks(api),
        claims_options={"iss": {"essential": True, "value": ISSUER},
                        "client_id": {"essential": True, "value": str(client.clientId)},
                        "scope": {"essential": True, "value": "profile email"},
                        "exp": {"essential": True}, "iat": {"essential": True},
                        "jti": {"essential": True}})
    claims.validate(leeway=5)
    assert claims.header["typ"] == "at+jwt"  # RFC 9068 §2.1
    assert claims.header["alg"] == "ES256" and claims.header["kid"]
    assert claims["sub"] == str(client.clientId)  # RFC 9068 §2.2, no resource owner
    assert claims["exp"] - claims["iat"] == ACCESS_TOKEN_DURATION

    introspected = introspect(api, access_token, scopes=["profile"])
    assert (introspected.action, introspected.clientId) == (
        IntrospectionAction.OK, client.clientId)

    # Authlete's TokenResponse.jwtAccessToken: "the newly issued access token in JWT format"
    # whenever the service sets accessTokenSignAlg; it is what the client receives.
    assert response.jwtAccessToken == access_token


# --- 4. resource owner password credentials: PASSWORD, then /issue or /fail ---------------------

def test_password_grant_issued_after_the_front_end_checks_the_credentials(api, client):
    response = token(api, client, grant_type="password", username=SUBJECT,
                     password="wonderland", scope="openid profile")
    assert (response.action, response.resultCode) == (TokenAction.PASSWORD, "A051001")
    assert response.ticket
    assert (response.username, response.password) == (SUBJECT, "wonderland")

    issued = api.tokenIssue(TokenIssueRequest({"ticket": response.ticket, "subject": SUBJECT}))
    assert isinstance(issued, TokenIssueResponse)
    assert (issued.action, issued.resultCode) == (TokenIssueAction.OK, "A054001")
    assert issued.subject == SUBJECT
    assert issued.clientId == client.clientId
    assert issued.scopes == ["openid", "profile"]
    assert issued.accessTokenDuration == ACCESS_TOKEN_DURATION
    body = json.loads(issued.responseContent)
    assert body["access_token"] == issued.accessToken
    assert body["refresh_token"] == issued.refreshToken
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer", ACCESS_TOKEN_DURATION, "openid profile")
    assert introspect(api, issued.accessToken).subject == SUBJECT


def test_password_grant_failed_when_the_credentials_are_wrong(api, client):
    response = token(api, client, grant_type="password", username=SUBJECT, password="guess")
    assert response.action is TokenAction.PASSWORD

    failed = api.tokenFail(TokenFailRequest({
        "ticket": response.ticket,
        "reason": TokenFailReason.INVALID_RESOURCE_OWNER_CREDENTIALS}))
    assert isinstance(failed, TokenFailResponse)
    assert (failed.action, failed.resultCode) == (TokenFailAction.BAD_REQUEST, "A067301")
    # RFC 6749 §5.2: invalid resource owner credentials are an invalid_grant.
    assert oauth_error(failed.responseContent, "A067301") == "invalid_grant"

    # The ticket is spent; TokenIssueAction knows only OK and INTERNAL_SERVER_ERROR.
    reissued = api.tokenIssue(TokenIssueRequest({"ticket": response.ticket,
                                                 "subject": SUBJECT}))
    assert (reissued.action, reissued.resultCode) == (
        TokenIssueAction.INTERNAL_SERVER_ERROR, "A054203")
    assert reissued.accessToken is None


# --- 5. introspection ---------------------------------------------------------------------------

def test_introspection_of_a_valid_access_token(api, client):
    issued = code_grant(api, client)

    response = introspect(api, issued.accessToken, scopes=["openid", "email"], subject=SUBJECT)
    assert isinstance(response, IntrospectionResponse)
    assert (response.action, response.resultCode) == (IntrospectionAction.OK, "A056001")
    assert response.subject == SUBJECT
    assert response.clientId == client.clientId
    assert response.scopes == ["openid", "profile", "email"]
    assert (response.existent, response.usable, response.sufficient, response.refreshable) == (
        True, True, True, True)
    assert response.expiresAt == issued.accessTokenExpiresAt
    assert response.grantType is GrantType.AUTHORIZATION_CODE


def test_introspection_of_an_unknown_token_is_unauthorized(api):
    response = introspect(api, "no-such-token")
    assert (response.action, response.resultCode) == (IntrospectionAction.UNAUTHORIZED, "A088302")
    assert response.responseContent.startswith('Bearer error="invalid_token"')  # RFC 6750 §3.1
    assert (response.existent, response.usable, response.sufficient) == (False, False, False)
    assert (response.clientId, response.subject) == (0, None)


@pytest.mark.parametrize(("required", "code"), [
    ({"scopes": ["profile", "address"]}, "A064302"),
    ({"subject": "bob"}, "A066302"),
], ids=["scope-not-covered", "subject-different"])
def test_introspection_of_an_insufficient_token_is_forbidden(api, client, required, code):
    """The token exists and is usable but does not satisfy the resource server: FORBIDDEN
    (RFC 6750 §3.1 insufficient_scope, 403), still describing the token, as Authlete does and
    as the SDK's API Gateway authorizer expects when it builds its Deny policy from `subject`."""
    issued = code_grant(api, client)

    response = introspect(api, issued.accessToken, **required)
    assert (response.action, response.resultCode) == (IntrospectionAction.FORBIDDEN, code)
    assert RESULT_MESSAGE.match(response.resultMessage)
    assert response.responseContent.startswith('Bearer error="insufficient_scope"')
    assert (response.existent, response.usable, response.sufficient) == (True, True, False)
    assert (response.subject, response.clientId) == (SUBJECT, client.clientId)
    assert response.scopes == ["openid", "profile", "email"]
    assert response.expiresAt == issued.accessTokenExpiresAt


# --- 6. revocation (RFC 7009) -------------------------------------------------------------------

def test_revoked_access_token_is_no_longer_introspectable(api, client):
    issued = code_grant(api, client)

    response = revoke(api, client, {"token": issued.accessToken,
                                    "token_type_hint": "access_token"})
    assert isinstance(response, RevocationResponse)
    assert (response.action, response.resultCode) == (RevocationAction.OK, "A113001")
    assert response.responseContent is None  # no JSONP callback

    after = introspect(api, issued.accessToken)
    assert (after.action, after.resultCode) == (IntrospectionAction.UNAUTHORIZED, "A088302")


def test_revoking_a_refresh_token_revokes_its_grant(api, client):
    issued = code_grant(api, client)

    assert revoke(api, client, {"token": issued.refreshToken}).action is RevocationAction.OK
    assert introspect(api, issued.accessToken).action is IntrospectionAction.UNAUTHORIZED
    refreshed = token(api, client, grant_type="refresh_token", refresh_token=issued.refreshToken)
    assert refreshed.action is TokenAction.BAD_REQUEST


def test_revocation_by_a_client_with_a_wrong_secret_is_invalid_client(api, client):
    issued = code_grant(api, client)

    response = revoke(api, client, {"token": issued.accessToken}, client_secret="wrong-secret")
    assert response.action is RevocationAction.INVALID_CLIENT
    assert json.loads(response.responseContent)["error"] == "invalid_client"
    assert introspect(api, issued.accessToken).action is IntrospectionAction.OK


def test_revoking_an_unknown_token_is_ok(api, client):
    """RFC 7009 §2.2: invalid tokens do not cause an error response."""
    response = revoke(api, client, {"token": "no-such-token"})
    assert response.action is RevocationAction.OK


# --- 7. userinfo --------------------------------------------------------------------------------

def test_userinfo_names_the_claims_and_issue_returns_only_those(api, client):
    issued = code_grant(api, client)

    response = api.userinfo(UserInfoRequest({"token": issued.accessToken}))
    assert isinstance(response, UserInfoResponse)
    assert (response.action, response.resultCode) == (UserInfoAction.OK, "A091001")
    assert response.subject == SUBJECT
    assert response.clientId == client.clientId
    assert response.scopes == ["openid", "profile", "email"]
    assert set(response.claims) == PROFILE_AND_EMAIL_CLAIMS

    user_info = api.userinfoIssue(UserInfoIssueRequest({
        "token": issued.accessToken, "claims": json.dumps(USER_CLAIMS)}))
    assert isinstance(user_info, UserInfoIssueResponse)
    assert (user_info.action, user_info.resultCode) == (UserInfoIssueAction.JSON, "A096001")
    # OIDC Core §5.3.2: `sub` always; phone_number was not requested, so it does not leave.
    assert json.loads(user_info.responseContent) == {
        "sub": SUBJECT, **{k: v for k, v in USER_CLAIMS.items() if k != "phone_number"}}


def test_userinfo_response_hands_the_token_back_for_the_issue_call(api, client):
    """UserInfoResponse.token is "the access token that came along with the userinfo request";
    Authlete's reference handlers (authlete-java-jaxrs UserInfoRequestHandler,
    authlete-python-django userinfo_request_handler) pass exactly that to /auth/userinfo/issue."""
    issued = code_grant(api, client)

    response = api.userinfo(UserInfoRequest({"token": issued.accessToken}))
    assert response.action is UserInfoAction.OK
    assert response.token == issued.accessToken

    user_info = api.userinfoIssue(UserInfoIssueRequest({
        "token": response.token, "claims": json.dumps({"email": "alice@example.com"})}))
    assert user_info.action is UserInfoIssueAction.JSON
    assert json.loads(user_info.responseContent) == {"sub": SUBJECT,
                                                     "email": "alice@example.com"}


def test_userinfo_with_an_unknown_token_is_unauthorized(api):
    response = api.userinfo(UserInfoRequest({"token": "no-such-token"}))
    assert response.action is UserInfoAction.UNAUTHORIZED
    assert response.responseContent.startswith('Bearer error="invalid_token"')


def test_userinfo_without_openid_scope_is_forbidden(api, client):
    """OIDC Core §5.3: the UserInfo endpoint serves only OpenID Connect access tokens."""
    issued = token(api, client, grant_type="client_credentials", scope="profile")
    response = api.userinfo(UserInfoRequest({"token": issued.accessToken}))
    assert response.action is UserInfoAction.FORBIDDEN
    assert response.responseContent.startswith('Bearer error="insufficient_scope"')


# --- 8. the user denies -------------------------------------------------------------------------

def test_authorization_denied_redirects_with_access_denied_and_the_state(api, client):
    ticket = authorize(api, client).ticket

    failed = api.authorizationFail(AuthorizationFailRequest({
        "ticket": ticket, "reason": AuthorizationFailReason.DENIED}))
    assert failed.action is AuthorizationFailAction.LOCATION
    assert RESULT_MESSAGE.match(failed.resultMessage)
    redirect = redirect_parameters(failed.responseContent)
    assert redirect["error"] == "access_denied"  # RFC 6749 §4.1.2.1
    assert redirect["state"] == "af0ifjsldkj"
    assert redirect["iss"] == ISSUER  # RFC 9207 §2
    assert "code" not in redirect

    spent = approve(api, ticket)
    assert spent.action is AuthorizationIssueAction.BAD_REQUEST, "the ticket is single-use"


# --- 9. client mistakes are actions, not exceptions --------------------------------------------

@pytest.mark.parametrize(("overrides", "code", "error"), [
    ({"redirect_uri": "https://attacker.example.com/callback"}, "A011304", "invalid_request"),
    ({"client_id": "123456789"}, "A010304", "invalid_client"),
], ids=["redirect_uri-not-registered", "client_id-unknown"])
def test_authorization_request_that_cannot_redirect_is_bad_request(api, client, overrides,
                                                                   code, error):
    """RFC 6749 §4.1.2.1: with no trusted redirect URI the error must not be redirected."""
    response = authorize(api, client, **overrides)
    assert (response.action, response.resultCode) == (AuthorizationAction.BAD_REQUEST, code)
    assert response.ticket is None
    assert oauth_error(response.responseContent, code) == error


@pytest.mark.parametrize(("overrides", "error"), [
    ({"response_type": None}, "invalid_request"),
    ({"code_challenge_method": "plain-text"}, "invalid_request"),
    ({"prompt": "none login"}, "invalid_request"),
], ids=["response_type-missing", "code_challenge_method-unsupported", "prompt-none-with-login"])
def test_authorization_request_errors_are_redirected_with_the_state(api, client, overrides,
                                                                    error):
    """RFC 6749 §4.1.2.1 (RFC 7636 §4.4.1, OIDC Core §3.1.2.1 for prompt): once the redirect
    URI is trusted, errors go back to the client with `state` (and `iss`, RFC 9207 §2)."""
    response = authorize(api, client, **overrides)
    assert response.action is AuthorizationAction.LOCATION
    assert response.ticket is None
    redirect = redirect_parameters(response.responseContent)
    assert (redirect["error"], redirect["state"], redirect["iss"]) == (
        error, "af0ifjsldkj", ISSUER)
    assert redirect["error_description"].startswith(f"[{response.resultCode}] ")


def test_unknown_scope_values_are_left_out(api, client):
    """RFC 6749 §3.3: the server may ignore scope values it does not support."""
    response = authorize(api, client, scope="openid unknown-scope")
    assert response.action is AuthorizationAction.INTERACTION
    assert [s.name for s in response.scopes] == ["openid"]


def test_token_request_with_a_wrong_client_secret_is_invalid_client(api, client):
    ticket = authorize(api, client).ticket
    code = redirect_parameters(approve(api, ticket).responseContent)["code"]

    response = token(api, client, client_secret="not-the-client-secret",
                     grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                     code_verifier=RFC7636_VERIFIER)
    assert response.action is TokenAction.INVALID_CLIENT
    assert RESULT_MESSAGE.match(response.resultMessage)
    assert json.loads(response.responseContent)["error"] == "invalid_client"
    assert response.accessToken is None


@pytest.mark.parametrize(("form", "code"), [
    ({"code_verifier": "x" * 43}, "A050315"),
    ({"code_verifier": None}, "A050312"),
    ({"code": "no-such-code"}, "A050305"),
    ({"redirect_uri": "https://rp.example.com/other"}, "A050309"),
], ids=["code_verifier-wrong", "code_verifier-missing", "code-unknown", "redirect_uri-different"])
def test_token_request_errors_are_bad_request_with_invalid_grant(api, client, form, code):
    ticket = authorize(api, client).ticket
    issued_code = redirect_parameters(approve(api, ticket).responseContent)["code"]
    parameters = {"grant_type": "authorization_code", "code": issued_code,
                  "redirect_uri": REDIRECT_URI, "code_verifier": RFC7636_VERIFIER, **form}

    response = token(api, client, **{k: v for k, v in parameters.items() if v is not None})
    assert (response.action, response.resultCode) == (TokenAction.BAD_REQUEST, code)
    assert oauth_error(response.responseContent, code) == "invalid_grant"

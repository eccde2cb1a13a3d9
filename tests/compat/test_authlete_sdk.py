"""Authlete's Python SDK (authlete 1.3.0), unchanged, against a real Tessera node process.

Reference §1.2 (how the SDK picks v2 or v3), §1.3 (its methods, paths and credentials) and §6 (what
a compatible server must get right). Every call below goes through `AuthleteApiImpl`; nothing
talks HTTP directly. v2 mode sends HTTP Basic to `/api/...`; v3 mode sends a Bearer service access
token to `/api/{serviceId}/...` (and, as the SDK does, to the service-owner APIs too).

One node per module and database (SQLite, PostgreSQL); each test creates its own service.
"""

import json
import secrets

import pytest
from authlete.api.authlete_api_exception import AuthleteApiException
from authlete.api.authlete_api_impl import AuthleteApiImpl
from authlete.conf.authlete_configuration import AuthleteConfiguration
from authlete.dto.client import Client
from authlete.dto.client_list_response import ClientListResponse
from authlete.dto.client_secret_refresh_response import ClientSecretRefreshResponse
from authlete.dto.scope import Scope
from authlete.dto.service import Service
from authlete.dto.service_configuration_request import ServiceConfigurationRequest
from authlete.dto.service_list_response import ServiceListResponse
from authlete.types.application_type import ApplicationType
from authlete.types.client_auth_method import ClientAuthMethod
from authlete.types.client_type import ClientType
from authlete.types.grant_type import GrantType
from authlete.types.response_type import ResponseType

from tests.compat.nodes import TesseraNode
from tests.support import (
    OWNER_KEY,
    OWNER_SECRET,
)

ISSUER = "https://as.example.com"
REDIRECT_URI = "https://rp.example.com/callback"
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


# --- SDK instances -----------------------------------------------------------------------------

def v2_api(node: TesseraNode, service: Service | None = None, *,
           service_secret: str | None = None) -> AuthleteApiImpl:
    """v2 mode: owner Basic credentials for /api/service/*, service Basic credentials elsewhere."""
    configuration = AuthleteConfiguration()
    configuration.apiVersion = "V2"
    configuration.baseUrl = node.base_url
    configuration.serviceOwnerApiKey = OWNER_KEY
    configuration.serviceOwnerApiSecret = OWNER_SECRET
    if service is not None:
        configuration.serviceApiKey = str(service.apiKey)
        configuration.serviceApiSecret = service_secret or service.apiSecret
    return AuthleteApiImpl(configuration)


def v3_api(node: TesseraNode, service: Service, token: str) -> AuthleteApiImpl:
    """v3 mode: the service's API key is the serviceId of the path; only the bearer token."""
    configuration = AuthleteConfiguration()
    configuration.apiVersion = "V3"
    configuration.baseUrl = node.base_url
    configuration.serviceApiKey = str(service.apiKey)
    configuration.serviceAccessToken = token
    return AuthleteApiImpl(configuration)


def scope(name: str, *, default: bool = False, description: str | None = None) -> Scope:
    entry = Scope()
    entry.name = name
    entry.defaultEntry = default
    entry.description = description
    return entry


def new_service(name: str) -> Service:
    service = Service()
    service.serviceName = name
    service.issuer = ISSUER
    service.supportedScopes = [scope("openid", default=True),
                               scope("profile", description="Basic profile claims"),
                               scope("email")]
    service.supportedGrantTypes = [GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN]
    service.supportedResponseTypes = [ResponseType.CODE]
    service.supportedTokenAuthMethods = [ClientAuthMethod.CLIENT_SECRET_BASIC,
                                         ClientAuthMethod.PRIVATE_KEY_JWT]
    service.clientIdAliasEnabled = True
    service.accessTokenDuration = 3600
    return service


def new_client(name: str) -> Client:
    client = Client()
    client.clientName = name
    client.clientType = ClientType.CONFIDENTIAL
    client.applicationType = ApplicationType.WEB
    client.grantTypes = [GrantType.AUTHORIZATION_CODE]
    client.responseTypes = [ResponseType.CODE]
    client.redirectUris = [REDIRECT_URI]
    return client


@pytest.fixture
def service(node, request) -> Service:
    """A fresh service, created through the SDK with the service-owner credentials."""
    return v2_api(node).createService(new_service(f"SDK {request.node.name}"))


@pytest.fixture(params=["v2-basic", "v3-bearer"])
def api(request, node, service) -> AuthleteApiImpl:
    """The SDK bound to `service`, in v2 mode (Basic) or v3 mode (Bearer + /api/{serviceId})."""
    if request.param == "v2-basic":
        return v2_api(node, service)
    return v3_api(node, service, node.issue_service_token(service.apiKey))


def raises_result(code: str):
    """The SDK raises AuthleteApiException carrying the server's resultMessage ("[Axxxxxx] ...")."""
    return pytest.raises(AuthleteApiException, match=rf"^\[{code}\] ")


# --- service management: v2 (owner Basic) ------------------------------------------------------

def test_v2_service_lifecycle_with_owner_credentials(node):
    owner = v2_api(node)
    before = owner.getServiceList()

    created = owner.createService(new_service("Lifecycle"))
    assert isinstance(created, Service)
    assert created.apiKey > 0 and len(created.apiSecret) >= 32
    assert created.serviceName == "Lifecycle"
    assert created.issuer == ISSUER
    assert created.clientIdAliasEnabled is True
    assert created.accessTokenDuration == 3600
    assert created.supportedGrantTypes == [GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN]
    assert created.supportedResponseTypes == [ResponseType.CODE]
    assert created.supportedTokenAuthMethods == [ClientAuthMethod.CLIENT_SECRET_BASIC,
                                                 ClientAuthMethod.PRIVATE_KEY_JWT]
    assert [(s.name, s.defaultEntry, s.description) for s in created.supportedScopes] == [
        ("openid", True, None), ("profile", False, "Basic profile claims"),
        ("email", False, None)]
    assert created.createdAt > 0 and created.modifiedAt >= created.createdAt

    fetched = owner.getService(created.apiKey)
    assert fetched.to_json() == created.to_json()

    listed = owner.getServiceList()
    assert isinstance(listed, ServiceListResponse)
    assert listed.totalCount == before.totalCount + 1
    assert created.apiKey in [s.apiKey for s in listed.services]
    assert len(owner.getServiceList(start=0, end=1).services) == 1

    fetched.serviceName = "Lifecycle (renamed)"
    fetched.supportedScopes = [*fetched.supportedScopes, scope("offline_access")]
    fetched.supportedGrantTypes = [GrantType.AUTHORIZATION_CODE, GrantType.CLIENT_CREDENTIALS]
    updated = owner.updateService(fetched)
    assert updated.apiKey == created.apiKey and updated.apiSecret == created.apiSecret
    assert updated.serviceName == "Lifecycle (renamed)"
    assert [s.name for s in updated.supportedScopes] == [
        "openid", "profile", "email", "offline_access"]
    assert updated.supportedGrantTypes == [GrantType.AUTHORIZATION_CODE,
                                           GrantType.CLIENT_CREDENTIALS]
    assert updated.modifiedAt >= created.modifiedAt
    assert owner.getService(created.apiKey).serviceName == "Lifecycle (renamed)"

    owner.deleteService(created.apiKey)
    with raises_result("A035201"):
        owner.getService(created.apiKey)
    assert owner.getServiceList().totalCount == before.totalCount


def test_v2_owner_api_with_wrong_owner_secret_is_refused(node):
    configuration = AuthleteConfiguration()
    configuration.baseUrl = node.base_url
    configuration.serviceOwnerApiKey = OWNER_KEY
    configuration.serviceOwnerApiSecret = "not-the-owner-secret"
    with raises_result("A002205"):
        AuthleteApiImpl(configuration).getServiceList()


# --- service management: v3 (Bearer, /api/{serviceId}/service/...) ------------------------------

def test_v3_service_get_update_list_delete_with_bearer_token(node, service):
    api = v3_api(node, service, node.issue_service_token(service.apiKey))

    fetched = api.getService(service.apiKey)
    assert fetched.apiKey == service.apiKey
    assert fetched.serviceName == service.serviceName
    assert fetched.supportedGrantTypes == [GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN]

    fetched.serviceName = "Renamed over v3"
    fetched.clientIdAliasEnabled = False
    fetched.supportedResponseTypes = [ResponseType.CODE, ResponseType.CODE_ID_TOKEN]
    updated = api.updateService(fetched)
    assert updated.serviceName == "Renamed over v3"
    assert updated.clientIdAliasEnabled is False
    assert updated.supportedResponseTypes == [ResponseType.CODE, ResponseType.CODE_ID_TOKEN]
    assert v2_api(node).getService(service.apiKey).serviceName == "Renamed over v3"

    listed = api.getServiceList()
    assert service.apiKey in [s.apiKey for s in listed.services]

    api.deleteService(service.apiKey)
    with raises_result("A035201"):
        v2_api(node).getService(service.apiKey)


def test_v3_token_of_one_service_cannot_reach_another(node, service):
    other = v2_api(node).createService(new_service("Other"))
    token = node.issue_service_token(service.apiKey)
    with raises_result("A001206"):
        v3_api(node, other, token).getService(other.apiKey)
    with raises_result("A001206"):
        v3_api(node, other, token).getClientList()


def test_v3_unknown_token_is_refused(node, service):
    with raises_result("A001205"):
        v3_api(node, service, "no-such-token-" + secrets.token_urlsafe(16)).getClientList()


# --- client management (both modes) -------------------------------------------------------------

def test_client_create_get_update(api):
    created = api.createClient(new_client("Web app"))
    assert isinstance(created, Client)
    assert created.clientId > 0 and len(created.clientSecret) >= 32
    assert created.clientName == "Web app"
    assert created.clientType is ClientType.CONFIDENTIAL
    assert created.applicationType is ApplicationType.WEB
    assert created.grantTypes == [GrantType.AUTHORIZATION_CODE]
    assert created.responseTypes == [ResponseType.CODE]
    assert created.redirectUris == [REDIRECT_URI]
    assert created.tokenAuthMethod is ClientAuthMethod.CLIENT_SECRET_BASIC
    assert created.locked is False

    fetched = api.getClient(created.clientId)
    assert fetched.to_json() == created.to_json()

    fetched.clientName = "Web app (renamed)"
    fetched.redirectUris = [REDIRECT_URI, "https://rp.example.com/callback2"]
    updated = api.updateClient(fetched)
    assert updated.clientId == created.clientId
    assert updated.clientSecret == created.clientSecret
    assert updated.clientName == "Web app (renamed)"
    assert updated.redirectUris == [REDIRECT_URI, "https://rp.example.com/callback2"]
    assert updated.clientType is ClientType.CONFIDENTIAL
    assert api.getClient(created.clientId).clientName == "Web app (renamed)"


def test_client_list(api):
    first = api.createClient(new_client("First"))
    second = api.createClient(new_client("Second"))

    listed = api.getClientList()
    assert isinstance(listed, ClientListResponse)
    assert listed.totalCount == 2
    assert sorted(c.clientId for c in listed.clients) == sorted([first.clientId, second.clientId])
    assert {c.clientName for c in listed.clients} == {"First", "Second"}
    assert all(c.grantTypes == [GrantType.AUTHORIZATION_CODE] for c in listed.clients)

    page = api.getClientList(start=0, end=1)
    assert (page.start, page.end, page.totalCount, len(page.clients)) == (0, 1, 2, 1)


def test_client_id_alias_resolves_to_the_same_client(api):
    created = api.createClient(new_client("Aliased"))
    created.clientIdAlias = "aliased-web-app"
    created.clientIdAliasEnabled = True
    updated = api.updateClient(created)
    assert updated.clientIdAlias == "aliased-web-app"
    assert updated.clientIdAliasEnabled is True

    by_alias = api.getClient("aliased-web-app")
    assert by_alias.clientId == created.clientId
    assert by_alias.clientName == "Aliased"


def test_alias_is_unique_within_a_service(api):
    first = new_client("First")
    first.clientIdAlias, first.clientIdAliasEnabled = "taken", True
    api.createClient(first)
    second = new_client("Second")
    second.clientIdAlias, second.clientIdAliasEnabled = "taken", True
    with raises_result("A030601"):
        api.createClient(second)


def test_client_lock_flag(api):
    created = api.createClient(new_client("Lockable"))

    api.updateClientLockFlag(created.clientId, True)
    assert api.getClient(created.clientId).locked is True

    api.updateClientLockFlag(created.clientId, False)
    assert api.getClient(created.clientId).locked is False


def test_client_secret_refresh(api):
    created = api.createClient(new_client("Rotating"))

    refreshed = api.refreshClientSecret(created.clientId)
    assert isinstance(refreshed, ClientSecretRefreshResponse)
    assert refreshed.oldClientSecret == created.clientSecret
    assert refreshed.newClientSecret != created.clientSecret
    assert len(refreshed.newClientSecret) >= 32
    assert api.getClient(created.clientId).clientSecret == refreshed.newClientSecret


def test_requestable_scopes(api):
    created = api.createClient(new_client("Scoped"))
    assert api.getRequestableScopes(created.clientId) is None

    assert api.setRequestableScopes(created.clientId, ["openid", "profile"]) == [
        "openid", "profile"]
    assert api.getRequestableScopes(created.clientId) == ["openid", "profile"]
    extension = api.getClient(created.clientId).extension
    assert extension.requestableScopesEnabled is True
    assert extension.requestableScopes == ["openid", "profile"]

    api.deleteRequestableScopes(created.clientId)
    assert api.getRequestableScopes(created.clientId) is None
    assert api.getClient(created.clientId).extension is None


def test_client_delete_then_get_is_not_found(api):
    created = api.createClient(new_client("Short-lived"))

    api.deleteClient(created.clientId)
    with raises_result("A001212") as raised:
        api.getClient(created.clientId)
    assert raised.value.response.status_code == 404
    assert str(created.clientId) in raised.value.message
    assert api.getClientList().totalCount == 0


def test_unknown_client_is_not_found(api):
    with raises_result("A001212"):
        api.getClient(123456789012345)
    with raises_result("A001212"):
        api.refreshClientSecret("no-such-alias")


# --- discovery, JWKS, echo (both modes) ---------------------------------------------------------

def test_service_configuration_pretty_by_default(api, service):
    text = api.getServiceConfiguration()
    assert text.startswith("{\n  ")
    configuration = json.loads(text)
    assert configuration["issuer"] == ISSUER
    assert configuration["scopes_supported"] == ["openid", "profile", "email"]
    assert configuration["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert configuration["response_types_supported"] == ["code"]
    assert configuration["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic", "private_key_jwt"]


def test_service_configuration_with_json_patch(api):
    request = ServiceConfigurationRequest()
    request.pretty = False
    request.patch = json.dumps([
        {"op": "add", "path": "/x_tessera_sdk_test", "value": {"patched": True}},
        {"op": "replace", "path": "/issuer", "value": "https://patched.example.com"},
    ])
    text = api.getServiceConfiguration(request)
    assert "\n" not in text
    configuration = json.loads(text)
    assert configuration["x_tessera_sdk_test"] == {"patched": True}
    assert configuration["issuer"] == "https://patched.example.com"


def test_service_configuration_with_unusable_patch_is_refused(api):
    request = ServiceConfigurationRequest()
    request.patch = json.dumps([{"op": "remove", "path": "/no_such_member"}])
    with raises_result("A031203"):
        api.getServiceConfiguration(request)


def test_service_jwks_has_public_keys_only(api):
    jwks = json.loads(api.getServiceJwks())
    keys = jwks["keys"]
    assert {key["alg"] for key in keys} >= {"RS256", "ES256"}
    for key in keys:
        assert key["kid"] and key["use"] == "sig"
        assert key["kty"] == {"RS256": "RSA", "ES256": "EC"}[key["alg"]]
        assert not PRIVATE_JWK_MEMBERS & key.keys()


def test_service_jwks_never_exports_private_keys(api):
    with raises_result("A001224"):
        api.getServiceJwks(includePrivateKeys=True)


def test_echo(api):
    assert api.echo({"a": "b"}) == {"a": "b"}
    assert api.echo({"x": "1", "y": "two words"}) == {"x": "1", "y": "two words"}


# --- credentials errors (v2) --------------------------------------------------------------------

def test_v2_wrong_service_secret_is_refused(node, service):
    api = v2_api(node, service, service_secret="not-the-service-secret")
    with raises_result("A003204") as raised:
        api.getClientList()
    assert raised.value.response.status_code == 401
    assert str(service.apiKey) in raised.value.message
    with raises_result("A003204"):
        api.getServiceConfiguration()

"""Setting up a service and clients for this front-end through Tessera's management API.

Used by the demo command and by the end-to-end tests; an operator would do the same once,
with `curl` or an SDK. The service-owner credentials create the service; the service's own
credentials create its clients.
"""

import json

import httpx

SCOPES = [
    {"name": "openid", "description": "Sign you in with your account"},
    {"name": "profile", "description": "See your name and basic profile"},
    {"name": "email", "description": "See your email address"},
    {"name": "offline_access", "description": "Keep access while you are not using the app"},
    {"name": "api.read", "description": "Read data from the demo API"},
]
CLAIMS = ["sub", "name", "given_name", "family_name", "preferred_username", "email",
          "email_verified", "locale"]
GRANT_TYPES = ["AUTHORIZATION_CODE", "REFRESH_TOKEN", "CLIENT_CREDENTIALS", "PASSWORD"]
TOKEN_AUTH_METHODS = ["CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST", "CLIENT_SECRET_JWT",
                      "PRIVATE_KEY_JWT", "NONE"]


class ProvisionError(RuntimeError):
    pass


def service_document(issuer: str, name: str) -> dict:
    """A Service whose endpoints are this front-end's (reference §3)."""
    return {
        "serviceName": name, "issuer": issuer,
        "authorizationEndpoint": f"{issuer}/authorize", "tokenEndpoint": f"{issuer}/token",
        "userInfoEndpoint": f"{issuer}/userinfo", "revocationEndpoint": f"{issuer}/revoke",
        "introspectionEndpoint": f"{issuer}/introspect", "jwksUri": f"{issuer}/jwks",
        "supportedScopes": SCOPES, "supportedClaims": CLAIMS,
        "supportedGrantTypes": GRANT_TYPES, "supportedResponseTypes": ["CODE"],
        "supportedTokenAuthMethods": TOKEN_AUTH_METHODS,
        "supportedPromptValues": ["NONE", "LOGIN", "CONSENT", "SELECT_ACCOUNT"],
        "idTokenReissuable": True,   # a refresh of an openid grant returns a new ID token
    }


def client_document(name: str, method: str, redirect_uris: list[str],
                    jwks: dict | None = None, logo_uri: str | None = None) -> dict:
    public = method == "NONE"
    document = {
        "clientName": name, "clientType": "PUBLIC" if public else "CONFIDENTIAL",
        "tokenAuthMethod": method, "redirectUris": redirect_uris, "responseTypes": ["CODE"],
        "grantTypes": (["AUTHORIZATION_CODE", "REFRESH_TOKEN"] if public else GRANT_TYPES),
    }
    if public:  # RFC 9700 §2.1.1: public clients must use PKCE with S256
        document.update(pkceRequired=True, pkceS256Required=True)
    if jwks is not None:
        document["jwks"] = json.dumps(jwks)
    if logo_uri:
        document["logoUri"] = logo_uri
    return document


class Provisioner:
    def __init__(self, tessera_url: str, owner_key: str, owner_secret: str):
        self._http = httpx.AsyncClient(base_url=f"{tessera_url}/api", timeout=30.0)
        self._owner = (owner_key, owner_secret)

    async def __aenter__(self) -> "Provisioner":
        return self

    async def __aexit__(self, *exc) -> None:
        await self._http.aclose()

    async def create_service(self, document: dict) -> dict:
        return await self._call("POST", "/service/create", self._owner, json=document)

    async def update_service(self, api_key: str, document: dict) -> dict:
        return await self._call("POST", f"/service/update/{api_key}", self._owner,
                                json=document)

    async def service_exists(self, api_key: str) -> bool:
        response = await self._http.get(f"/service/get/{api_key}", auth=self._owner)
        return response.status_code == 200

    async def create_client(self, service: tuple[str, str], document: dict) -> dict:
        return await self._call("POST", "/client/create", service, json=document)

    async def update_client(self, service: tuple[str, str], client_id: str,
                            document: dict) -> dict:
        """Replace the client's document (Tessera keeps its ID and secret)."""
        return await self._call("POST", f"/client/update/{client_id}", service, json=document)

    async def _call(self, method: str, path: str, auth: tuple[str, str], **kwargs) -> dict:
        response = await self._http.request(method, path, auth=auth, **kwargs)
        if response.status_code != 200:
            raise ProvisionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

"""Checks and defaults for a Service document (reference §3); messages name field and value."""

import json
import re

from app.protocol import result_codes as rc
from app.protocol.errors import ApiError
from app.protocol.uris import problem_with_url

_ENDPOINTS = (
    "authorizationEndpoint", "tokenEndpoint", "revocationEndpoint", "userInfoEndpoint",
    "introspectionEndpoint", "registrationEndpoint", "registrationManagementEndpoint",
    "endSessionEndpoint", "jwksUri", "pushedAuthReqEndpoint", "backchannelAuthenticationEndpoint",
    "deviceAuthorizationEndpoint", "deviceVerificationUri", "deviceVerificationUriComplete",
    "grantManagementEndpoint", "serviceDocumentation", "policyUri", "tosUri",
)
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
_DURATION_ATTRIBUTES = ("access_token.duration", "refresh_token.duration")

SERVICE_DEFAULTS = {
    "accessTokenType": "Bearer",
    "accessTokenDuration": 86400,
    "refreshTokenDuration": 864000,
    "idTokenDuration": 86400,
    "authorizationCodeDuration": 600,
    "pushedAuthReqDuration": 90,
    "backchannelAuthReqIdDuration": 600,
    "backchannelPollingInterval": 5,
    "deviceFlowCodeDuration": 600,
    "deviceFlowPollingInterval": 5,
    "supportedGrantTypes": ["AUTHORIZATION_CODE", "REFRESH_TOKEN"],
    "supportedResponseTypes": ["CODE"],
    "supportedTokenAuthMethods": ["CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST"],
    "supportedScopes": [{"name": "openid"}],
}


def with_defaults(document: dict) -> dict:
    """A new service gets working defaults for every member the caller left unset."""
    return {**SERVICE_DEFAULTS, **document}


def check_service(document: dict, signing_algs: list[str]) -> None:
    _check_urls(document)
    _check_issuer(document.get("issuer"))
    _check_scopes(document.get("supportedScopes", []))
    _check_signing_alg(document.get("accessTokenSignAlg"), signing_algs)
    _check_jwks(document.get("jwks"))
    _check_aliases(document.get("mtlsEndpointAliases", []))
    _check_aud_type(document.get("idTokenAudType"))
    _check_access_token_type(document.get("accessTokenType"))


def _check_urls(document: dict) -> None:
    for key in _ENDPOINTS:
        if key in document:
            _require_url(key, document[key])


def _require_url(key: str, value: str, allow_query: bool = True) -> None:
    problem = problem_with_url(value, https_only=True, allow_query=allow_query)
    if problem:
        raise ApiError(rc.VALUE_INVALID, key=key, reason=f"'{value}' {problem}")


def _check_issuer(issuer: str | None) -> None:
    # OpenID Connect Discovery 1.0 §3: https, no query, no fragment.
    if issuer is not None:
        _require_url("issuer", issuer, allow_query=False)


def _check_scopes(scopes: list[dict]) -> None:
    names = set()
    for index, scope in enumerate(scopes):
        name = scope.get("name", "")
        if not _SCOPE_TOKEN.match(name):
            raise ApiError(rc.VALUE_INVALID, key=f"supportedScopes[{index}].name",
                           reason=f"'{name}' is not a scope token (RFC 6749 §3.3)")
        if name in names:
            raise ApiError(rc.VALUE_INVALID, key=f"supportedScopes[{index}].name",
                           reason=f"the scope '{name}' is listed twice")
        names.add(name)
        _check_scope_attributes(index, scope.get("attributes", []))


def _check_scope_attributes(index: int, attributes: list[dict]) -> None:
    for attribute in attributes:
        key, value = attribute.get("key"), attribute.get("value", "")
        if key in _DURATION_ATTRIBUTES and not value.isdigit():
            raise ApiError(rc.VALUE_INVALID, key=f"supportedScopes[{index}].attributes",
                           reason=f"'{key}' must be a number of seconds, got '{value}'")


def _check_signing_alg(alg: str | None, signing_algs: list[str]) -> None:
    # A JWT access token is signed with a managed key, so its algorithm must be one we hold.
    if alg is not None and alg not in signing_algs:
        raise ApiError(rc.VALUE_INVALID, key="accessTokenSignAlg",
                       reason=f"'{alg}' is not one of the server's signing algorithms "
                              f"({', '.join(signing_algs)})")


def check_jwk_set(key: str, text: str) -> None:
    """`text` must be a JWK Set (RFC 7517 §5) holding public keys only."""
    try:
        keys = json.loads(text)["keys"]
    except (ValueError, KeyError, TypeError):
        raise ApiError(rc.VALUE_INVALID, key=key,
                       reason="it is not a JWK Set (a JSON object with a 'keys' array)") from None
    if not isinstance(keys, list) or not all(isinstance(item, dict) for item in keys):
        raise ApiError(rc.VALUE_INVALID, key=key, reason="'keys' must be an array of JWKs")
    for index, jwk in enumerate(keys):
        _check_public_jwk(key, index, jwk)


def _check_public_jwk(key: str, index: int, jwk: dict) -> None:
    if "kty" not in jwk:
        raise ApiError(rc.VALUE_INVALID, key=key, reason=f"key {index} has no 'kty'")
    if {"d", "p", "q", "k"} & jwk.keys():
        raise ApiError(rc.VALUE_INVALID, key=key,
                       reason=f"key {index} contains private or symmetric key material")


def _check_jwks(text: str | None) -> None:
    if text is not None:
        check_jwk_set("jwks", text)


def _check_aliases(aliases: list[dict]) -> None:
    for index, alias in enumerate(aliases):
        if not alias.get("name") or not alias.get("uri"):
            raise ApiError(rc.VALUE_INVALID, key=f"mtlsEndpointAliases[{index}]",
                           reason="each alias needs a 'name' and a 'uri'")
        _require_url(f"mtlsEndpointAliases[{index}].uri", alias["uri"])


def _check_aud_type(value: str | None) -> None:
    if value is not None and value not in ("array", "string"):
        raise ApiError(rc.VALUE_NOT_SUPPORTED, key="idTokenAudType", value=value)


def _check_access_token_type(value: str | None) -> None:
    if value is not None and value not in ("Bearer", "DPoP"):
        raise ApiError(rc.VALUE_NOT_SUPPORTED, key="accessTokenType", value=value)

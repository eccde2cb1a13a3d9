"""OpenID Provider / OAuth 2.0 Authorization Server metadata built from a Service.

The document answers `/service/configuration`; the front-end serves it at
`/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3, §4) and
`/.well-known/oauth-authorization-server` (RFC 8414 §2, §3).

The Service arrives in Authlete's JSON shape: camelCase keys, enums as upper-case enum names
(`"AUTHORIZATION_CODE"`). Metadata uses the registered member names and wire values
(`"authorization_code"`). A member whose source is unset, null or empty is omitted, never null:
RFC 8414 §2 and Discovery §3 define an absent member as "use the default / not supported".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["build_configuration", "render_configuration"]

# Enum NAME -> wire value tables (Authlete's enum names; values from the registering specs).

GRANT_TYPES = {  # RFC 6749 §4, RFC 8628 §3.4, RFC 8693 §2.1, RFC 7523 §2.1, CIBA Core §10.1
    "AUTHORIZATION_CODE": "authorization_code",
    "IMPLICIT": "implicit",
    "PASSWORD": "password",
    "CLIENT_CREDENTIALS": "client_credentials",
    "REFRESH_TOKEN": "refresh_token",
    "CIBA": "urn:openid:params:grant-type:ciba",
    "DEVICE_CODE": "urn:ietf:params:oauth:grant-type:device_code",
    "TOKEN_EXCHANGE": "urn:ietf:params:oauth:grant-type:token-exchange",
    "JWT_BEARER": "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "PRE_AUTHORIZED_CODE": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
}

RESPONSE_TYPES = {  # RFC 6749 §3.1.1, OAuth 2.0 Multiple Response Type Encoding Practices §5
    "NONE": "none",
    "CODE": "code",
    "TOKEN": "token",
    "ID_TOKEN": "id_token",
    "CODE_TOKEN": "code token",
    "CODE_ID_TOKEN": "code id_token",
    "ID_TOKEN_TOKEN": "id_token token",
    "CODE_ID_TOKEN_TOKEN": "code id_token token",
}

CLIENT_AUTH_METHODS = {  # RFC 7591 §2, OIDC Core §9, RFC 8705 §2.1.1/§2.2.1
    "NONE": "none",
    "CLIENT_SECRET_BASIC": "client_secret_basic",
    "CLIENT_SECRET_POST": "client_secret_post",
    "CLIENT_SECRET_JWT": "client_secret_jwt",
    "PRIVATE_KEY_JWT": "private_key_jwt",
    "TLS_CLIENT_AUTH": "tls_client_auth",
    "SELF_SIGNED_TLS_CLIENT_AUTH": "self_signed_tls_client_auth",
    "ATTEST_JWT_CLIENT_AUTH": "attest_jwt_client_auth",
    "SPIFFE_JWT": "spiffe_jwt",
}

DISPLAYS = {  # OIDC Core §3.1.2.1 "display"
    "PAGE": "page",
    "POPUP": "popup",
    "TOUCH": "touch",
    "WAP": "wap",
}

CLAIM_TYPES = {  # OIDC Core §5.6
    "NORMAL": "normal",
    "AGGREGATED": "aggregated",
    "DISTRIBUTED": "distributed",
}

DELIVERY_MODES = {  # CIBA Core §5
    "POLL": "poll",
    "PING": "ping",
    "PUSH": "push",
}

PROMPTS = {  # OIDC Core §3.1.2.1 "prompt"; Initiating User Registration via OIDC §4.1 "create"
    "NONE": "none",
    "LOGIN": "login",
    "CONSENT": "consent",
    "SELECT_ACCOUNT": "select_account",
    "CREATE": "create",
}

# OAuth 2.0 Form Post Response Mode; JARM §2.3 adds the JWT-secured modes.
PLAIN_RESPONSE_MODES = ("query", "fragment", "form_post")

# OIDC Core §8: both subject identifier types are always available.
SUBJECT_TYPES = ("public", "pairwise")

# RFC 7636 §4.2; "plain" is withdrawn when the service insists on S256.
CODE_CHALLENGE_METHODS = ("plain", "S256")

# RFC 7518 §3.2: client_secret_jwt (OIDC Core §9) signs with the client secret as HMAC key.
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")

# OIDC Discovery §3: registration of request_uri values is not required. Clients that did
# register `request_uris` are held to them (OIDC Core §6.2); PAR's server-issued
# urn:ietf:params:oauth:request_uri values (RFC 9126 §2.2) can never be pre-registered.
REQUEST_URI_REGISTRATION_REQUIRED = False


def build_configuration(service: Mapping[str, Any], *, jws_algs: list[str]) -> dict:
    """Metadata for `service`; `jws_algs` are the JWS algorithms the server has keys for."""
    algorithms = list(dict.fromkeys(jws_algs))
    document: dict = {}
    for section in _SECTIONS:
        for name, value in section(service, algorithms).items():
            if _is_set(value):
                document[name] = value
    return document


def render_configuration(document: Mapping[str, Any], *, pretty: bool) -> str:
    """The document as JSON text, members in insertion order (RFC 8414 §3.2: application/json)."""
    if pretty:
        return json.dumps(document, indent=2, ensure_ascii=False)
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


# --- helpers ----------------------------------------------------------------------------------


def _is_set(value: Any) -> bool:
    # False is a statement ("not supported"); None, "" and empty collections say nothing.
    if isinstance(value, bool):
        return True
    return value is not None and value != "" and value != [] and value != {}


def _wire_values(service: Mapping[str, Any], key: str, table: Mapping[str, str]) -> list[str]:
    """The wire values of the enum names listed under `key`; unknown names are dropped."""
    return [value for value in map(table.get, _names(service, key)) if value is not None]


def _names(service: Mapping[str, Any], key: str) -> list[str]:
    listed = service.get(key) or []
    return [name for name in listed if isinstance(name, str)]


def _strings(service: Mapping[str, Any], key: str) -> list[str] | None:
    listed = service.get(key)
    return list(listed) if listed else None


def _supports(service: Mapping[str, Any], key: str, name: str) -> bool:
    return name in _names(service, key)


def _asymmetric(algorithms: Iterable[str]) -> list[str]:
    # DPoP (RFC 9449 §5.1) and signed CIBA requests (CIBA Core §7.1.1) exclude "none" and
    # shared-key MACs: the proof must come from a key the verifier does not hold.
    return [alg for alg in algorithms if alg != "none" and not alg.startswith("HS")]


# --- sections, in document order --------------------------------------------------------------

_Section = Callable[[Mapping[str, Any], list[str]], dict]


def _endpoints(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # Discovery §3 / RFC 8414 §2 endpoint members; RFC 7009 revocation, RFC 7662 introspection,
    # OIDC RP-Initiated Logout §2.1 end_session_endpoint.
    return {
        "issuer": service.get("issuer"),
        "authorization_endpoint": service.get("authorizationEndpoint"),
        "token_endpoint": service.get("tokenEndpoint"),
        "userinfo_endpoint": service.get("userInfoEndpoint"),
        "jwks_uri": service.get("jwksUri"),
        "registration_endpoint": service.get("registrationEndpoint"),
        "revocation_endpoint": service.get("revocationEndpoint"),
        "introspection_endpoint": service.get("introspectionEndpoint"),
        "end_session_endpoint": service.get("endSessionEndpoint"),
    }


def _pushed_authorization(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # RFC 9126 §5.
    return {
        "pushed_authorization_request_endpoint": service.get("pushedAuthReqEndpoint"),
        "require_pushed_authorization_requests": service.get("parRequired"),
    }


def _backchannel(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # CIBA Core §4; signed authentication requests need an asymmetric algorithm (§7.1.1), and
    # are only advertised when the service has a backchannel authentication endpoint.
    endpoint = service.get("backchannelAuthenticationEndpoint")
    return {
        "backchannel_authentication_endpoint": endpoint,
        "backchannel_token_delivery_modes_supported": _wire_values(
            service, "supportedBackchannelTokenDeliveryModes", DELIVERY_MODES
        ),
        "backchannel_user_code_parameter_supported": service.get(
            "backchannelUserCodeParameterSupported"
        ),
        "backchannel_authentication_request_signing_alg_values_supported": (
            _asymmetric(algorithms) if endpoint else None
        ),
    }


def _other_endpoints(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # RFC 8628 §4; FAPI Grant Management for OAuth 2.0 (grant_management_endpoint).
    return {
        "device_authorization_endpoint": service.get("deviceAuthorizationEndpoint"),
        "grant_management_endpoint": service.get("grantManagementEndpoint"),
    }


def _scopes_and_flows(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # Discovery §3 / RFC 8414 §2. JWT response modes (JARM) are refused today
    # (authorization_request.check_response_mode), so they are not advertised.
    return {
        "scopes_supported": _scope_names(service),
        "response_types_supported": _wire_values(service, "supportedResponseTypes", RESPONSE_TYPES),
        "response_modes_supported": list(PLAIN_RESPONSE_MODES),
        "grant_types_supported": _wire_values(service, "supportedGrantTypes", GRANT_TYPES),
        "acr_values_supported": _strings(service, "supportedAcrs"),
        "subject_types_supported": list(SUBJECT_TYPES),
    }


def _scope_names(service: Mapping[str, Any]) -> list[str]:
    scopes = service.get("supportedScopes") or []
    return [scope["name"] for scope in scopes if isinstance(scope, dict) and scope.get("name")]


def _signing(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # Discovery §3: algorithms the OP signs with, and accepts on request objects (OIDC Core §6.1).
    return {
        "id_token_signing_alg_values_supported": list(algorithms),
        "userinfo_signing_alg_values_supported": list(algorithms),
        "request_object_signing_alg_values_supported": list(algorithms),
    }


def _client_authentication(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # RFC 8414 §2: token endpoint; RFC 8414 §2 also defines the revocation and introspection
    # counterparts (RFC 7009, RFC 7662).
    return {
        "token_endpoint_auth_methods_supported": _wire_values(
            service, "supportedTokenAuthMethods", CLIENT_AUTH_METHODS
        ),
        "token_endpoint_auth_signing_alg_values_supported": _token_auth_algorithms(
            service, algorithms
        ),
        "revocation_endpoint_auth_methods_supported": _wire_values(
            service, "supportedRevocationAuthMethods", CLIENT_AUTH_METHODS
        ),
        "introspection_endpoint_auth_methods_supported": _wire_values(
            service, "supportedIntrospectionAuthMethods", CLIENT_AUTH_METHODS
        ),
    }


def _token_auth_algorithms(service: Mapping[str, Any], algorithms: list[str]) -> list[str]:
    # RFC 8414 §2: "none" MUST NOT be listed. HMAC algorithms only make sense for
    # client_secret_jwt, whose key is the client secret rather than one of the server's keys.
    secret_jwt = _supports(service, "supportedTokenAuthMethods", "CLIENT_SECRET_JWT")
    hmac = HMAC_ALGORITHMS if secret_jwt else ()
    listed = [alg for alg in algorithms if alg != "none"]
    return list(dict.fromkeys([*listed, *hmac]))


def _end_user_interface(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # Discovery §3 (op_policy_uri and op_tos_uri are also RFC 8414 §2 members).
    return {
        "display_values_supported": _wire_values(service, "supportedDisplays", DISPLAYS),
        "claim_types_supported": _wire_values(service, "supportedClaimTypes", CLAIM_TYPES),
        "claims_supported": _strings(service, "supportedClaims"),
        "claims_locales_supported": _strings(service, "supportedClaimLocales"),
        "ui_locales_supported": _strings(service, "supportedUiLocales"),
        "service_documentation": service.get("serviceDocumentation"),
        "op_policy_uri": service.get("policyUri"),
        "op_tos_uri": service.get("tosUri"),
    }


def _request_parameters(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # Discovery §3 (claims, request, request_uri); RFC 9101 §10.5 require_signed_request_object:
    # JAR rules apply unless the service keeps the traditional OIDC Core §6 processing.
    required = bool(service.get("requestObjectRequired"))
    traditional = bool(service.get("traditionalRequestObjectProcessingApplied"))
    return {
        "claims_parameter_supported": True,
        # Request objects (JAR, RFC 9101) are refused today with request_not_supported /
        # request_uri_not_supported, so the document says so (Discovery §3).
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": REQUEST_URI_REGISTRATION_REQUIRED,
        "require_signed_request_object": required and not traditional,
    }


def _pkce(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # RFC 8414 §2 code_challenge_methods_supported; RFC 7636 §4.2.
    if service.get("pkceS256Required"):
        return {"code_challenge_methods_supported": ["S256"]}
    return {"code_challenge_methods_supported": list(CODE_CHALLENGE_METHODS)}


def _mutual_tls(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # RFC 8705 §3.3 (certificate-bound tokens) and §5 (endpoint aliases, an object name -> URI).
    return {
        "tls_client_certificate_bound_access_tokens": service.get(
            "tlsClientCertificateBoundAccessTokens"
        ),
        "mtls_endpoint_aliases": _endpoint_aliases(service),
    }


def _endpoint_aliases(service: Mapping[str, Any]) -> dict[str, str]:
    aliases = service.get("mtlsEndpointAliases") or []
    return {
        alias["name"]: alias["uri"]
        for alias in aliases
        if isinstance(alias, dict) and alias.get("name") and alias.get("uri")
    }


def _signed_responses(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # RFC 9207 §3 iss parameter; RFC 9449 §5.1 DPoP (asymmetric only); JARM's
    # authorization_signing_alg_values_supported; RFC 9701 §7 JWT introspection responses.
    return {
        "authorization_response_iss_parameter_supported": not service.get("issSuppressed"),
        # DPoP (RFC 9449) and JARM are not implemented yet: their members stay out.
        "introspection_signing_alg_values_supported": list(algorithms),
    }


def _extensions(service: Mapping[str, Any], algorithms: list[str]) -> dict:
    # Initiating User Registration via OIDC §4.2; RFC 9396 §10 (authorization details).
    return {
        "prompt_values_supported": _wire_values(service, "supportedPromptValues", PROMPTS),
        "authorization_details_types_supported": _strings(
            service, "supportedAuthorizationDetailsTypes"
        ),
    }


_SECTIONS: tuple[_Section, ...] = (
    _endpoints,
    _pushed_authorization,
    _backchannel,
    _other_endpoints,
    _scopes_and_flows,
    _signing,
    _client_authentication,
    _end_user_interface,
    _request_parameters,
    _pkce,
    _mutual_tls,
    _signed_responses,
    _extensions,
)

"""Discovery metadata (OIDC Discovery 1.0 §3, RFC 8414 §2) built from a Service."""

import json

import pytest

from app.protocol.discovery import build_configuration, render_configuration

ISSUER = "https://as.example.com"
JWS_ALGS = ["RS256", "PS256", "ES256"]


def full_service() -> dict:
    """A Service in Authlete's JSON shape with most discovery-relevant fields set."""
    return {
        "serviceName": "Example AS",
        "apiKey": 21653835348762,
        "issuer": ISSUER,
        "authorizationEndpoint": f"{ISSUER}/authorize",
        "tokenEndpoint": f"{ISSUER}/token",
        "userInfoEndpoint": f"{ISSUER}/userinfo",
        "jwksUri": f"{ISSUER}/jwks",
        "registrationEndpoint": f"{ISSUER}/register",
        "revocationEndpoint": f"{ISSUER}/revoke",
        "introspectionEndpoint": f"{ISSUER}/introspect",
        "endSessionEndpoint": f"{ISSUER}/logout",
        "pushedAuthReqEndpoint": f"{ISSUER}/par",
        "parRequired": True,
        "backchannelAuthenticationEndpoint": f"{ISSUER}/bc-authorize",
        "supportedBackchannelTokenDeliveryModes": ["POLL", "PING", "PUSH"],
        "backchannelUserCodeParameterSupported": True,
        "deviceAuthorizationEndpoint": f"{ISSUER}/device",
        "grantManagementEndpoint": f"{ISSUER}/grants",
        "supportedScopes": [
            {"name": "openid", "defaultEntry": False, "description": None, "attributes": None},
            {"name": "profile", "defaultEntry": True},
            {"name": "offline_access", "defaultEntry": False},
        ],
        "supportedResponseTypes": ["CODE", "CODE_ID_TOKEN", "NONE"],
        "supportedGrantTypes": [
            "AUTHORIZATION_CODE",
            "REFRESH_TOKEN",
            "CIBA",
            "DEVICE_CODE",
            "TOKEN_EXCHANGE",
            "JWT_BEARER",
        ],
        "supportedAcrs": ["urn:mace:incommon:iap:silver"],
        "supportedTokenAuthMethods": [
            "CLIENT_SECRET_BASIC",
            "PRIVATE_KEY_JWT",
            "TLS_CLIENT_AUTH",
            "SELF_SIGNED_TLS_CLIENT_AUTH",
        ],
        "supportedRevocationAuthMethods": ["CLIENT_SECRET_BASIC", "NONE"],
        "supportedIntrospectionAuthMethods": ["CLIENT_SECRET_POST"],
        "supportedDisplays": ["PAGE", "POPUP"],
        "supportedClaimTypes": ["NORMAL", "AGGREGATED"],
        "supportedClaims": ["sub", "name", "email"],
        "supportedClaimLocales": ["en", "ja"],
        "supportedUiLocales": ["en-US"],
        "serviceDocumentation": f"{ISSUER}/docs",
        "policyUri": f"{ISSUER}/policy",
        "tosUri": f"{ISSUER}/tos",
        "requestObjectRequired": True,
        "traditionalRequestObjectProcessingApplied": False,
        "pkceRequired": True,
        "pkceS256Required": True,
        "tlsClientCertificateBoundAccessTokens": True,
        "mtlsEndpointAliases": [
            {"name": "token_endpoint", "uri": "https://mtls.as.example.com/token"},
            {"name": "revocation_endpoint", "uri": "https://mtls.as.example.com/revoke"},
        ],
        "issSuppressed": False,
        "supportedPromptValues": ["NONE", "LOGIN", "CONSENT", "SELECT_ACCOUNT", "CREATE"],
        "supportedAuthorizationDetailsTypes": ["payment_initiation"],
        # Fields with no discovery counterpart must not leak into the document.
        "apiSecret": "do-not-publish",
        "accessTokenDuration": 3600,
        "metadata": [{"key": "clientCount", "value": "1"}],
    }


EXPECTED_FULL = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/authorize",
    "token_endpoint": f"{ISSUER}/token",
    "userinfo_endpoint": f"{ISSUER}/userinfo",
    "jwks_uri": f"{ISSUER}/jwks",
    "registration_endpoint": f"{ISSUER}/register",
    "revocation_endpoint": f"{ISSUER}/revoke",
    "introspection_endpoint": f"{ISSUER}/introspect",
    "end_session_endpoint": f"{ISSUER}/logout",
    "pushed_authorization_request_endpoint": f"{ISSUER}/par",
    "require_pushed_authorization_requests": True,
    "backchannel_authentication_endpoint": f"{ISSUER}/bc-authorize",
    "backchannel_token_delivery_modes_supported": ["poll", "ping", "push"],
    "backchannel_user_code_parameter_supported": True,
    "backchannel_authentication_request_signing_alg_values_supported": JWS_ALGS,
    "device_authorization_endpoint": f"{ISSUER}/device",
    "grant_management_endpoint": f"{ISSUER}/grants",
    "scopes_supported": ["openid", "profile", "offline_access"],
    "response_types_supported": ["code", "code id_token", "none"],
    # JARM is not implemented: no JWT response modes, no authorization signing algorithms.
    "response_modes_supported": ["query", "fragment", "form_post"],
    "grant_types_supported": [
        "authorization_code",
        "refresh_token",
        "urn:openid:params:grant-type:ciba",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ],
    "acr_values_supported": ["urn:mace:incommon:iap:silver"],
    "subject_types_supported": ["public", "pairwise"],
    "id_token_signing_alg_values_supported": JWS_ALGS,
    "userinfo_signing_alg_values_supported": JWS_ALGS,
    "request_object_signing_alg_values_supported": JWS_ALGS,
    "token_endpoint_auth_methods_supported": [
        "client_secret_basic",
        "private_key_jwt",
        "tls_client_auth",
        "self_signed_tls_client_auth",
    ],
    "token_endpoint_auth_signing_alg_values_supported": JWS_ALGS,
    "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
    "introspection_endpoint_auth_methods_supported": ["client_secret_post"],
    "display_values_supported": ["page", "popup"],
    "claim_types_supported": ["normal", "aggregated"],
    "claims_supported": ["sub", "name", "email"],
    "claims_locales_supported": ["en", "ja"],
    "ui_locales_supported": ["en-US"],
    "service_documentation": f"{ISSUER}/docs",
    "op_policy_uri": f"{ISSUER}/policy",
    "op_tos_uri": f"{ISSUER}/tos",
    "claims_parameter_supported": True,
    "request_parameter_supported": False,       # request objects are refused today
    "request_uri_parameter_supported": False,
    "require_request_uri_registration": False,
    "require_signed_request_object": True,
    "code_challenge_methods_supported": ["S256"],
    "tls_client_certificate_bound_access_tokens": True,
    "mtls_endpoint_aliases": {
        "token_endpoint": "https://mtls.as.example.com/token",
        "revocation_endpoint": "https://mtls.as.example.com/revoke",
    },
    "authorization_response_iss_parameter_supported": True,
    "introspection_signing_alg_values_supported": JWS_ALGS,
    "prompt_values_supported": ["none", "login", "consent", "select_account", "create"],
    "authorization_details_types_supported": ["payment_initiation"],
}

# Members that do not depend on any Service field.
ALWAYS_PRESENT = {
    "response_modes_supported": ["query", "fragment", "form_post"],
    "subject_types_supported": ["public", "pairwise"],
    "claims_parameter_supported": True,
    "request_parameter_supported": False,
    "request_uri_parameter_supported": False,
    "require_request_uri_registration": False,
    "require_signed_request_object": False,
    "code_challenge_methods_supported": ["plain", "S256"],
    "authorization_response_iss_parameter_supported": True,
}


def test_full_service_members_and_values():
    assert build_configuration(full_service(), jws_algs=JWS_ALGS) == EXPECTED_FULL


def test_full_service_member_order():
    document = build_configuration(full_service(), jws_algs=JWS_ALGS)
    assert list(document) == list(EXPECTED_FULL)


def test_empty_service_has_only_constant_members():
    assert build_configuration({}, jws_algs=[]) == ALWAYS_PRESENT


def test_null_and_empty_fields_are_omitted_never_null():
    service = {
        "issuer": None,
        "authorizationEndpoint": "",
        "supportedScopes": [],
        "supportedGrantTypes": None,
        "supportedClaims": [],
        "mtlsEndpointAliases": [],
        "parRequired": None,
    }
    document = build_configuration(service, jws_algs=[])
    assert document == ALWAYS_PRESENT
    assert None not in document.values()


def test_explicit_false_flags_are_published():
    service = {
        "parRequired": False,
        "backchannelUserCodeParameterSupported": False,
        "tlsClientCertificateBoundAccessTokens": False,
    }
    document = build_configuration(service, jws_algs=[])
    assert document["require_pushed_authorization_requests"] is False
    assert document["backchannel_user_code_parameter_supported"] is False
    assert document["tls_client_certificate_bound_access_tokens"] is False


def test_unknown_enum_names_are_dropped():
    service = {
        "supportedGrantTypes": ["AUTHORIZATION_CODE", "authorization_code", "MAGIC"],
        "supportedDisplays": ["WAP", "touch"],
    }
    document = build_configuration(service, jws_algs=[])
    assert document["grant_types_supported"] == ["authorization_code"]
    assert document["display_values_supported"] == ["wap"]


ENUM_MAPPINGS = [
    pytest.param(
        "supportedResponseTypes",
        "response_types_supported",
        ["TOKEN", "ID_TOKEN", "CODE_TOKEN", "ID_TOKEN_TOKEN", "CODE_ID_TOKEN_TOKEN"],
        ["token", "id_token", "code token", "id_token token", "code id_token token"],
        id="response-types",
    ),
    pytest.param(
        "supportedGrantTypes",
        "grant_types_supported",
        ["IMPLICIT", "PASSWORD", "CLIENT_CREDENTIALS", "PRE_AUTHORIZED_CODE"],
        [
            "implicit",
            "password",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        ],
        id="grant-types",
    ),
    pytest.param(
        "supportedTokenAuthMethods",
        "token_endpoint_auth_methods_supported",
        ["NONE", "CLIENT_SECRET_POST", "CLIENT_SECRET_JWT"],
        ["none", "client_secret_post", "client_secret_jwt"],
        id="client-auth-methods",
    ),
    pytest.param(
        "supportedDisplays",
        "display_values_supported",
        ["TOUCH", "WAP"],
        ["touch", "wap"],
        id="displays",
    ),
    pytest.param(
        "supportedClaimTypes",
        "claim_types_supported",
        ["DISTRIBUTED"],
        ["distributed"],
        id="claim-types",
    ),
    pytest.param(
        "supportedBackchannelTokenDeliveryModes",
        "backchannel_token_delivery_modes_supported",
        ["PUSH"],
        ["push"],
        id="delivery-modes",
    ),
    pytest.param(
        "supportedPromptValues",
        "prompt_values_supported",
        ["CONSENT"],
        ["consent"],
        id="prompts",
    ),
]


@pytest.mark.parametrize(("field", "member", "names", "values"), ENUM_MAPPINGS)
def test_enum_names_map_to_wire_values(field, member, names, values):
    document = build_configuration({field: names}, jws_algs=[])
    assert document[member] == values


# --- require_signed_request_object (RFC 9101 §10.5) -------------------------------------------

SIGNED_REQUEST_OBJECT = [
    pytest.param({}, False, id="unset"),
    pytest.param({"requestObjectRequired": False}, False, id="not-required"),
    pytest.param({"requestObjectRequired": True}, True, id="required-jar-rules"),
    pytest.param(
        {"requestObjectRequired": True, "traditionalRequestObjectProcessingApplied": False},
        True,
        id="required-explicit-jar-rules",
    ),
    pytest.param(
        {"requestObjectRequired": True, "traditionalRequestObjectProcessingApplied": True},
        False,
        id="required-traditional-processing",
    ),
    pytest.param(
        {"requestObjectRequired": False, "traditionalRequestObjectProcessingApplied": True},
        False,
        id="traditional-only",
    ),
]


@pytest.mark.parametrize(("service", "expected"), SIGNED_REQUEST_OBJECT)
def test_require_signed_request_object(service, expected):
    document = build_configuration(service, jws_algs=JWS_ALGS)
    assert document["require_signed_request_object"] is expected


# --- PKCE (RFC 7636 §4.2) ---------------------------------------------------------------------

CODE_CHALLENGE_METHODS = [
    pytest.param({}, ["plain", "S256"], id="unset"),
    pytest.param({"pkceRequired": True}, ["plain", "S256"], id="pkce-required-any-method"),
    pytest.param({"pkceS256Required": False}, ["plain", "S256"], id="s256-not-required"),
    pytest.param({"pkceS256Required": True}, ["S256"], id="s256-required"),
]


@pytest.mark.parametrize(("service", "expected"), CODE_CHALLENGE_METHODS)
def test_code_challenge_methods(service, expected):
    document = build_configuration(service, jws_algs=JWS_ALGS)
    assert document["code_challenge_methods_supported"] == expected


# --- algorithms ------------------------------------------------------------------------------


def test_client_secret_jwt_adds_hmac_algorithms():
    service = {"supportedTokenAuthMethods": ["CLIENT_SECRET_JWT", "PRIVATE_KEY_JWT"]}
    document = build_configuration(service, jws_algs=["RS256", "ES256"])
    assert document["token_endpoint_auth_signing_alg_values_supported"] == [
        "RS256",
        "ES256",
        "HS256",
        "HS384",
        "HS512",
    ]


def test_client_secret_jwt_without_server_keys_lists_only_hmac():
    service = {"supportedTokenAuthMethods": ["CLIENT_SECRET_JWT"]}
    document = build_configuration(service, jws_algs=[])
    assert document["token_endpoint_auth_signing_alg_values_supported"] == [
        "HS256",
        "HS384",
        "HS512",
    ]


def test_asymmetric_only_where_required():
    service = {"backchannelAuthenticationEndpoint": f"{ISSUER}/bc-authorize"}
    document = build_configuration(service, jws_algs=["HS256", "RS256", "none", "ES256"])
    assert document["backchannel_authentication_request_signing_alg_values_supported"] == [
        "RS256",
        "ES256",
    ]
    assert document["token_endpoint_auth_signing_alg_values_supported"] == [
        "HS256",
        "RS256",
        "ES256",
    ]


def test_ciba_signing_algorithms_need_a_backchannel_endpoint():
    document = build_configuration({}, jws_algs=JWS_ALGS)
    assert "backchannel_authentication_request_signing_alg_values_supported" not in document


def test_only_what_is_implemented_is_advertised():
    """JARM, request objects and DPoP are refused today, so discovery does not offer them
    (a client that trusted the document would only meet errors)."""
    document = build_configuration({}, jws_algs=["ES256"])
    assert document["response_modes_supported"] == ["query", "fragment", "form_post"]
    assert document["request_parameter_supported"] is False
    assert document["request_uri_parameter_supported"] is False
    assert "dpop_signing_alg_values_supported" not in document
    assert "authorization_signing_alg_values_supported" not in document


def test_algorithm_lists_are_independent_copies():
    algs = ["RS256"]
    document = build_configuration({}, jws_algs=algs)
    document["id_token_signing_alg_values_supported"].append("PS256")
    assert document["userinfo_signing_alg_values_supported"] == ["RS256"]
    assert algs == ["RS256"]


# --- other members ---------------------------------------------------------------------------


def test_iss_suppressed_turns_off_iss_parameter():
    document = build_configuration({"issSuppressed": True}, jws_algs=[])
    assert document["authorization_response_iss_parameter_supported"] is False


def test_incomplete_mtls_aliases_are_skipped():
    service = {
        "mtlsEndpointAliases": [
            {"name": "token_endpoint", "uri": "https://mtls.example.com/token"},
            {"name": "userinfo_endpoint", "uri": None},
            {"name": None, "uri": "https://mtls.example.com/x"},
        ]
    }
    document = build_configuration(service, jws_algs=[])
    assert document["mtls_endpoint_aliases"] == {"token_endpoint": "https://mtls.example.com/token"}


def test_service_is_not_modified():
    service = full_service()
    build_configuration(service, jws_algs=JWS_ALGS)
    assert service == full_service()


# --- rendering -------------------------------------------------------------------------------


def test_render_pretty():
    text = render_configuration({"issuer": ISSUER, "scopes_supported": ["openid"]}, pretty=True)
    assert (
        text == '{\n  "issuer": "https://as.example.com",\n  "scopes_supported": [\n'
        '    "openid"\n  ]\n}'
    )


def test_render_compact():
    text = render_configuration({"issuer": ISSUER, "x": [1, True]}, pretty=False)
    assert text == '{"issuer":"https://as.example.com","x":[1,true]}'


def test_render_keeps_member_order_and_round_trips():
    document = build_configuration(full_service(), jws_algs=JWS_ALGS)
    for pretty in (True, False):
        parsed = json.loads(render_configuration(document, pretty=pretty))
        assert list(parsed) == list(document)
        assert parsed == document

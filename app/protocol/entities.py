"""Service and Client objects as they travel on the wire (reference §3), and their decoding.

Every field of the reference's Service and Client is known here with its JSON kind, so a request
carrying the SDK's full object (every member present, unset ones as null / 0 / false) decodes into a
normalised document holding only the members that are set. Enum values travel as UPPER_CASE names
(reference §1.4). Identity and secret members are assigned by the server and never stored in the
document.
"""

from collections.abc import Callable, Mapping
from typing import Any

from app.protocol import result_codes as rc
from app.protocol.errors import ApiError

GRANT_TYPES = frozenset({
    "AUTHORIZATION_CODE", "IMPLICIT", "PASSWORD", "CLIENT_CREDENTIALS", "REFRESH_TOKEN", "CIBA",
    "DEVICE_CODE", "TOKEN_EXCHANGE", "JWT_BEARER", "PRE_AUTHORIZED_CODE",
})
RESPONSE_TYPES = frozenset({
    "NONE", "CODE", "TOKEN", "ID_TOKEN", "CODE_TOKEN", "CODE_ID_TOKEN", "ID_TOKEN_TOKEN",
    "CODE_ID_TOKEN_TOKEN",
})
CLIENT_AUTH_METHODS = frozenset({
    "NONE", "CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST", "CLIENT_SECRET_JWT", "PRIVATE_KEY_JWT",
    "TLS_CLIENT_AUTH", "SELF_SIGNED_TLS_CLIENT_AUTH",
})
JWS_ALGS = frozenset({
    "NONE", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
    "PS256", "PS384", "PS512",
})
JWE_ALGS = frozenset({
    "RSA1_5", "RSA_OAEP", "RSA_OAEP_256", "A128KW", "A192KW", "A256KW", "DIR", "ECDH_ES",
    "ECDH_ES_A128KW", "ECDH_ES_A192KW", "ECDH_ES_A256KW", "A128GCMKW", "A192GCMKW", "A256GCMKW",
    "PBES2_HS256_A128KW", "PBES2_HS384_A192KW", "PBES2_HS512_A256KW",
})
JWE_ENCS = frozenset({
    "A128CBC_HS256", "A192CBC_HS384", "A256CBC_HS512", "A128GCM", "A192GCM", "A256GCM",
})
DELIVERY_MODES = frozenset({"POLL", "PING", "PUSH"})
FAPI_MODES = frozenset({
    "FAPI1_BASELINE", "FAPI1_ADVANCED", "FAPI2_SECURITY", "FAPI2_MESSAGE_SIGNING_AUTH_REQ",
    "FAPI2_MESSAGE_SIGNING_AUTH_RES", "FAPI2_MESSAGE_SIGNING_INTROSPECTION_RES",
})
CLIENT_TYPES = frozenset({"PUBLIC", "CONFIDENTIAL"})
APPLICATION_TYPES = frozenset({"WEB", "NATIVE"})
SUBJECT_TYPES = frozenset({"PUBLIC", "PAIRWISE"})
DISPLAYS = frozenset({"PAGE", "POPUP", "TOUCH", "WAP"})
CLAIM_TYPES = frozenset({"NORMAL", "AGGREGATED", "DISTRIBUTED"})
PROMPTS = frozenset({"NONE", "LOGIN", "CONSENT", "SELECT_ACCOUNT", "CREATE"})
SERVICE_PROFILES = frozenset({"FAPI", "OPEN_BANKING"})
USER_CODE_CHARSETS = frozenset({"BASE20", "NUMERIC"})
REGISTRATION_TYPES = frozenset({"AUTOMATIC", "EXPLICIT"})
ATTACHMENT_TYPES = frozenset({"EMBEDDED", "EXTERNAL"})
SNSES = frozenset({"FACEBOOK"})

Decoder = Callable[[str, Any], Any]


class Unset:
    """Marker: the member is present but means "not specified" (null, 0, false, "", [])."""


UNSET = Unset()


def _invalid(key: str, value: Any, reason: str) -> ApiError:
    return ApiError(rc.VALUE_INVALID, key=key, reason=f"{_show(value)} {reason}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _string(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise _invalid(key, value, "is not a string")
    return value if value else UNSET


def _integer(key: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(key, value, "is not an integer")
    if value < 0:
        raise _invalid(key, value, "must not be negative")
    return value if value else UNSET


def _boolean(key: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise _invalid(key, value, "is not a boolean")
    return value if value else UNSET


def _enum(names: frozenset[str]) -> Decoder:
    def decode(key: str, value: Any) -> Any:
        if not isinstance(value, str):
            raise _invalid(key, value, "is not a string")
        if value not in names:
            raise ApiError(rc.VALUE_NOT_SUPPORTED, key=key, value=value)
        return value
    return decode


def _list_of(item: Decoder) -> Decoder:
    def decode(key: str, value: Any) -> Any:
        if not isinstance(value, list):
            raise _invalid(key, value, "is not an array")
        items = [item(f"{key}[{index}]", element) for index, element in enumerate(value)]
        kept = [element for element in items if element is not UNSET]
        return _dedupe(kept) if kept else UNSET
    return decode


def _dedupe(items: list) -> list:
    seen: list = []
    for element in items:
        if element not in seen:
            seen.append(element)
    return seen


def _object(members: Mapping[str, Decoder]) -> Decoder:
    def decode(key: str, value: Any) -> Any:
        if not isinstance(value, dict):
            raise _invalid(key, value, "is not an object")
        document = decode_members(value, members, prefix=f"{key}.")
        return document if document else UNSET
    return decode


def _any_json(key: str, value: Any) -> Any:
    return value if value not in ({}, [], "") else UNSET


def _enums(names: frozenset[str]) -> Decoder:
    return _list_of(_enum(names))


STR, INT, BOOL, JSON = _string, _integer, _boolean, _any_json
STRS = _list_of(_string)
PAIR = _object({"key": STR, "value": STR})
PAIRS = _list_of(PAIR)
TAGGED = _list_of(_object({"tag": STR, "value": STR}))
NAMED_URIS = _list_of(_object({"name": STR, "uri": STR}))
SCOPES = _list_of(_object({
    "name": STR, "defaultEntry": BOOL, "description": STR, "descriptions": TAGGED,
    "attributes": PAIRS,
}))


def decode_members(body: Mapping[str, Any], members: Mapping[str, Decoder],
                   prefix: str = "") -> dict:
    """Decode the known members of `body`; unknown members are ignored (reference §1.4)."""
    document = {}
    for key, decoder in members.items():
        value = body.get(key)
        if value is None:
            continue
        decoded = decoder(prefix + key, value)
        if decoded is not UNSET:
            document[key] = decoded
    return document


SERVICE_IDENTITY = ("number", "apiKey", "apiSecret", "createdAt", "modifiedAt",
                    "serviceOwnerNumber")

SERVICE_MEMBERS: dict[str, Decoder] = {
    "serviceName": STR, "issuer": STR, "description": STR, "clientsPerDeveloper": INT,
    "authorizationEndpoint": STR, "tokenEndpoint": STR, "revocationEndpoint": STR,
    "userInfoEndpoint": STR, "introspectionEndpoint": STR, "registrationEndpoint": STR,
    "registrationManagementEndpoint": STR, "endSessionEndpoint": STR, "jwksUri": STR,
    "jwks": STR, "pushedAuthReqEndpoint": STR, "backchannelAuthenticationEndpoint": STR,
    "deviceAuthorizationEndpoint": STR, "deviceVerificationUri": STR,
    "deviceVerificationUriComplete": STR, "grantManagementEndpoint": STR,
    "federationRegistrationEndpoint": STR, "credentialJwksUri": STR,
    "serviceDocumentation": STR, "policyUri": STR, "tosUri": STR,
    "supportedRevocationAuthMethods": _enums(CLIENT_AUTH_METHODS),
    "supportedIntrospectionAuthMethods": _enums(CLIENT_AUTH_METHODS),
    "supportedTokenAuthMethods": _enums(CLIENT_AUTH_METHODS),
    "supportedScopes": SCOPES, "supportedResponseTypes": _enums(RESPONSE_TYPES),
    "supportedGrantTypes": _enums(GRANT_TYPES), "supportedAcrs": STRS,
    "supportedDisplays": _enums(DISPLAYS), "supportedClaimTypes": _enums(CLAIM_TYPES),
    "supportedClaims": STRS, "supportedClaimLocales": STRS, "supportedUiLocales": STRS,
    "supportedPromptValues": _enums(PROMPTS), "supportedServiceProfiles": _enums(SERVICE_PROFILES),
    "supportedBackchannelTokenDeliveryModes": _enums(DELIVERY_MODES),
    "supportedAuthorizationDetailsTypes": STRS, "supportedCustomClientMetadata": STRS,
    "supportedClientRegistrationTypes": _enums(REGISTRATION_TYPES),
    "supportedTrustFrameworks": STRS, "supportedEvidence": STRS,
    "supportedIdentityDocuments": STRS, "supportedDocuments": STRS,
    "supportedVerificationMethods": STRS, "supportedDocumentsMethods": STRS,
    "supportedDocumentsCheckMethods": STRS, "supportedElectronicRecords": STRS,
    "supportedVerifiedClaims": STRS, "supportedAttachments": _enums(ATTACHMENT_TYPES),
    "supportedDigestAlgorithms": STRS, "supportedSnses": _enums(SNSES),
    "supportedDeveloperSnses": _enums(SNSES), "snsCredentials": JSON,
    "developerSnsCredentials": JSON,
    "authenticationCallbackEndpoint": STR, "authenticationCallbackApiKey": STR,
    "authenticationCallbackApiSecret": STR, "developerAuthenticationCallbackEndpoint": STR,
    "developerAuthenticationCallbackApiKey": STR, "developerAuthenticationCallbackApiSecret": STR,
    "directAuthorizationEndpointEnabled": BOOL, "directTokenEndpointEnabled": BOOL,
    "directRevocationEndpointEnabled": BOOL, "directUserInfoEndpointEnabled": BOOL,
    "directJwksEndpointEnabled": BOOL, "directIntrospectionEndpointEnabled": BOOL,
    "singleAccessTokenPerSubject": BOOL, "pkceRequired": BOOL, "pkceS256Required": BOOL,
    "refreshTokenKept": BOOL, "refreshTokenDurationKept": BOOL,
    "refreshTokenDurationReset": BOOL, "refreshTokenIdempotent": BOOL,
    "errorDescriptionOmitted": BOOL, "errorUriOmitted": BOOL, "clientIdAliasEnabled": BOOL,
    "tlsClientCertificateBoundAccessTokens": BOOL, "mutualTlsValidatePkiCertChain": BOOL,
    "trustedRootCertificates": STRS, "dynamicRegistrationSupported": BOOL,
    "accessTokenType": STR, "accessTokenSignAlg": _enum(JWS_ALGS),
    "accessTokenDuration": INT, "refreshTokenDuration": INT, "idTokenDuration": INT,
    "authorizationCodeDuration": INT, "authorizationResponseDuration": INT,
    "pushedAuthReqDuration": INT, "metadata": PAIRS, "attributes": PAIRS,
    "accessTokenSignatureKeyId": STR, "authorizationSignatureKeyId": STR,
    "idTokenSignatureKeyId": STR, "userInfoSignatureKeyId": STR,
    "introspectionSignatureKeyId": STR, "resourceSignatureKeyId": STR,
    "backchannelUserCodeParameterSupported": BOOL, "backchannelAuthReqIdDuration": INT,
    "backchannelPollingInterval": INT, "backchannelBindingMessageRequiredInFapi": BOOL,
    "allowableClockSkew": INT, "deviceFlowCodeDuration": INT, "deviceFlowPollingInterval": INT,
    "userCodeCharset": _enum(USER_CODE_CHARSETS), "userCodeLength": INT,
    "mtlsEndpointAliases": NAMED_URIS, "missingClientIdAllowed": BOOL, "parRequired": BOOL,
    "requestObjectRequired": BOOL, "traditionalRequestObjectProcessingApplied": BOOL,
    "claimShortcutRestrictive": BOOL, "scopeRequired": BOOL, "nbfOptional": BOOL,
    "issSuppressed": BOOL, "tokenExpirationLinked": BOOL,
    "frontChannelRequestObjectEncryptionRequired": BOOL,
    "requestObjectEncryptionAlgMatchRequired": BOOL,
    "requestObjectEncryptionEncMatchRequired": BOOL, "hsmEnabled": BOOL, "hsks": JSON,
    "grantManagementActionRequired": BOOL, "unauthorizedOnClientConfigSupported": BOOL,
    "dcrScopeUsedAsRequestable": BOOL, "dcrDuplicateSoftwareIdBlocked": BOOL,
    "predefinedTransformedClaims": STR, "loopbackRedirectionUriVariable": BOOL,
    "requestObjectAudienceChecked": BOOL, "accessTokenForExternalAttachmentEmbedded": BOOL,
    "federationEnabled": BOOL, "organizationName": STR, "authorityHints": STRS,
    "trustAnchors": JSON, "federationJwks": STR, "federationSignatureKeyId": STR,
    "federationConfigurationDuration": INT, "signedJwksUri": STR,
    "tokenExchangeByIdentifiableClientsOnly": BOOL,
    "tokenExchangeByConfidentialClientsOnly": BOOL, "tokenExchangeByPermittedClientsOnly": BOOL,
    "tokenExchangeEncryptedJwtRejected": BOOL, "tokenExchangeUnsignedJwtRejected": BOOL,
    "jwtGrantByIdentifiableClientsOnly": BOOL, "jwtGrantEncryptedJwtRejected": BOOL,
    "jwtGrantUnsignedJwtRejected": BOOL, "rsResponseSigned": BOOL,
    "openidDroppedOnRefreshWithoutOfflineAccess": BOOL, "verifiableCredentialsEnabled": BOOL,
    "credentialIssuerMetadata": JSON, "credentialOfferDuration": INT, "idTokenAudType": STR,
    "verifiedClaimsValidationSchemaSet": STR, "preAuthorizedGrantAnonymousAccessSupported": BOOL,
    "cnonceDuration": INT, "credentialTransactionDuration": INT, "credentialDuration": INT,
    "credentialJwks": STR, "idTokenReissuable": BOOL, "fapiModes": _enums(FAPI_MODES),
    "dpopNonceRequired": BOOL, "dpopNonceDuration": INT,
}

CLIENT_IDENTITY = ("number", "serviceNumber", "clientId", "clientSecret", "createdAt",
                   "modifiedAt", "derivedSectorIdentifier", "registrationAccessTokenHash")

CLIENT_EXTENSION = _object({
    "requestableScopesEnabled": BOOL, "requestableScopes": STRS, "accessTokenDuration": INT,
    "refreshTokenDuration": INT, "idTokenDuration": INT, "tokenExchangePermitted": BOOL,
})

CLIENT_MEMBERS: dict[str, Decoder] = {
    "developer": STR, "clientIdAlias": STR, "clientIdAliasEnabled": BOOL,
    "clientType": _enum(CLIENT_TYPES), "redirectUris": STRS,
    "responseTypes": _enums(RESPONSE_TYPES), "grantTypes": _enums(GRANT_TYPES),
    "applicationType": _enum(APPLICATION_TYPES), "contacts": STRS, "clientName": STR,
    "clientNames": TAGGED, "logoUri": STR, "logoUris": TAGGED, "clientUri": STR,
    "clientUris": TAGGED, "policyUri": STR, "policyUris": TAGGED, "tosUri": STR,
    "tosUris": TAGGED, "jwksUri": STR, "jwks": STR, "sectorIdentifierUri": STR,
    "subjectType": _enum(SUBJECT_TYPES), "idTokenSignAlg": _enum(JWS_ALGS),
    "idTokenEncryptionAlg": _enum(JWE_ALGS), "idTokenEncryptionEnc": _enum(JWE_ENCS),
    "userInfoSignAlg": _enum(JWS_ALGS), "userInfoEncryptionAlg": _enum(JWE_ALGS),
    "userInfoEncryptionEnc": _enum(JWE_ENCS), "requestSignAlg": _enum(JWS_ALGS),
    "requestEncryptionAlg": _enum(JWE_ALGS), "requestEncryptionEnc": _enum(JWE_ENCS),
    "tokenAuthMethod": _enum(CLIENT_AUTH_METHODS), "tokenAuthSignAlg": _enum(JWS_ALGS),
    "defaultMaxAge": INT, "defaultAcrs": STRS, "authTimeRequired": BOOL, "loginUri": STR,
    "requestUris": STRS, "description": STR, "descriptions": TAGGED,
    "extension": CLIENT_EXTENSION, "tlsClientAuthSubjectDn": STR, "tlsClientAuthSanDns": STR,
    "tlsClientAuthSanUri": STR, "tlsClientAuthSanIp": STR, "tlsClientAuthSanEmail": STR,
    "tlsClientCertificateBoundAccessTokens": BOOL, "selfSignedCertificateKeyId": STR,
    "softwareId": STR, "softwareVersion": STR, "authorizationSignAlg": _enum(JWS_ALGS),
    "authorizationEncryptionAlg": _enum(JWE_ALGS), "authorizationEncryptionEnc": _enum(JWE_ENCS),
    "bcDeliveryMode": _enum(DELIVERY_MODES), "bcNotificationEndpoint": STR,
    "bcRequestSignAlg": _enum(JWS_ALGS), "bcUserCodeRequired": BOOL,
    "dynamicallyRegistered": BOOL, "authorizationDetailsTypes": STRS, "parRequired": BOOL,
    "requestObjectRequired": BOOL, "attributes": PAIRS, "customMetadata": STR,
    "frontChannelRequestObjectEncryptionRequired": BOOL,
    "requestObjectEncryptionAlgMatchRequired": BOOL,
    "requestObjectEncryptionEncMatchRequired": BOOL, "digestAlgorithm": STR,
    "singleAccessTokenPerSubject": BOOL, "pkceRequired": BOOL, "pkceS256Required": BOOL,
    "rsSignedRequestKeyId": STR, "rsRequestSigned": BOOL, "dpopRequired": BOOL, "locked": BOOL,
    "fapiModes": _enums(FAPI_MODES), "entityId": STR, "trustAnchorId": STR, "trustChain": STRS,
    "trustChainExpiresAt": INT, "trustChainUpdatedAt": INT, "organizationName": STR,
    "signedJwksUri": STR, "clientRegistrationTypes": _enums(REGISTRATION_TYPES),
    "automaticallyRegistered": BOOL, "explicitlyRegistered": BOOL,
    "credentialOfferEndpoint": STR, "credentialResponseEncryptionRequired": BOOL,
}


def decode_service(body: Mapping[str, Any]) -> dict:
    return decode_members(body, SERVICE_MEMBERS)


def decode_client(body: Mapping[str, Any]) -> dict:
    return decode_members(body, CLIENT_MEMBERS)

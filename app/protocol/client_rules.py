"""Checks and defaults for a Client document (reference §3, OpenID Connect Registration §2,
RFC 7591 §2, RFC 8252 for native apps). Each failure names the field, the value and the reason."""

from urllib.parse import urlsplit

from app.protocol import result_codes as rc
from app.protocol.errors import ApiError
from app.protocol.service_rules import check_jwk_set
from app.protocol.uris import host_of, is_loopback, problem_with_url

_HTTPS_URLS = ("jwksUri", "sectorIdentifierUri", "bcNotificationEndpoint", "signedJwksUri")
_WEB_URLS = ("logoUri", "clientUri", "policyUri", "tosUri", "loginUri")
_SECRET_METHODS = ("CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST", "CLIENT_SECRET_JWT")
_CODE_RESPONSE_TYPES = ("CODE", "CODE_TOKEN", "CODE_ID_TOKEN", "CODE_ID_TOKEN_TOKEN")
_IMPLICIT_RESPONSE_TYPES = ("TOKEN", "ID_TOKEN", "ID_TOKEN_TOKEN", "CODE_TOKEN", "CODE_ID_TOKEN",
                            "CODE_ID_TOKEN_TOKEN")

CLIENT_DEFAULTS = {
    "clientType": "CONFIDENTIAL",
    "applicationType": "WEB",
    "grantTypes": ["AUTHORIZATION_CODE"],
    "subjectType": "PUBLIC",
    "idTokenSignAlg": "RS256",
}


def with_defaults(document: dict) -> dict:
    merged = {**CLIENT_DEFAULTS, **document}
    if "responseTypes" not in merged and "AUTHORIZATION_CODE" in merged["grantTypes"]:
        # A client of the code flow that names no response type uses `code`; a client that
        # only uses, say, client credentials has none (OpenID Connect Registration §2).
        merged["responseTypes"] = ["CODE"]
    if "tokenAuthMethod" not in merged:
        # A public client has no secret to authenticate with (RFC 6749 §2.1).
        public = merged["clientType"] == "PUBLIC"
        merged["tokenAuthMethod"] = "NONE" if public else "CLIENT_SECRET_BASIC"
    return merged


def check_client(document: dict) -> None:
    _check_alias(document.get("clientIdAlias"))
    _check_auth_method(document)
    _check_redirect_uris(document)
    _check_grant_response_consistency(document)
    _check_urls(document)
    _check_keys(document)
    _check_pairwise(document)
    _check_backchannel(document)
    _check_encryption_pairs(document)


def _fail(key: str, reason: str) -> ApiError:
    return ApiError(rc.VALUE_INVALID, key=key, reason=reason)


def _check_alias(alias: str | None) -> None:
    if alias is None:
        return
    if alias.isdigit():
        # A numeric alias could be read as another client's numeric ID.
        raise _fail("clientIdAlias", f"'{alias}' consists of digits only and would be mistaken "
                                     "for a client ID")
    if len(alias) > 200 or any(ch.isspace() for ch in alias):
        raise _fail("clientIdAlias", f"'{alias}' must be at most 200 characters without spaces")


def _check_auth_method(document: dict) -> None:
    method, client_type = document["tokenAuthMethod"], document["clientType"]
    if client_type == "CONFIDENTIAL" and method == "NONE":
        raise _fail("tokenAuthMethod", "a confidential client must authenticate; 'NONE' is only "
                                       "for public clients (RFC 6749 §2.1)")
    if client_type == "PUBLIC" and method in _SECRET_METHODS:
        raise _fail("tokenAuthMethod", f"'{method}' needs a client secret, which a public client "
                                       "cannot keep (RFC 6749 §2.1)")
    if method == "PRIVATE_KEY_JWT" and not (document.get("jwks") or document.get("jwksUri")):
        raise _fail("tokenAuthMethod", "'PRIVATE_KEY_JWT' needs the client's public keys in "
                                       "'jwks' or 'jwksUri'")


def _check_redirect_uris(document: dict) -> None:
    implicit = any(t in _IMPLICIT_RESPONSE_TYPES for t in document.get("responseTypes", []))
    for index, uri in enumerate(document.get("redirectUris", [])):
        key = f"redirectUris[{index}]"
        problem = _redirect_uri_problem(uri, document["applicationType"], implicit)
        if problem:
            raise _fail(key, f"'{uri}' {problem}")


def _redirect_uri_problem(uri: str, application_type: str, implicit: bool) -> str | None:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "is not a valid URI"
    if not parts.scheme:
        return "is not an absolute URI (RFC 6749 §3.1.2)"
    if parts.fragment or uri.endswith("#"):
        return "must not include a fragment component (RFC 6749 §3.1.2)"
    if application_type == "NATIVE":
        return _native_redirect_problem(parts)
    return _web_redirect_problem(parts, implicit)


def _native_redirect_problem(parts) -> str | None:
    # RFC 8252 §7.3: plain http is only for the loopback interface. (The reference also refuses
    # https for native clients; RFC 8252 §7.2 allows claimed https URIs, and the RFC wins.)
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return ("uses http, which a native client may use only with localhost or a loopback IP "
                "address (RFC 8252 §7.3)")
    return None


def _web_redirect_problem(parts, implicit: bool) -> str | None:
    if parts.scheme not in ("https", "http"):
        return "must use https or http because the client's application type is 'WEB'"
    if implicit and parts.scheme != "https":
        return ("must use https because the client uses a response type that returns tokens "
                "in the front channel (OpenID Connect Registration §2)")
    if implicit and is_loopback(parts.hostname):
        return ("must not point to localhost because the client uses a response type that "
                "returns tokens in the front channel (OpenID Connect Registration §2)")
    return None


def _check_grant_response_consistency(document: dict) -> None:
    # OpenID Connect Registration §2 (grant_types): response types and grant types must agree.
    grants, responses = document.get("grantTypes", []), document.get("responseTypes", [])
    if "AUTHORIZATION_CODE" in grants and not any(t in _CODE_RESPONSE_TYPES for t in responses):
        raise _fail("responseTypes", "grant type 'AUTHORIZATION_CODE' requires a response type "
                                     "containing 'code'")
    if any(t in _CODE_RESPONSE_TYPES for t in responses) and "AUTHORIZATION_CODE" not in grants:
        raise _fail("grantTypes", "a response type containing 'code' requires grant type "
                                  "'AUTHORIZATION_CODE'")
    returns_tokens = any(t in ("TOKEN", "ID_TOKEN", "ID_TOKEN_TOKEN") for t in responses)
    if returns_tokens and "IMPLICIT" not in grants:
        raise _fail("grantTypes", "a response type returning tokens from the authorization "
                                  "endpoint requires grant type 'IMPLICIT'")


def _check_urls(document: dict) -> None:
    for key in _HTTPS_URLS + _WEB_URLS:
        if key in document:
            problem = problem_with_url(document[key], https_only=key in _HTTPS_URLS)
            if problem:
                raise _fail(key, f"'{document[key]}' {problem}")
    for index, uri in enumerate(document.get("requestUris", [])):
        problem = problem_with_url(uri, https_only=True)
        if problem:
            raise _fail(f"requestUris[{index}]", f"'{uri}' {problem}")


def _check_keys(document: dict) -> None:
    # OpenID Connect Registration §2: jwks and jwks_uri must not both be present.
    if "jwks" in document and "jwksUri" in document:
        raise _fail("jwks", "'jwks' and 'jwksUri' must not both be set")
    if "jwks" in document:
        check_jwk_set("jwks", document["jwks"])


def _check_pairwise(document: dict) -> None:
    if document.get("subjectType") != "PAIRWISE" or "sectorIdentifierUri" in document:
        return
    hosts = {host_of(uri) for uri in document.get("redirectUris", [])}
    if len(hosts) > 1:
        listed = ", ".join(sorted(map(str, hosts)))
        raise _fail("subjectType", "'PAIRWISE' needs a 'sectorIdentifierUri' when the redirect "
                                   f"URIs span several hosts ({listed}) (OpenID Connect Core §8.1)")


def _check_backchannel(document: dict) -> None:
    mode = document.get("bcDeliveryMode")
    if mode in ("PING", "PUSH") and "bcNotificationEndpoint" not in document:
        raise _fail("bcNotificationEndpoint", f"delivery mode '{mode}' needs a client "
                                              "notification endpoint (CIBA Core §4)")


def _check_encryption_pairs(document: dict) -> None:
    for prefix in ("idToken", "userInfo", "request", "authorization"):
        if f"{prefix}EncryptionEnc" in document and f"{prefix}EncryptionAlg" not in document:
            raise _fail(f"{prefix}EncryptionEnc", f"'{prefix}EncryptionEnc' requires "
                                                  f"'{prefix}EncryptionAlg'")

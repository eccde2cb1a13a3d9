"""Client authentication at the token endpoint: RFC 6749 §2.3 (client_secret_basic / _post, one
method per request), OpenID Connect Core §9 (client_secret_jwt, private_key_jwt), RFC 7521 §4.2
and RFC 7523 §2.2/§3 (JWT client assertions).

The caller resolves the client the request names (`client_id_of`), loads it, and hands it to
`authenticate_client`, which reads like the checklist:

    detect the one method the request uses → is it the client's and the service's method →
    verify the credential (secret, or assertion signature + claims + one-time jti).

Every failure raises `ClientAuthError`, i.e. action INVALID_CLIENT with a code of group 157.
A locked client is the caller's business; mutual-TLS methods (RFC 8705) are not handled here.
"""

import hmac
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet, OctKey

from app.protocol import result_codes as rc
from app.protocol.actions import ActionFailure
from app.protocol.client_rules import with_defaults as client_with_defaults
from app.protocol.ports import ClientRecord
from app.protocol.result_codes import ResultCode
from app.protocol.service_rules import SERVICE_DEFAULTS

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"  # RFC 7523 §2.2
# RFC 7523 §3 item 4 lets the server reject an `exp` unreasonably far in the future. An assertion
# is made just before it is sent; one hour is what Okta and Google's JWT profile allow, and it
# bounds how long the replay guard must remember each jti.
MAX_ASSERTION_LIFETIME_S = 3600
# RFC 7518 §3.2: the HMAC key must be at least as long as the hash output.
HMAC_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
# Asymmetric JWS algorithms (RFC 7518 §3.3-§3.5) and the key each needs.
KEY_TYPES = {
    "RS256": ("RSA", None), "RS384": ("RSA", None), "RS512": ("RSA", None),
    "PS256": ("RSA", None), "PS384": ("RSA", None), "PS512": ("RSA", None),
    "ES256": ("EC", "P-256"), "ES384": ("EC", "P-384"), "ES512": ("EC", "P-521"),
}
_SUPPORTED_ALGS = ", ".join([*HMAC_KEY_BYTES, *KEY_TYPES])
_SHOWN_CHARS = 80

FetchJwks = Callable[[str], Awaitable[dict]]


class JtiReplayGuard(Protocol):
    """Remembers client assertion identifiers until the assertions expire (RFC 7523 §3 item 7).

    `jti` is the replay key: the client ID, a space, and the assertion's `jti`, so one client
    cannot use up another's values. Storage implements it atomically (a unique index)."""

    async def first_use(self, service_api_key: int, jti: str, expires_at_ms: int) -> bool:
        """True the first time `jti` is seen for the service; False on every later call."""
        ...


class JwksFetchError(Exception):
    """What a `fetch_jwks` adapter raises when the client's jwks_uri cannot be read; its text
    is the reason reported to the client."""


@dataclass(frozen=True)
class ClientAuthentication:
    method: str  # ClientAuthMethod enum name: "CLIENT_SECRET_BASIC", "PRIVATE_KEY_JWT", "NONE"…


class ClientAuthError(ActionFailure):
    """A failed client authentication: the token endpoint answers INVALID_CLIENT (RFC 6749 §5.2)."""

    def __init__(self, code: ResultCode, **params: object) -> None:
        if code.oauth_error != "invalid_client":
            raise ValueError(f"{code.code} is not an invalid_client code")
        super().__init__("INVALID_CLIENT", code, **params)

    def message(self) -> str:
        return self.code.message(**self.params)


@dataclass(frozen=True)
class _Assertion:
    text: str
    header: dict
    claims: dict


@dataclass(frozen=True)
class _Attempt:
    """One token request's authentication attempt, as the verifiers see it."""
    parameters: Mapping[str, str]
    basic_secret: str | None
    client: ClientRecord
    service: dict
    token_endpoint: str
    now_ms: int
    replay: JtiReplayGuard
    fetch_jwks: FetchJwks | None
    assertion: _Assertion | None


# --- Which client the request names ------------------------------------------------------------

def client_id_of(parameters: Mapping[str, str], basic_client_id: str | None,
                 assertion_claims: Mapping[str, Any] | None = None) -> str:
    """The client identifier (ID or alias) the request claims: HTTP Basic user, `client_id`
    parameter, or the `sub` (else `iss`) of the client assertion (RFC 7523 §3). The claims are
    read unverified when not given; `authenticate_client` verifies them later."""
    body_id = parameters.get("client_id") or None
    if basic_client_id and body_id and basic_client_id != body_id:
        raise ClientAuthError(rc.CLIENT_AUTH_CLIENT_ID_CONFLICT, basic=basic_client_id,
                              body=body_id)
    named, source = (basic_client_id, "HTTP Basic") if basic_client_id else (body_id, "client_id")
    if assertion_claims is None and parameters.get("client_assertion"):
        assertion_claims = _parse_assertion(parameters["client_assertion"]).claims
    claim, subject = _assertion_subject(assertion_claims or {})
    if named and subject is not None and subject != named:
        raise ClientAuthError(rc.CLIENT_ASSERTION_SUBJECT_CONFLICT, claim=claim,
                              subject=_shown(subject), client_id=named, source=source)
    identifier = named or subject
    if not identifier or not isinstance(identifier, str):
        raise ClientAuthError(rc.CLIENT_AUTH_CLIENT_ID_MISSING)
    return identifier


def _assertion_subject(claims: Mapping[str, Any]) -> tuple[str, Any]:
    if claims.get("sub") is not None:
        return "sub", claims["sub"]
    return "iss", claims.get("iss")


# --- The checklist ---------------------------------------------------------------------------

async def authenticate_client(*, parameters: Mapping[str, str], basic_id: str | None,
                              basic_secret: str | None, client: ClientRecord, service: dict,
                              token_endpoint: str, now_ms: int, replay: JtiReplayGuard,
                              fetch_jwks: FetchJwks | None = None) -> ClientAuthentication:
    basic_id = basic_id or None
    assertion = _assertion_of(parameters)
    identifier = client_id_of(parameters, basic_id, assertion.claims if assertion else None)
    _check_identifier(identifier, client, service)
    method = _method_used(parameters, basic_id, assertion)
    _check_method_allowed(method, client, service)
    attempt = _Attempt(parameters, basic_secret, client, service, token_endpoint, now_ms,
                       replay, fetch_jwks, assertion)
    await _VERIFIERS[method](attempt)
    return ClientAuthentication(method)


def _check_identifier(identifier: str, client: ClientRecord, service: dict) -> None:
    if identifier in _identifiers(client, service):
        return
    reason = ("it is the client's alias, but the service and the client do not both enable "
              "'clientIdAliasEnabled'" if identifier == client.client_id_alias
              else "it is neither the client's ID nor its alias")
    raise ClientAuthError(rc.CLIENT_AUTH_IDENTIFIER_REJECTED, identifier=_shown(identifier),
                          client_id=client.client_id, reason=reason)


def _identifiers(client: ClientRecord, service: dict) -> tuple[str, ...]:
    """The values that name this client: its ID, and its alias when both sides allow it."""
    alias_allowed = (service.get("clientIdAliasEnabled")
                     and client.document.get("clientIdAliasEnabled") and client.client_id_alias)
    if alias_allowed:
        return str(client.client_id), client.client_id_alias
    return (str(client.client_id),)


# --- Detect the one method used (RFC 6749 §2.3, RFC 7521 §4.2) -------------------------------

def _assertion_of(parameters: Mapping[str, str]) -> _Assertion | None:
    text, kind = parameters.get("client_assertion"), parameters.get("client_assertion_type")
    if not text and not kind:
        return None
    if not text or not kind:
        present, missing = (("client_assertion", "client_assertion_type") if text
                            else ("client_assertion_type", "client_assertion"))
        raise ClientAuthError(rc.CLIENT_ASSERTION_PARAMETER_MISSING, present=present,
                              missing=missing)
    if kind != JWT_BEARER:
        raise ClientAuthError(rc.CLIENT_ASSERTION_TYPE_UNSUPPORTED, value=_shown(kind),
                              expected=JWT_BEARER)
    return _parse_assertion(text)


def _parse_assertion(text: str) -> _Assertion:
    """Header and claims, not yet verified: they say which client and which key to use."""
    try:
        signed = jws.extract_compact(text.encode())
        claims = json.loads(signed.payload)
    except (JoseError, ValueError) as error:
        raise ClientAuthError(rc.CLIENT_ASSERTION_MALFORMED, reason=_reason(error)) from None
    if not isinstance(claims, dict):
        raise ClientAuthError(rc.CLIENT_ASSERTION_MALFORMED,
                              reason="the payload is not a JSON object")
    return _Assertion(text, signed.headers(), claims)


def _method_used(parameters: Mapping[str, str], basic_id: str | None,
                 assertion: _Assertion | None) -> str:
    used = []
    if basic_id:
        used.append("CLIENT_SECRET_BASIC")
    if parameters.get("client_secret"):
        used.append("CLIENT_SECRET_POST")
    if assertion is not None:
        used.append(_assertion_method(assertion.header.get("alg")))
    if len(used) > 1:
        # RFC 6749 §2.3: "The client MUST NOT use more than one authentication method".
        raise ClientAuthError(rc.CLIENT_AUTH_MULTIPLE_METHODS, methods=", ".join(used))
    return used[0] if used else "NONE"


def _assertion_method(alg: object) -> str:
    if not isinstance(alg, str):
        raise ClientAuthError(rc.CLIENT_ASSERTION_ALG_UNSUPPORTED, alg=_shown(alg),
                              supported=_SUPPORTED_ALGS)
    if alg.lower() == "none":
        # RFC 7523 §3 item 9: the JWT MUST be signed or MACed; 'none' would need no key at all.
        raise ClientAuthError(rc.CLIENT_ASSERTION_UNSIGNED, alg=alg)
    if alg in HMAC_KEY_BYTES:
        return "CLIENT_SECRET_JWT"
    if alg in KEY_TYPES:
        return "PRIVATE_KEY_JWT"
    raise ClientAuthError(rc.CLIENT_ASSERTION_ALG_UNSUPPORTED, alg=_shown(alg),
                          supported=_SUPPORTED_ALGS)


# --- Is the method the client's and the service's? -------------------------------------------

def _check_method_allowed(method: str, client: ClientRecord, service: dict) -> None:
    # Members set to null count as unset, so the defaults of client_rules apply to them.
    document = client_with_defaults({k: v for k, v in client.document.items() if v is not None})
    if method == "NONE" and document["clientType"] == "CONFIDENTIAL":
        raise ClientAuthError(rc.CLIENT_AUTH_NONE_FOR_CONFIDENTIAL, client_id=client.client_id)
    supported = service.get("supportedTokenAuthMethods")
    if supported is None:
        supported = SERVICE_DEFAULTS["supportedTokenAuthMethods"]
    # A public client has nothing to authenticate with (RFC 6749 §2.1); 'NONE' needs no listing.
    if method != "NONE" and method not in supported:
        raise ClientAuthError(rc.CLIENT_AUTH_METHOD_UNSUPPORTED, method=method,
                              supported=", ".join(supported) or "none")
    if method != document["tokenAuthMethod"]:
        raise ClientAuthError(rc.CLIENT_AUTH_METHOD_NOT_REGISTERED, method=method,
                              client_id=client.client_id, registered=document["tokenAuthMethod"])


# --- Verify the credential -------------------------------------------------------------------

async def _verify_none(attempt: _Attempt) -> None:
    """A public client proves nothing; it was named and allowed, which is all there is."""


async def _verify_secret_basic(attempt: _Attempt) -> None:
    _check_secret(attempt.client, "CLIENT_SECRET_BASIC", attempt.basic_secret)


async def _verify_secret_post(attempt: _Attempt) -> None:
    _check_secret(attempt.client, "CLIENT_SECRET_POST", attempt.parameters.get("client_secret"))


def _check_secret(client: ClientRecord, method: str, presented: str | None) -> None:
    if not presented:
        raise ClientAuthError(rc.CLIENT_AUTH_SECRET_MISSING, method=method)
    secret = _secret_of(client, method)
    # Constant time, so response timing does not reveal how much of the secret matched.
    if not hmac.compare_digest(presented.encode(), secret.encode()):
        raise ClientAuthError(rc.CLIENT_AUTH_SECRET_MISMATCH, method=method,
                              client_id=client.client_id)


def _secret_of(client: ClientRecord, method: str) -> str:
    if not client.client_secret:
        raise ClientAuthError(rc.CLIENT_AUTH_NO_SECRET, client_id=client.client_id,
                              method=method)
    return client.client_secret


async def _verify_secret_jwt(attempt: _Attempt) -> None:
    """OIDC Core §9 client_secret_jwt: HMAC with the client secret as the key."""
    alg = _check_registered_alg(attempt)
    secret = _secret_of(attempt.client, "CLIENT_SECRET_JWT").encode()
    if len(secret) < HMAC_KEY_BYTES[alg]:
        raise ClientAuthError(rc.CLIENT_ASSERTION_SECRET_TOO_SHORT, alg=alg,
                              required=HMAC_KEY_BYTES[alg], client_id=attempt.client.client_id,
                              length=len(secret))
    _check_signature(attempt.assertion, [OctKey.import_key(secret)])
    await _check_claims(attempt)


async def _verify_private_key_jwt(attempt: _Attempt) -> None:
    """OIDC Core §9 private_key_jwt: a signature by a key in the client's JWK Set."""
    alg = _check_registered_alg(attempt)
    key_set = await _client_key_set(attempt, alg)
    _check_signature(attempt.assertion, _candidate_keys(key_set, attempt.assertion.header))
    await _check_claims(attempt)


_VERIFIERS: dict[str, Callable[[_Attempt], Awaitable[None]]] = {
    "NONE": _verify_none,
    "CLIENT_SECRET_BASIC": _verify_secret_basic,
    "CLIENT_SECRET_POST": _verify_secret_post,
    "CLIENT_SECRET_JWT": _verify_secret_jwt,
    "PRIVATE_KEY_JWT": _verify_private_key_jwt,
}


def _check_registered_alg(attempt: _Attempt) -> str:
    """OIDC Registration §2 token_endpoint_auth_signing_alg: when registered, only that alg."""
    alg = attempt.assertion.header["alg"]
    registered = attempt.client.document.get("tokenAuthSignAlg")
    if registered and registered != alg:
        raise ClientAuthError(rc.CLIENT_ASSERTION_ALG_NOT_REGISTERED, alg=alg,
                              client_id=attempt.client.client_id, registered=registered)
    return alg


# --- Keys and signature ----------------------------------------------------------------------

async def _client_key_set(attempt: _Attempt, alg: str) -> KeySet:
    document = attempt.client.document
    if document.get("jwks"):
        return _import_key_set(document["jwks"], "jwks")
    uri = document.get("jwksUri")
    if not uri:
        raise ClientAuthError(rc.CLIENT_ASSERTION_NO_KEYS, client_id=attempt.client.client_id,
                              alg=alg)
    if attempt.fetch_jwks is None:
        raise ClientAuthError(rc.CLIENT_ASSERTION_JWKS_UNAVAILABLE, uri=uri,
                              reason="this server is not set up to fetch JWK Sets; register "
                                     "the keys in 'jwks' instead")
    try:
        fetched = await attempt.fetch_jwks(uri)
    except JwksFetchError as error:
        raise ClientAuthError(rc.CLIENT_ASSERTION_JWKS_UNAVAILABLE, uri=uri,
                              reason=_reason(error)) from None
    return _import_key_set(fetched, "jwksUri")


def _import_key_set(value: str | dict, source: str) -> KeySet:
    try:
        data = json.loads(value) if isinstance(value, str) else value
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ValueError("it is not a JSON object with a 'keys' array")
        return KeySet.import_key_set(data)
    except (JoseError, ValueError, TypeError) as error:
        raise ClientAuthError(rc.CLIENT_ASSERTION_JWKS_INVALID, source=source,
                              reason=_reason(error)) from None


def _candidate_keys(key_set: KeySet, header: dict) -> list[Key]:
    """Signing keys of the type the alg needs, narrowed by `kid` when the header has one."""
    alg, kid = header["alg"], header.get("kid")
    key_type, curve = KEY_TYPES[alg]
    fitting = [key for key in key_set.keys
               if key.key_type == key_type and key.get("crv") == curve
               and key.get("use") in (None, "sig") and key.get("alg") in (None, alg)]
    if not fitting:
        raise ClientAuthError(rc.CLIENT_ASSERTION_KEY_NOT_FOUND, kid=_shown(kid), alg=alg,
                              reason=f"it has no {key_type} signing key for {alg}")
    if kid is None:
        return fitting
    chosen = [key for key in fitting if key.kid == kid]
    if not chosen:
        raise ClientAuthError(rc.CLIENT_ASSERTION_KEY_NOT_FOUND, kid=_shown(kid), alg=alg,
                              reason="no key has that 'kid'")
    return chosen


def _check_signature(assertion: _Assertion, keys: list[Key]) -> None:
    alg = assertion.header["alg"]
    for key in keys:
        try:
            jws.deserialize_compact(assertion.text, key, algorithms=[alg])
            return
        except JoseError:
            continue
    raise ClientAuthError(rc.CLIENT_ASSERTION_SIGNATURE_INVALID,
                          reason=f"no {alg} key of the client verifies it "
                                 f"({len(keys)} key(s) tried)")


# --- Claims (RFC 7523 §3, OIDC Core §9) ------------------------------------------------------

async def _check_claims(attempt: _Attempt) -> None:
    claims = attempt.assertion.claims
    skew_ms = _skew_s(attempt.service) * 1000
    _check_issuer_and_subject(claims, _identifiers(attempt.client, attempt.service))
    _check_audience(claims, attempt.token_endpoint, attempt.service.get("issuer"))
    exp_ms = _check_expiry(claims, attempt.now_ms, skew_ms)
    _check_lifetime(exp_ms, attempt.now_ms, skew_ms)
    _check_not_in_future(claims, "nbf", attempt.now_ms, skew_ms)
    _check_not_in_future(claims, "iat", attempt.now_ms, skew_ms)
    await _check_jti_unused(attempt, _required_jti(claims), exp_ms + skew_ms)


def _check_issuer_and_subject(claims: dict, identifiers: tuple[str, ...]) -> None:
    for claim in ("iss", "sub"):
        value = _required(claims, claim, "must be the client ID (RFC 7523 §3 items 1, 2)")
        if value not in identifiers:
            raise ClientAuthError(rc.CLIENT_ASSERTION_ISSUER_INVALID, claim=claim,
                                  value=_shown(value), expected=_quoted(identifiers))
    if claims["iss"] != claims["sub"]:
        raise ClientAuthError(rc.CLIENT_ASSERTION_ISSUER_SUBJECT_DIFFER, iss=claims["iss"],
                              sub=claims["sub"])


def _check_audience(claims: dict, token_endpoint: str, issuer: str | None) -> None:
    # RFC 7523 §3 item 3 allows the token endpoint URL or the issuer; OIDC Core §9 names the
    # token endpoint. Either is accepted.
    aud = _required(claims, "aud", "must name this server (RFC 7523 §3 item 3)")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise ClientAuthError(rc.CLIENT_ASSERTION_CLAIM_MALFORMED, claim="aud",
                              value=_shown(aud), expected="a string or an array of strings")
    accepted = tuple(value for value in (token_endpoint, issuer) if value)
    if not set(audiences) & set(accepted):
        raise ClientAuthError(rc.CLIENT_ASSERTION_AUDIENCE_INVALID, aud=_shown(aud),
                              expected=_quoted(accepted))


def _check_expiry(claims: dict, now_ms: int, skew_ms: int) -> int:
    _required(claims, "exp", "is required (RFC 7523 §3 item 4)")
    exp_ms = _numeric_date_ms(claims, "exp")
    # RFC 7519 §4.1.4: the current time must be before exp; the skew absorbs clock drift.
    if now_ms >= exp_ms + skew_ms:
        raise ClientAuthError(rc.CLIENT_ASSERTION_EXPIRED, exp=claims["exp"],
                              now=now_ms // 1000, skew=skew_ms // 1000)
    return exp_ms


def _check_lifetime(exp_ms: int, now_ms: int, skew_ms: int) -> None:
    if exp_ms - now_ms > MAX_ASSERTION_LIFETIME_S * 1000 + skew_ms:
        raise ClientAuthError(rc.CLIENT_ASSERTION_LIFETIME_TOO_LONG, exp=exp_ms // 1000,
                              limit=MAX_ASSERTION_LIFETIME_S, now=now_ms // 1000)


def _check_not_in_future(claims: dict, claim: str, now_ms: int, skew_ms: int) -> None:
    if claim not in claims:
        return  # optional (RFC 7523 §3 items 5, 6)
    if _numeric_date_ms(claims, claim) > now_ms + skew_ms:
        raise ClientAuthError(rc.CLIENT_ASSERTION_NOT_YET_VALID, claim=claim,
                              value=claims[claim], now=now_ms // 1000, skew=skew_ms // 1000)


def _required_jti(claims: dict) -> str:
    # OIDC Core §9 makes jti REQUIRED; without it a captured assertion could be replayed.
    jti = _required(claims, "jti", "is required to detect replays (OIDC Core §9)")
    if not isinstance(jti, str) or not jti:
        raise ClientAuthError(rc.CLIENT_ASSERTION_CLAIM_MALFORMED, claim="jti",
                              value=_shown(jti), expected="a non-empty string")
    return jti


async def _check_jti_unused(attempt: _Attempt, jti: str, remember_until_ms: int) -> None:
    # Checked last, so that an assertion failing another check does not use up its jti. It is
    # remembered until exp + skew: as long as the assertion would still be accepted.
    key = f"{attempt.client.client_id} {jti}"
    if not await attempt.replay.first_use(attempt.client.service_api_key, key,
                                          remember_until_ms):
        raise ClientAuthError(rc.CLIENT_ASSERTION_REPLAYED, jti=_shown(jti))


def _required(claims: dict, claim: str, rule: str) -> Any:
    if claims.get(claim) is None:
        raise ClientAuthError(rc.CLIENT_ASSERTION_CLAIM_MISSING, claim=claim, rule=rule)
    return claims[claim]


def _numeric_date_ms(claims: dict, claim: str) -> int:
    value = claims[claim]
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or not 0 <= value < 1e11):  # beyond the year 5000
        raise ClientAuthError(rc.CLIENT_ASSERTION_CLAIM_MALFORMED, claim=claim,
                              value=_shown(value), expected="a NumericDate (seconds since the "
                                                            "epoch, RFC 7519 §2)")
    return int(value * 1000)


def _skew_s(service: dict) -> int:
    skew = service.get("allowableClockSkew") or 0
    return max(int(skew), 0)


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values) or "none configured"


def _shown(value: object) -> str:
    """A client-supplied value for a message: JSON for non-strings, cut to a readable length."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__

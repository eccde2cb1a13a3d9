"""ID tokens (OpenID Connect Core 1.0 §2, §3.1.3.6, §3.3.2.11, §8) and the JWS signing the
server's other JWTs share (RFC 7515 via joserfc).

Pairwise subjects, the `*_hash` claims and the protocol claims are built here; which claims a
user consented to, and how long the token lives (`idTokenDuration`), the caller decides.
"""

import base64
import hashlib
import re
import warnings
from collections import OrderedDict
from collections.abc import Iterable

from joserfc import jws, jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import import_key

from app.protocol.ports import SigningKeyRecord
from app.protocol.uris import host_of

# The claims the authorization server alone asserts (OIDC Core §2, §3.3.2.11; FAPI 1.0 Part 2
# §5.1 for s_hash): a user claim of the same name would let consent data forge them.
PROTOCOL_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "nonce", "auth_time", "acr",
                             "at_hash", "c_hash", "s_hash", "azp"})
# Header parameters fixed by the signing key and the token type; `crit`/`b64` would change how
# recipients must process the signature (RFC 7515 §4.1.11, RFC 7797 §3).
_FIXED_HEADER_PARAMS = frozenset({"alg", "kid", "typ", "crit", "b64"})
AUD_TYPES = ("array", "string")
_HASH_SIZE = re.compile(r"(256|384|512)")


def pairwise_subject(subject: str, sector_identifier: str, salt: bytes) -> str:
    """OIDC Core §8.1: base64url(SHA-256(sector_identifier || 0x00 || subject || salt)).

    The NUL separator (never part of a host name) keeps ("a.co", "mX") and ("a.com", "X") apart;
    the service's secret salt keeps the value from being reversed by guessing subjects (§17.3)."""
    if not salt:
        raise ValueError("a pairwise subject needs a non-empty salt (OpenID Connect Core §8.1)")
    material = sector_identifier.encode() + b"\x00" + subject.encode() + salt
    return _b64url(hashlib.sha256(material).digest())


def sector_identifier(client_document: dict) -> str | None:
    """OIDC Core §8.1: the host of `sectorIdentifierUri`, else the one host all redirect URIs
    share; None when the redirect URIs span several hosts (registration refuses that)."""
    uri = client_document.get("sectorIdentifierUri")
    if uri:
        return host_of(uri)
    hosts = {host_of(uri) for uri in client_document.get("redirectUris", [])}
    return hosts.pop() if len(hosts) == 1 else None


def subject_for(subject: str, client_document: dict, service_document: dict) -> str:
    """The `sub` a client sees: the subject itself, or its pairwise value for PAIRWISE clients
    (OIDC Core §8), salted with the service's own secret salt."""
    if client_document.get("subjectType") != "PAIRWISE":
        return subject
    sector = sector_identifier(client_document)
    salt = service_document.get("_pairwiseSalt", "")
    if not sector or not salt:
        return subject
    return pairwise_subject(subject, sector, salt.encode())


def token_hash(value: str, alg: str) -> str:
    """at_hash / c_hash (OIDC Core §3.3.2.11) and s_hash (FAPI 1.0 Part 2 §5.1): base64url of the
    left-most half of the hash matching the JWS alg's size. EdDSA (Ed25519) uses SHA-512, as the
    OIDC Core errata set specifies."""
    digest = _hash_for(alg)(value.encode()).digest()
    return _b64url(digest[: len(digest) // 2])


def _hash_for(alg: str):
    if alg in ("EdDSA", "Ed25519"):
        return hashlib.sha512
    size = _HASH_SIZE.search(alg)
    if size is None:
        raise ValueError(f"no hash is defined for the JWS algorithm '{alg}'")
    return {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}[size.group(1)]


def build_id_token(*, issuer: str, subject: str, client_id: str, key: SigningKeyRecord,
                   now_s: int, lifetime_s: int, nonce: str | None = None,
                   auth_time: int | None = None, acr: str | None = None,
                   amr: list[str] | None = None, access_token: str | None = None,
                   code: str | None = None, state: str | None = None,
                   claims: dict | None = None, aud_type: str = "array",
                   extra_audiences: Iterable[str] = (),
                   header_params: dict | None = None) -> str:
    """A signed ID token (OIDC Core §2) for `client_id`, valid `lifetime_s` seconds from `now_s`.

    `claims` (consented user claims) are merged after the protocol claims and may not replace
    any of them; `header_params` may add JWS header parameters but not alg/kid/typ."""
    audiences = _audiences(client_id, extra_audiences)
    body = {"iss": issuer, "sub": subject, "aud": _aud_value(audiences, aud_type),
            "exp": now_s + lifetime_s, "iat": now_s}
    body |= _optional(auth_time=auth_time, nonce=nonce, acr=acr, amr=amr)
    if len(audiences) > 1:
        body["azp"] = client_id  # §2: the authorized party among several audiences
    body |= _hashes(key.alg, at_hash=access_token, c_hash=code, s_hash=state)
    body |= _checked_user_claims(claims or {}, body)
    return sign_jwt(body, key, typ="JWT", header_params=header_params)


def _audiences(client_id: str, extra_audiences: Iterable[str]) -> list[str]:
    # §2: aud MUST contain the client ID; duplicates would only confuse the azp rule.
    audiences = [client_id]
    audiences.extend(aud for aud in extra_audiences if aud not in audiences)
    return audiences


def _aud_value(audiences: list[str], aud_type: str) -> list[str] | str:
    # `idTokenAudType`: "string" asks for a bare string (RFC 7519 §4.1.3 allows it for a single
    # audience); several audiences can only be an array.
    if aud_type not in AUD_TYPES:
        raise ValueError(f"aud_type '{aud_type}' is neither 'array' nor 'string'")
    if aud_type == "string" and len(audiences) == 1:
        return audiences[0]
    return audiences


def _optional(**values) -> dict:
    return {name: value for name, value in values.items() if value is not None}


def _hashes(alg: str, **values: str | None) -> dict:
    return {name: token_hash(value, alg) for name, value in values.items() if value is not None}


def _checked_user_claims(claims: dict, protocol: dict) -> dict:
    clashes = sorted(claims.keys() & (PROTOCOL_CLAIMS | protocol.keys()))
    if clashes:
        raise ValueError(f"claim '{clashes[0]}' is asserted by the authorization server and "
                         "cannot be overridden (OpenID Connect Core §2)")
    return claims


def sign_jwt(claims: dict, key: SigningKeyRecord, *, typ: str,
             header_params: dict | None = None) -> str:
    """Compact JWS of `claims` signed with `key`'s private JWK; header alg = key.alg,
    kid = key.kid (so verifiers pick the key from the service's JWKS), typ = `typ`."""
    extra = dict(header_params or {})
    fixed = sorted(extra.keys() & _FIXED_HEADER_PARAMS)
    if fixed:
        raise ValueError(f"header parameter '{fixed[0]}' is set by the signing key and token "
                         "type and cannot be overridden")
    header = {**extra, "alg": key.alg, "kid": key.kid, "typ": typ}
    # Callers may add private header parameters (RFC 7515 §4.3), hence the lenient header check.
    registry = jws.JWSRegistry(algorithms=[key.alg], strict_check_header=False)
    with warnings.catch_warnings():
        # joserfc flags "EdDSA" as deprecated by RFC 9864, but it is the name clients and
        # discovery metadata still use for Ed25519; the service signs with it on purpose.
        warnings.simplefilter("ignore", SecurityWarning)
        return jwt.encode(header, claims, private_key(key), registry=registry)


# Building a private key from its JWK validates it (an RSA-2048 check costs tens of ms), so each
# signing key is imported once. A kid names one key for its whole life, so it is the cache key.
_IMPORTED_KEYS: OrderedDict = OrderedDict()
_IMPORTED_KEYS_MAX = 512


def private_key(key: SigningKeyRecord):
    """The joserfc key object of `key`, imported on first use."""
    imported = _IMPORTED_KEYS.get(key.kid)
    if imported is None:
        imported = _IMPORTED_KEYS[key.kid] = import_key(key.private_jwk)
        if len(_IMPORTED_KEYS) > _IMPORTED_KEYS_MAX:
            _IMPORTED_KEYS.popitem(last=False)
    return imported


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

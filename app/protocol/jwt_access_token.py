"""JWT access tokens (RFC 9068), issued when the service sets `accessTokenSignAlg`.

The token carries what a resource server needs to authorize a request on its own: who issued
it, for whom (`aud`), on behalf of whom (`sub`), which client, which scopes and, when bound, the
confirmation key (`cnf`).
"""

from app.protocol.id_token import sign_jwt
from app.protocol.ports import SigningKeyRecord

# RFC 9068 §2.1: the explicit type keeps an access token from being accepted as an ID token
# (or any other JWT) and vice versa.
JWT_TYPE = "at+jwt"
# Claims the authorization server asserts (RFC 9068 §2.2, §2.2.1, §2.2.3; RFC 7519 §4.1.5 nbf;
# RFC 7800 §3.1 cnf): `extra_claims` (e.g. Authlete's jwtAtClaims) may not replace them.
REGISTERED_CLAIMS = frozenset({"iss", "exp", "aud", "sub", "client_id", "iat", "jti", "scope",
                               "auth_time", "acr", "cnf", "nbf"})


def build_jwt_access_token(*, issuer: str, subject: str | None, client_id: str,
                           audience: list[str] | None, scopes: list[str], jti: str,
                           now_s: int, expires_at_s: int, key: SigningKeyRecord,
                           auth_time: int | None = None, acr: str | None = None,
                           extra_claims: dict | None = None, cnf: dict | None = None) -> str:
    """A signed RFC 9068 access token; `subject` None means a client credentials grant."""
    claims = {"iss": issuer, "exp": expires_at_s, "aud": _aud_value(audience, issuer),
              "sub": subject if subject is not None else client_id,  # §2.2
              "client_id": client_id, "iat": now_s, "jti": jti}
    if scopes:
        claims["scope"] = " ".join(scopes)  # §2.2.3, RFC 8693 §4.2 format
    claims |= {name: value for name, value in (("auth_time", auth_time), ("acr", acr))
               if value is not None}  # §2.2.1
    if cnf:
        claims["cnf"] = cnf  # RFC 8705 §3.1 (x5t#S256), RFC 9449 §6.1 (jkt)
    claims |= _checked_extra_claims(extra_claims or {})
    return sign_jwt(claims, key, typ=JWT_TYPE)


def _aud_value(audience: list[str] | None, issuer: str) -> list[str] | str:
    # RFC 9068 §3: without a resource indicator (RFC 8707) the server MUST still name a default
    # audience. Tessera has no registry of resource servers, so the default is the issuer
    # itself: the token is then only "for" whoever trusts this authorization server, and a
    # resource server checking aud against its own identifier rejects it rather than guessing.
    audiences = list(dict.fromkeys(audience or ())) or [issuer]
    # RFC 7519 §4.1.3: a single audience MAY be a bare string.
    return audiences[0] if len(audiences) == 1 else audiences


def _checked_extra_claims(extra_claims: dict) -> dict:
    clashes = sorted(extra_claims.keys() & REGISTERED_CLAIMS)
    if clashes:
        raise ValueError(f"claim '{clashes[0]}' is asserted by the authorization server and "
                         "cannot be overridden (RFC 9068 §2.2)")
    return extra_claims

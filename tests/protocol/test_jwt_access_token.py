"""JWT access tokens (RFC 9068), checked by Authlib's independent JWS code and its RFC 9068
claims class (which also insists on the `at+jwt` type)."""

import warnings

import pytest
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from joserfc.errors import InvalidClaimError

from app.protocol.id_token import build_id_token
from app.protocol.jwt_access_token import REGISTERED_CLAIMS, build_jwt_access_token
from app.protocol.ports import SigningKeyRecord
from tests.protocol.test_id_token import make_signing_key

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # authlib.jose announces its move to joserfc
    from authlib.jose import JsonWebKey, JsonWebToken

ISSUER = "https://as.example.com"
CLIENT_ID = "5899463614448063"
RESOURCE = "https://rs.example.com/api"
NOW = 1_700_000_000
ALGS = ["RS256", "PS256", "ES256"]
@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKeyRecord]:
    return {alg: make_signing_key(alg) for alg in ALGS}


def verified(token: str, key: SigningKeyRecord, *, audience: str = RESOURCE):
    """What a resource server using Authlib sees, given only the service's public JWKS."""
    jwks = JsonWebKey.import_key_set({"keys": [key.public_jwk]})
    claims = JsonWebToken(ALGS).decode(
        token, jwks, claims_cls=JWTAccessTokenClaims,
        claims_options={"iss": {"essential": True, "value": ISSUER},
                        "aud": {"essential": True, "value": audience},
                        "sub": {"essential": True}, "client_id": {"essential": True},
                        "jti": {"essential": True}, "exp": {"essential": True},
                        "iat": {"essential": True}})
    claims.validate(now=NOW + 1)
    return claims


def access_token(key: SigningKeyRecord, **overrides) -> str:
    arguments = {"issuer": ISSUER, "subject": "alice", "client_id": CLIENT_ID,
                 "audience": [RESOURCE], "scopes": ["openid", "read"], "jti": "jti-1",
                 "now_s": NOW, "expires_at_s": NOW + 3600, "key": key} | overrides
    return build_jwt_access_token(**arguments)


@pytest.mark.parametrize("alg", ALGS)
def test_access_token_verifies_with_authlib(keys, alg):
    token = access_token(keys[alg], auth_time=NOW - 60, acr="urn:mace:silver")
    claims = verified(token, keys[alg])
    assert claims.header == {"alg": alg, "kid": keys[alg].kid, "typ": "at+jwt"}  # §2.1
    assert dict(claims) == {"iss": ISSUER, "exp": NOW + 3600, "aud": RESOURCE, "sub": "alice",
                            "client_id": CLIENT_ID, "iat": NOW, "jti": "jti-1",
                            "scope": "openid read", "auth_time": NOW - 60,
                            "acr": "urn:mace:silver"}


def test_client_credentials_token_names_the_client_as_subject(keys):
    # RFC 9068 §2.2: with no resource owner, sub is the client's identifier.
    claims = verified(access_token(keys["ES256"], subject=None), keys["ES256"])
    assert claims["sub"] == claims["client_id"] == CLIENT_ID
    assert "auth_time" not in claims and "acr" not in claims


def test_several_resources_make_an_aud_array(keys):
    other = "https://other.example.com"
    token = access_token(keys["ES256"], audience=[RESOURCE, other, RESOURCE])
    assert verified(token, keys["ES256"], audience=other)["aud"] == [RESOURCE, other]


@pytest.mark.parametrize("audience", [None, []], ids=["none", "empty"])
def test_without_resources_the_issuer_is_the_audience(keys, audience):
    token = access_token(keys["ES256"], audience=audience)
    assert verified(token, keys["ES256"], audience=ISSUER)["aud"] == ISSUER


def test_no_scope_claim_without_scopes(keys):
    assert "scope" not in verified(access_token(keys["ES256"], scopes=[]), keys["ES256"])


def test_bound_token_carries_cnf(keys):
    cnf = {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
    assert verified(access_token(keys["ES256"], cnf=cnf), keys["ES256"])["cnf"] == cnf


def test_extra_claims_are_merged(keys):
    token = access_token(keys["ES256"], extra_claims={"roles": ["admin"], "tenant": "blue"})
    claims = verified(token, keys["ES256"])
    assert (claims["roles"], claims["tenant"]) == (["admin"], "blue")


@pytest.mark.parametrize("claim", sorted(REGISTERED_CLAIMS))
def test_extra_claims_cannot_override_registered_claims(keys, claim):
    with pytest.raises(ValueError, match=f"claim '{claim}'"):
        access_token(keys["ES256"], extra_claims={claim: "forged"})


def test_an_id_token_is_not_accepted_as_an_access_token(keys):
    # RFC 9068 §2.1 / §4: the typ header is what tells the two JWTs apart.
    id_token = build_id_token(issuer=ISSUER, subject="alice", client_id=RESOURCE,
                              key=keys["ES256"], now_s=NOW, lifetime_s=600)
    with pytest.raises(InvalidClaimError, match="'typ'"):
        verified(id_token, keys["ES256"])

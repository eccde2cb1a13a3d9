"""ID tokens (OpenID Connect Core 1.0 §2, §3.3.2.11, §8.1), checked by an independent
implementation: Authlib's JWS code verifies the signatures and its OIDC claims classes check
iss/aud/exp/nonce/azp/at_hash/c_hash."""

import base64
import hashlib
import warnings

import pytest
from authlib.oidc.core import CodeIDToken, HybridIDToken, ImplicitIDToken
from authlib.oidc.core.util import create_half_hash
from joserfc.errors import ExpiredTokenError, InvalidClaimError, MissingClaimError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from app.protocol.id_token import (
    PROTOCOL_CLAIMS,
    build_id_token,
    pairwise_subject,
    sector_identifier,
    token_hash,
)
from app.protocol.ports import SigningKeyRecord

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # authlib.jose announces its move to joserfc
    from authlib.jose import JsonWebKey, JsonWebToken

ISSUER = "https://as.example.com"
CLIENT_ID = "5899463614448063"
NOW = 1_700_000_000
LIFETIME = 600
ALGS = ["RS256", "PS256", "ES256", "EdDSA"]
_GENERATORS = {
    "RS256": lambda: RSAKey.generate_key(2048),
    "PS256": lambda: RSAKey.generate_key(2048),
    "ES256": lambda: ECKey.generate_key("P-256"),
    "EdDSA": lambda: OKPKey.generate_key("Ed25519"),
}


def make_signing_key(alg: str) -> SigningKeyRecord:
    generated = _GENERATORS[alg]()
    members = {"kid": generated.thumbprint(), "alg": alg, "use": "sig"}
    return SigningKeyRecord(kid=members["kid"], service_api_key=1, alg=alg, state="current",
                            public_jwk=generated.as_dict(private=False, **members),
                            private_jwk=generated.as_dict(private=True, **members),
                            published_at=0)


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKeyRecord]:
    return {alg: make_signing_key(alg) for alg in ALGS}


def verified(token: str, key: SigningKeyRecord, claims_cls=CodeIDToken, *, now: int = NOW + 1,
             **params):
    """Authlib's view of `token`, verified against a JWKS of public keys only."""
    jwks = JsonWebKey.import_key_set({"keys": [key.public_jwk]})
    claims = JsonWebToken(ALGS).decode(
        token, jwks, claims_cls=claims_cls,
        claims_options={"iss": {"essential": True, "value": ISSUER},
                        "aud": {"essential": True, "value": CLIENT_ID}},
        claims_params={"client_id": CLIENT_ID, **params})
    claims.validate(now=now)
    return claims


def id_token(key: SigningKeyRecord, **overrides) -> str:
    arguments = {"issuer": ISSUER, "subject": "alice", "client_id": CLIENT_ID, "key": key,
                 "now_s": NOW, "lifetime_s": LIFETIME} | overrides
    return build_id_token(**arguments)


@pytest.mark.parametrize("alg", ALGS)
def test_code_flow_id_token_verifies_with_authlib(keys, alg):
    token = id_token(keys[alg], nonce="n-0S6_WzA2Mj", auth_time=NOW - 30, acr="urn:mace:silver",
                     amr=["pwd", "otp"])
    claims = verified(token, keys[alg], nonce="n-0S6_WzA2Mj", max_age=60)
    assert claims.header == {"alg": alg, "kid": keys[alg].kid, "typ": "JWT"}
    assert dict(claims) == {"iss": ISSUER, "sub": "alice", "aud": [CLIENT_ID],
                            "exp": NOW + LIFETIME, "iat": NOW, "auth_time": NOW - 30,
                            "nonce": "n-0S6_WzA2Mj", "acr": "urn:mace:silver",
                            "amr": ["pwd", "otp"]}


def test_optional_claims_are_absent_when_not_given(keys):
    claims = verified(id_token(keys["ES256"]), keys["ES256"])
    assert set(claims) == {"iss", "sub", "aud", "exp", "iat"}


def test_authlib_rejects_an_expired_id_token(keys):
    token = id_token(keys["ES256"])
    with pytest.raises(ExpiredTokenError):
        verified(token, keys["ES256"], now=NOW + LIFETIME + 1)


def test_authlib_rejects_a_different_nonce(keys):
    token = id_token(keys["ES256"], nonce="expected")
    with pytest.raises(InvalidClaimError):
        verified(token, keys["ES256"], nonce="replayed")


@pytest.mark.parametrize("alg", ALGS)
def test_implicit_id_token_at_hash_verifies_with_authlib(keys, alg):
    access_token = "jHkWEdUXMU1BwAsC4vtUsZwnN0C"
    token = id_token(keys[alg], nonce="n", access_token=access_token)
    claims = verified(token, keys[alg], ImplicitIDToken, nonce="n", access_token=access_token)
    assert claims["at_hash"] == token_hash(access_token, alg)
    with pytest.raises(InvalidClaimError):
        verified(token, keys[alg], ImplicitIDToken, nonce="n", access_token="another-token")


@pytest.mark.parametrize("alg", ALGS)
def test_hybrid_id_token_c_hash_verifies_with_authlib(keys, alg):
    code, access_token = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk", "at-1"
    token = id_token(keys[alg], nonce="n", code=code, access_token=access_token)
    verified(token, keys[alg], HybridIDToken, nonce="n", code=code, access_token=access_token)
    with pytest.raises(InvalidClaimError):
        verified(token, keys[alg], HybridIDToken, nonce="n", code="other-code")


def test_hybrid_id_token_without_c_hash_is_refused_by_authlib(keys):
    token = id_token(keys["RS256"], nonce="n")
    with pytest.raises(MissingClaimError):
        verified(token, keys["RS256"], HybridIDToken, nonce="n", code="a-code")


def test_s_hash_is_the_half_hash_of_state(keys):
    # FAPI 1.0 Part 2 §5.1; Authlib has no s_hash check, so compare with its half-hash helper.
    token = id_token(keys["PS256"], state="af0ifjsldkj")
    claims = verified(token, keys["PS256"])
    assert claims["s_hash"] == create_half_hash("af0ifjsldkj", "PS256").decode()


@pytest.mark.parametrize(("alg", "hash_function"), [
    ("RS256", hashlib.sha256), ("PS256", hashlib.sha256), ("ES256", hashlib.sha256),
    ("HS256", hashlib.sha256), ("ES256K", hashlib.sha256), ("RS384", hashlib.sha384),
    ("ES384", hashlib.sha384), ("PS512", hashlib.sha512), ("ES512", hashlib.sha512),
    ("EdDSA", hashlib.sha512),
])
def test_token_hash_is_the_left_half_of_the_matching_hash(alg, hash_function):
    value = "jHkWEdUXMU1BwAsC4vtUsZwnN0C"
    digest = hash_function(value.encode()).digest()
    by_hand = base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
    assert token_hash(value, alg) == by_hand
    assert "=" not in by_hand and len(by_hand) == {32: 22, 48: 32, 64: 43}[len(digest)]
    if alg != "ES256K":  # Authlib derives the hash from alg[2:] and knows no "256K"
        assert token_hash(value, alg) == create_half_hash(value, alg).decode()


@pytest.mark.parametrize("alg", ["none", "RSA-OAEP", ""])
def test_token_hash_refuses_an_algorithm_without_a_hash(alg):
    with pytest.raises(ValueError, match="no hash"):
        token_hash("value", alg)


@pytest.mark.parametrize(("aud_type", "expected"), [
    ("array", [CLIENT_ID]), ("string", CLIENT_ID),
], ids=["array", "string"])
def test_aud_type_chooses_array_or_string(keys, aud_type, expected):
    token = id_token(keys["ES256"], aud_type=aud_type)
    claims = verified(token, keys["ES256"])
    assert claims["aud"] == expected and "azp" not in claims


def test_extra_audiences_make_an_array_with_azp(keys):
    # §2: azp names the authorized party when the token has several audiences.
    token = id_token(keys["ES256"], aud_type="string",
                     extra_audiences=["https://rp.example.org", CLIENT_ID])
    claims = verified(token, keys["ES256"])
    assert claims["aud"] == [CLIENT_ID, "https://rp.example.org"]
    assert claims["azp"] == CLIENT_ID


def test_unknown_aud_type_is_refused(keys):
    with pytest.raises(ValueError, match="aud_type 'list'"):
        id_token(keys["ES256"], aud_type="list")


def test_user_claims_are_merged(keys):
    token = id_token(keys["ES256"], claims={"email": "alice@example.com",
                                            "address": {"country": "JP"}})
    claims = verified(token, keys["ES256"])
    assert (claims["email"], claims["address"]) == ("alice@example.com", {"country": "JP"})


@pytest.mark.parametrize("claim", sorted(PROTOCOL_CLAIMS))
def test_user_claims_cannot_override_protocol_claims(keys, claim):
    with pytest.raises(ValueError, match=f"claim '{claim}'"):
        id_token(keys["ES256"], claims={claim: "forged"})


def test_user_claims_cannot_override_amr_when_it_is_given(keys):
    with pytest.raises(ValueError, match="claim 'amr'"):
        id_token(keys["ES256"], amr=["pwd"], claims={"amr": ["hwk"]})


def test_header_params_are_added(keys):
    token = id_token(keys["RS256"], header_params={"x-tenant": "blue"})
    claims = verified(token, keys["RS256"])
    assert claims.header["x-tenant"] == "blue" and claims.header["typ"] == "JWT"


@pytest.mark.parametrize("param", ["alg", "kid", "typ", "crit"])
def test_header_params_cannot_replace_fixed_ones(keys, param):
    with pytest.raises(ValueError, match=f"header parameter '{param}'"):
        id_token(keys["RS256"], header_params={param: "none"})


def test_pairwise_subject_is_stable_per_sector_and_subject():
    salt = b"service-salt-0123456789"
    first = pairwise_subject("alice", "rp.example.com", salt)
    assert first == pairwise_subject("alice", "rp.example.com", salt)
    assert len({first, pairwise_subject("alice", "other.example.com", salt),
                pairwise_subject("bob", "rp.example.com", salt),
                pairwise_subject("alice", "rp.example.com", b"another-salt")}) == 4
    assert "=" not in first and "alice" not in first


def test_pairwise_subject_keeps_sector_and_subject_apart():
    salt = b"salt"
    assert pairwise_subject("mX", "a.co", salt) != pairwise_subject("X", "a.com", salt)


def test_pairwise_subject_needs_a_salt():
    with pytest.raises(ValueError, match="salt"):
        pairwise_subject("alice", "rp.example.com", b"")


@pytest.mark.parametrize(("document", "expected"), [
    ({"sectorIdentifierUri": "https://sector.example.com/uris.json",
      "redirectUris": ["https://a.example.com/cb", "https://b.example.com/cb"]},
     "sector.example.com"),
    ({"redirectUris": ["https://rp.example.com/cb", "https://rp.example.com:8443/other"]},
     "rp.example.com"),
    ({"redirectUris": ["https://a.example.com/cb", "https://b.example.com/cb"]}, None),
    ({}, None),
], ids=["sector_identifier_uri", "single-redirect-host", "several-redirect-hosts",
        "nothing-registered"])
def test_sector_identifier(document, expected):
    assert sector_identifier(document) == expected

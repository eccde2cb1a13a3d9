"""Client authentication at the token endpoint (RFC 6749 §2.3, OIDC Core §9, RFC 7521 §4.2,
RFC 7523 §3): each method succeeds when it is the client's and the service's; every failure is
INVALID_CLIENT with a code of group 157 whose message names the value at fault."""

import base64
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from app.protocol.client_auth import (
    JWT_BEARER,
    ClientAuthentication,
    ClientAuthError,
    JwksFetchError,
    authenticate_client,
    client_id_of,
)
from app.protocol.ports import ClientRecord

NOW_S = 1_750_000_000
NOW_MS = NOW_S * 1000
SKEW_S = 10
ISSUER = "https://as.example.com"
TOKEN_ENDPOINT = f"{ISSUER}/token"
JWKS_URI = "https://client.example.org/jwks.json"
API_KEY = 21653835348762
CLIENT_ID = 1234
SECRET = "cQ3vJ8Ym3tW1kq9RZ4dVt0uXnB7sLc2eHf5gPa6oKi8jNw1yUr3zEx4DbTm9Gq2Vh7s"  # 67 bytes
ALIAS = "reporting-app"
OMIT = object()  # marks a claim to leave out of an assertion

RSA_KEY = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
EC_KEY = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
STRANGER_RSA_KEY = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})  # same kid, not ours
ALL_METHODS = ["NONE", "CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST", "CLIENT_SECRET_JWT",
               "PRIVATE_KEY_JWT"]


class MemoryReplayGuard:
    """Test double for the JtiReplayGuard port (storage implements it with a unique index)."""

    def __init__(self) -> None:
        self.remembered: dict[tuple[int, str], int] = {}

    async def first_use(self, service_api_key: int, jti: str, expires_at_ms: int) -> bool:
        if (service_api_key, jti) in self.remembered:
            return False
        self.remembered[(service_api_key, jti)] = expires_at_ms
        return True


def jwks(*keys) -> str:
    return json.dumps({"keys": [key.as_dict(private=False) for key in keys]})


def make_client(secret: str | None = SECRET, alias: str | None = None, **document) -> ClientRecord:
    return ClientRecord(client_id=CLIENT_ID, number=7, service_api_key=API_KEY,
                        client_secret=secret, client_id_alias=alias, developer="dev",
                        locked=False, document={"clientType": "CONFIDENTIAL", **document},
                        created_at=0, modified_at=0)


def make_service(**changes) -> dict:
    return {"issuer": ISSUER, "tokenEndpoint": TOKEN_ENDPOINT, "allowableClockSkew": SKEW_S,
            "supportedTokenAuthMethods": ALL_METHODS, "clientIdAliasEnabled": True, **changes}


_jti_counter = itertools.count()


def assertion(key=None, alg: str = "HS256", header: dict | None = None, **changes) -> str:
    claims = {"iss": str(CLIENT_ID), "sub": str(CLIENT_ID), "aud": TOKEN_ENDPOINT,
              "exp": NOW_S + 60, "iat": NOW_S, "jti": f"jti-{next(_jti_counter)}"}
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not OMIT}
    key = key if key is not None else OctKey.import_key(SECRET.encode())
    return jwt.encode({"alg": alg, **(header or {})}, claims, key, algorithms=[alg])


def unsigned_assertion(alg: str) -> str:
    """A JWT with the given alg and a dummy signature (joserfc will not produce these)."""
    def segment(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    claims = {"iss": str(CLIENT_ID), "sub": str(CLIENT_ID), "aud": TOKEN_ENDPOINT,
              "exp": NOW_S + 60, "jti": "unsigned"}
    signature = "" if alg == "none" else "c2ln"
    return f"{segment({'alg': alg})}.{segment(claims)}.{signature}"


def with_assertion(value: str, **parameters) -> dict:
    return {"grant_type": "client_credentials", "client_assertion_type": JWT_BEARER,
            "client_assertion": value, **parameters}


async def fetch_our_keys(uri: str) -> dict:
    assert uri == JWKS_URI
    return json.loads(jwks(RSA_KEY, EC_KEY))


async def fetch_fails(uri: str) -> dict:
    raise JwksFetchError("HTTP 503 from client.example.org")


@dataclass
class Request:
    parameters: dict
    client: ClientRecord = field(default_factory=make_client)
    basic: tuple[str | None, str | None] = (None, None)
    service: dict = field(default_factory=make_service)
    fetch_jwks: Callable | None = None
    replay: MemoryReplayGuard = field(default_factory=MemoryReplayGuard)


async def authenticate(request: Request) -> ClientAuthentication:
    return await authenticate_client(
        parameters=request.parameters, basic_id=request.basic[0], basic_secret=request.basic[1],
        client=request.client, service=request.service, token_endpoint=TOKEN_ENDPOINT,
        now_ms=NOW_MS, replay=request.replay, fetch_jwks=request.fetch_jwks)


async def refused(request: Request) -> ClientAuthError:
    with pytest.raises(ClientAuthError) as caught:
        await authenticate(request)
    assert caught.value.action == "INVALID_CLIENT"
    assert caught.value.code.oauth_error == "invalid_client"
    assert caught.value.code.status == 200  # an action, not an HTTP error (reference §2.0)
    return caught.value


def secret_jwt_client(**document) -> ClientRecord:
    return make_client(tokenAuthMethod="CLIENT_SECRET_JWT", **document)


def key_jwt_client(**document) -> ClientRecord:
    return make_client(secret=None, tokenAuthMethod="PRIVATE_KEY_JWT",
                       **{"jwks": jwks(RSA_KEY, EC_KEY), **document})


GRANT = {"grant_type": "client_credentials"}
ALIASED = {"alias": ALIAS, "clientIdAliasEnabled": True}

# --- Each method succeeds --------------------------------------------------------------------

SUCCESSES = [
    pytest.param(lambda: Request(GRANT, basic=(str(CLIENT_ID), SECRET)),
                 "CLIENT_SECRET_BASIC", id="client_secret_basic"),
    pytest.param(lambda: Request({**GRANT, "client_id": str(CLIENT_ID), "client_secret": SECRET},
                                 client=make_client(tokenAuthMethod="CLIENT_SECRET_POST")),
                 "CLIENT_SECRET_POST", id="client_secret_post"),
    pytest.param(lambda: Request({**GRANT, "client_id": str(CLIENT_ID)},
                                 basic=(str(CLIENT_ID), SECRET)),
                 "CLIENT_SECRET_BASIC", id="client_secret_basic-same-client_id-in-body"),
    pytest.param(lambda: Request({"grant_type": "authorization_code", "client_id": str(CLIENT_ID)},
                                 client=make_client(secret=None, clientType="PUBLIC")),
                 "NONE", id="none-public-client"),
    pytest.param(lambda: Request({"client_id": str(CLIENT_ID)},
                                 client=make_client(secret=None, clientType="PUBLIC"),
                                 service=make_service(supportedTokenAuthMethods=[
                                     "CLIENT_SECRET_BASIC"])),
                 "NONE", id="none-needs-no-listing-by-service"),
    *[pytest.param(lambda alg=alg: Request(with_assertion(assertion(alg=alg)),
                                           client=secret_jwt_client()),
                   "CLIENT_SECRET_JWT", id=f"client_secret_jwt-{alg}")
      for alg in ("HS256", "HS384", "HS512")],
    pytest.param(lambda: Request(with_assertion(assertion(), client_id=str(CLIENT_ID)),
                                 client=secret_jwt_client(tokenAuthSignAlg="HS256")),
                 "CLIENT_SECRET_JWT", id="client_secret_jwt-registered-alg-and-client_id"),
    pytest.param(lambda: Request(with_assertion(assertion(aud=ISSUER)),
                                 client=secret_jwt_client()),
                 "CLIENT_SECRET_JWT", id="client_secret_jwt-aud-is-issuer"),
    pytest.param(lambda: Request(with_assertion(assertion(aud=["https://x.example", ISSUER])),
                                 client=secret_jwt_client()),
                 "CLIENT_SECRET_JWT", id="client_secret_jwt-aud-array"),
    pytest.param(lambda: Request(with_assertion(assertion(iss=ALIAS, sub=ALIAS)),
                                 client=secret_jwt_client(**ALIASED)),
                 "CLIENT_SECRET_JWT", id="client_secret_jwt-alias-as-iss-and-sub"),
    pytest.param(lambda: Request(with_assertion(assertion(RSA_KEY, "RS256", {"kid": "rsa-1"})),
                                 client=key_jwt_client()),
                 "PRIVATE_KEY_JWT", id="private_key_jwt-RS256"),
    pytest.param(lambda: Request(with_assertion(assertion(RSA_KEY, "PS256")),
                                 client=key_jwt_client()),
                 "PRIVATE_KEY_JWT", id="private_key_jwt-PS256-without-kid"),
    pytest.param(lambda: Request(with_assertion(assertion(EC_KEY, "ES256", {"kid": "ec-1"})),
                                 client=key_jwt_client(tokenAuthSignAlg="ES256")),
                 "PRIVATE_KEY_JWT", id="private_key_jwt-ES256"),
    pytest.param(lambda: Request(with_assertion(assertion(EC_KEY, "ES256")),
                                 client=key_jwt_client(jwks=None, jwksUri=JWKS_URI),
                                 fetch_jwks=fetch_our_keys),
                 "PRIVATE_KEY_JWT", id="private_key_jwt-ES256-keys-from-jwksUri"),
]


@pytest.mark.parametrize(("make_request", "method"), SUCCESSES)
async def test_method_succeeds(make_request, method):
    assert await authenticate(make_request()) == ClientAuthentication(method)


# --- Method selection and credentials are refused ------------------------------------------

REFUSALS = [
    pytest.param(lambda: Request({**GRANT, "client_id": str(CLIENT_ID), "client_secret": SECRET}),
                 "A157370", ["CLIENT_SECRET_POST", "registered 'CLIENT_SECRET_BASIC'"],
                 id="method-not-registered-by-client"),
    pytest.param(lambda: Request(with_assertion(assertion()), client=secret_jwt_client(),
                                 service=make_service(supportedTokenAuthMethods=[
                                     "CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST"])),
                 "A157344", ["'CLIENT_SECRET_JWT'", "CLIENT_SECRET_BASIC, CLIENT_SECRET_POST"],
                 id="method-not-supported-by-service"),
    pytest.param(lambda: Request({**GRANT, "client_secret": SECRET},
                                 basic=(str(CLIENT_ID), SECRET)),
                 "A157364", ["CLIENT_SECRET_BASIC, CLIENT_SECRET_POST"],
                 id="two-methods-basic-and-post"),
    pytest.param(lambda: Request(with_assertion(assertion(), client_secret=SECRET,
                                                client_id=str(CLIENT_ID))),
                 "A157364", ["CLIENT_SECRET_POST, CLIENT_SECRET_JWT"],
                 id="two-methods-post-and-assertion"),
    pytest.param(lambda: Request({**GRANT, "client_id": "9999"}, basic=(str(CLIENT_ID), SECRET)),
                 "A157361", ["'1234'", "'9999'"], id="basic-client_id-differs-from-body"),
    pytest.param(lambda: Request({**GRANT, "client_id": str(CLIENT_ID)}),
                 "A157301", ["'confidential'", "'none'"], id="confidential-client-with-none"),
    pytest.param(lambda: Request(GRANT, basic=(str(CLIENT_ID), None)),
                 "A157304", ["'CLIENT_SECRET_BASIC'"], id="basic-without-secret"),
    pytest.param(lambda: Request(GRANT, basic=(str(CLIENT_ID), SECRET + "x")),
                 "A157372", ["'CLIENT_SECRET_BASIC'", "ID = 1234"], id="wrong-secret-basic"),
    pytest.param(lambda: Request({**GRANT, "client_id": str(CLIENT_ID), "client_secret": "nope"},
                                 client=make_client(tokenAuthMethod="CLIENT_SECRET_POST")),
                 "A157372", ["'CLIENT_SECRET_POST'"], id="wrong-secret-post"),
    pytest.param(lambda: Request({**GRANT, "client_id": str(CLIENT_ID), "client_secret": SECRET},
                                 client=make_client(clientType="PUBLIC")),
                 "A157370", ["CLIENT_SECRET_POST", "registered 'NONE'"],
                 id="public-client-sending-a-secret"),
    pytest.param(lambda: Request(GRANT, basic=(str(CLIENT_ID), SECRET),
                                 client=make_client(secret=None)),
                 "A157373", ["ID = 1234", "'CLIENT_SECRET_BASIC'"], id="client-has-no-secret"),
    pytest.param(lambda: Request(GRANT),
                 "A157360", ["'client_id'"], id="client-not-identified"),
    pytest.param(lambda: Request({**GRANT, "client_id": ALIAS}, basic=(ALIAS, SECRET),
                                 client=make_client(alias=ALIAS)),
                 "A157363", [f"'{ALIAS}'", "clientIdAliasEnabled"],
                 id="alias-not-enabled-for-client"),
    pytest.param(lambda: Request({**GRANT, "client_assertion": assertion()},
                                 client=secret_jwt_client()),
                 "A157365", ["'client_assertion_type'"], id="assertion-without-type"),
    pytest.param(lambda: Request({**GRANT, "client_id": str(CLIENT_ID),
                                  "client_assertion_type": JWT_BEARER},
                                 client=secret_jwt_client()),
                 "A157365", ["'client_assertion' is missing"], id="type-without-assertion"),
    pytest.param(lambda: Request(with_assertion(assertion(), client_assertion_type="urn:x:saml2"),
                                 client=secret_jwt_client()),
                 "A157366", ["'urn:x:saml2'"], id="assertion-type-not-jwt-bearer"),
    pytest.param(lambda: Request(with_assertion("not.a-jwt", client_id=str(CLIENT_ID)),
                                 client=secret_jwt_client()),
                 "A157367", ["'client_assertion'"], id="assertion-malformed"),
]


@pytest.mark.parametrize(("make_request", "code", "fragments"), REFUSALS)
async def test_request_is_refused(make_request, code, fragments):
    error = await refused(make_request())
    assert error.code.code == code
    for fragment in fragments:
        assert fragment in error.message()


# --- JWT client assertions are refused -----------------------------------------------------

def secret_jwt(value: str, **client_document) -> Request:
    return Request(with_assertion(value), client=secret_jwt_client(**client_document))


def key_jwt(value: str, **client_document) -> Request:
    return Request(with_assertion(value), client=key_jwt_client(**client_document))


ASSERTION_REFUSALS = [
    pytest.param(lambda: secret_jwt(assertion(OctKey.import_key(b"k" * 64))),
                 "A157326", ["HS256"], id="HS256-wrong-key"),
    pytest.param(lambda: secret_jwt(assertion(exp=NOW_S - 60)),
                 "A157384", [f"'exp' = {NOW_S - 60}", f"current time = {NOW_S}",
                             f"skew = {SKEW_S} s"], id="expired"),
    pytest.param(lambda: secret_jwt(assertion(nbf=NOW_S + 60)),
                 "A157385", ["'nbf'", str(NOW_S + 60)], id="nbf-in-the-future"),
    pytest.param(lambda: secret_jwt(assertion(iat=NOW_S + 60)),
                 "A157385", ["'iat'", str(NOW_S + 60)], id="iat-in-the-future"),
    pytest.param(lambda: secret_jwt(assertion(exp=NOW_S + 2 * 3600)),
                 "A157386", [f"'exp' = {NOW_S + 7200}", "3600 s"], id="lifetime-too-long"),
    pytest.param(lambda: secret_jwt(assertion(aud="https://other.example.com/token")),
                 "A157383", ["https://other.example.com/token", f"'{TOKEN_ENDPOINT}'",
                             f"'{ISSUER}'"], id="wrong-aud"),
    pytest.param(lambda: secret_jwt(assertion(aud=OMIT)),
                 "A157379", ["'aud'"], id="missing-aud"),
    pytest.param(lambda: secret_jwt(assertion(iss="https://evil.example")),
                 "A157381", ["'iss'", "https://evil.example", "'1234'"], id="wrong-iss"),
    pytest.param(lambda: Request(with_assertion(assertion(sub="9999"), client_id=str(CLIENT_ID)),
                                 client=secret_jwt_client()),
                 "A157362", ["'sub'", "'9999'", "'1234'"], id="wrong-sub"),
    pytest.param(lambda: secret_jwt(assertion(iss=ALIAS), **ALIASED),
                 "A157382", [f"'{ALIAS}'", "'1234'"], id="iss-and-sub-differ"),
    pytest.param(lambda: secret_jwt(assertion(iss=OMIT)),
                 "A157379", ["'iss'"], id="missing-iss"),
    pytest.param(lambda: secret_jwt(assertion(jti=OMIT)),
                 "A157379", ["'jti'"], id="missing-jti"),
    pytest.param(lambda: secret_jwt(assertion(jti="")),
                 "A157380", ["'jti'"], id="empty-jti"),
    pytest.param(lambda: secret_jwt(assertion(exp=OMIT)),
                 "A157379", ["'exp'"], id="missing-exp"),
    pytest.param(lambda: secret_jwt(assertion(exp="tomorrow")),
                 "A157380", ["'exp'", "tomorrow", "NumericDate"], id="exp-not-a-number"),
    pytest.param(lambda: secret_jwt(unsigned_assertion("none")),
                 "A157368", ["'none'"], id="alg-none"),
    pytest.param(lambda: secret_jwt(unsigned_assertion("EdDSA")),
                 "A157369", ["'EdDSA'"], id="alg-not-supported"),
    pytest.param(lambda: secret_jwt(assertion(), tokenAuthSignAlg="HS512"),
                 "A157371", ["'HS256'", "'HS512'"], id="alg-differs-from-tokenAuthSignAlg"),
    pytest.param(lambda: Request(with_assertion(assertion(OctKey.import_key(b"short-secret"))),
                                 client=secret_jwt_client(secret="short-secret")),
                 "A157374", ["'HS256'", "32 bytes", "has 12"], id="secret-too-short-for-HS256",
                 marks=pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")),
    pytest.param(lambda: Request(with_assertion(assertion(alg="HS256")),
                                 client=secret_jwt_client(secret=None)),
                 "A157373", ["'CLIENT_SECRET_JWT'"], id="client_secret_jwt-client-has-no-secret"),
    pytest.param(lambda: key_jwt(assertion(STRANGER_RSA_KEY, "RS256", {"kid": "rsa-1"})),
                 "A157326", ["RS256"], id="RS256-signed-by-unregistered-key"),
    pytest.param(lambda: key_jwt(assertion(RSA_KEY, "RS256", {"kid": "rsa-9"})),
                 "A157378", ["kid = rsa-9", "no key has that 'kid'"], id="kid-not-in-jwks"),
    pytest.param(lambda: key_jwt(assertion(EC_KEY, "ES256"), jwks=jwks(RSA_KEY)),
                 "A157378", ["alg = ES256", "no EC signing key"], id="no-EC-key-for-ES256"),
    pytest.param(lambda: key_jwt(assertion(EC_KEY, "ES256"), tokenAuthSignAlg="RS256"),
                 "A157371", ["'ES256'", "'RS256'"], id="ES256-but-RS256-registered"),
    pytest.param(lambda: key_jwt(assertion(RSA_KEY, "RS256"), jwks=None, jwksUri=JWKS_URI),
                 "A157376", [JWKS_URI, "'jwks'"], id="jwksUri-but-no-fetcher"),
    pytest.param(lambda: replace(key_jwt(assertion(RSA_KEY, "RS256"), jwks=None,
                                         jwksUri=JWKS_URI), fetch_jwks=fetch_fails),
                 "A157376", [JWKS_URI, "HTTP 503"], id="jwksUri-fetch-fails"),
    pytest.param(lambda: key_jwt(assertion(RSA_KEY, "RS256"), jwks=None),
                 "A157375", ["'jwks'", "'jwksUri'", "'RS256'"], id="no-keys-registered"),
    pytest.param(lambda: key_jwt(assertion(RSA_KEY, "RS256"), jwks="{not json"),
                 "A157377", ["'jwks'"], id="jwks-not-json"),
]


@pytest.mark.parametrize(("make_request", "code", "fragments"), ASSERTION_REFUSALS)
async def test_assertion_is_refused(make_request, code, fragments):
    error = await refused(make_request())
    assert error.code.code == code
    for fragment in fragments:
        assert fragment in error.message()


# --- Replay (RFC 7523 §3 item 7) and clock skew -----------------------------------------

async def test_a_replayed_jti_is_refused_and_remembered_until_exp_plus_skew():
    request = secret_jwt(assertion(jti="once-only", exp=NOW_S + 30))
    assert await authenticate(request) == ClientAuthentication("CLIENT_SECRET_JWT")
    assert request.replay.remembered == {(API_KEY, "1234 once-only"): (NOW_S + 30 + SKEW_S) * 1000}
    error = await refused(request)
    assert error.code.code == "A157387"
    assert "'once-only'" in error.message()


async def test_a_refused_assertion_does_not_use_up_its_jti():
    value = assertion(jti="kept", aud="https://other.example.com")
    request = secret_jwt(value)
    assert (await refused(request)).code.code == "A157383"
    assert request.replay.remembered == {}


async def test_jti_values_of_different_clients_do_not_collide():
    replay = MemoryReplayGuard()
    await replay.first_use(API_KEY, "5678 shared", NOW_MS + 60_000)
    request = replace(secret_jwt(assertion(jti="shared")), replay=replay)
    assert await authenticate(request) == ClientAuthentication("CLIENT_SECRET_JWT")


@pytest.mark.parametrize(("changes", "accepted"), [
    pytest.param({"exp": NOW_S - SKEW_S + 1}, True, id="exp-now-minus-skew-plus-1s-passes"),
    pytest.param({"exp": NOW_S - SKEW_S}, False, id="exp-now-minus-skew-fails"),
    pytest.param({"exp": NOW_S - SKEW_S - 1}, False, id="exp-now-minus-skew-minus-1s-fails"),
    pytest.param({"nbf": NOW_S + SKEW_S}, True, id="nbf-now-plus-skew-passes"),
    pytest.param({"nbf": NOW_S + SKEW_S + 1}, False, id="nbf-now-plus-skew-plus-1s-fails"),
    pytest.param({"iat": NOW_S + SKEW_S}, True, id="iat-now-plus-skew-passes"),
    pytest.param({"iat": NOW_S + SKEW_S + 1}, False, id="iat-now-plus-skew-plus-1s-fails"),
    pytest.param({"exp": NOW_S + 3600 + SKEW_S}, True, id="lifetime-one-hour-plus-skew-passes"),
    pytest.param({"exp": NOW_S + 3600 + SKEW_S + 1}, False, id="lifetime-beyond-fails"),
])
async def test_clock_skew_is_honoured_at_the_edge(changes, accepted):
    request = secret_jwt(assertion(**changes))
    if accepted:
        assert await authenticate(request) == ClientAuthentication("CLIENT_SECRET_JWT")
    else:
        error = await refused(request)
        assert error.code.code in {"A157384", "A157385", "A157386"}
        assert f"'{next(iter(changes))}'" in error.message()


# --- Which client the request names ------------------------------------------------------

@pytest.mark.parametrize(("parameters", "basic_id", "claims", "expected"), [
    pytest.param({"client_id": "1234"}, None, None, "1234", id="client_id-parameter"),
    pytest.param({}, "1234", None, "1234", id="basic-user"),
    pytest.param({"client_id": "1234"}, "1234", None, "1234", id="basic-and-body-agree"),
    pytest.param({}, None, {"iss": "1234", "sub": "1234"}, "1234", id="assertion-sub"),
    pytest.param({}, None, {"iss": "1234"}, "1234", id="assertion-iss-without-sub"),
    pytest.param({"client_id": ALIAS}, None, {"sub": ALIAS}, ALIAS, id="alias-agrees"),
])
def test_client_id_of_names_the_client(parameters, basic_id, claims, expected):
    assert client_id_of(parameters, basic_id, claims) == expected


def test_client_id_of_reads_an_unverified_assertion():
    parameters = with_assertion(assertion(OctKey.import_key(b"x" * 32), sub="1234"))
    assert client_id_of(parameters, None) == "1234"


@pytest.mark.parametrize(("parameters", "basic_id", "claims", "code", "fragment"), [
    pytest.param({"client_id": "1"}, "2", None, "A157361", "('2')", id="basic-differs-from-body"),
    pytest.param({}, "2", {"sub": "1"}, "A157362", "HTTP Basic", id="sub-differs-from-basic"),
    pytest.param({"client_id": "2"}, None, {"iss": "1"}, "A157362", "'iss'",
                 id="iss-differs-from-client_id"),
    pytest.param({}, None, None, "A157360", "'client_id'", id="nothing-names-a-client"),
])
def test_client_id_of_refuses_disagreement(parameters, basic_id, claims, code, fragment):
    with pytest.raises(ClientAuthError) as caught:
        client_id_of(parameters, basic_id, claims)
    assert caught.value.code.code == code
    assert fragment in caught.value.message()


def test_only_invalid_client_codes_make_a_client_auth_error():
    from app.protocol import result_codes as rc
    with pytest.raises(ValueError, match="A001101"):
        ClientAuthError(rc.SERVER_ERROR)

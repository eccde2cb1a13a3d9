"""`id_token_hint` (OpenID Connect Core §3.1.2.1): an ID token this server issued earlier, sent
back by the client to say which end-user it expects. Its signature, issuer and audience are
checked; its expiry is not — the specification lets an expired ID token serve as a hint."""

import json

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]


class HintRejected(ValueError):
    """Why the hint is not one of this server's ID tokens for the client."""


def verify_id_token_hint(hint: str, jwks: dict, *, issuer: str, client_id: int) -> dict:
    """The hint's claims, once it is shown to be ours and meant for `client_id`."""
    claims = _verified_claims(hint, jwks)
    if claims.get("iss") != issuer:
        raise HintRejected(f"its 'iss' is {claims.get('iss')!r}, not this server's issuer")
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if str(client_id) not in audiences:
        raise HintRejected("it was not issued to this client ('aud')")
    if not isinstance(claims.get("sub"), str):
        raise HintRejected("it has no 'sub'")
    return claims


def _verified_claims(hint: str, jwks: dict) -> dict:
    try:
        keys = KeySet.import_key_set(jwks)
        registry = jws.JWSRegistry(algorithms=_ALGORITHMS)
        verified = jws.deserialize_compact(hint, keys, registry=registry)
        claims = json.loads(verified.payload)
    except (JoseError, ValueError, TypeError) as error:
        raise HintRejected(f"its signature does not verify with this server's keys "
                           f"({type(error).__name__})") from None
    if not isinstance(claims, dict):
        raise HintRejected("its payload is not a JSON object")
    return claims

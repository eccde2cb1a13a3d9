"""`/auth/introspection/standard` (reference §2.4): the body of an RFC 7662 introspection
endpoint, and its JWT form (RFC 9701). The front-end authenticates the resource server and passes
its form body as `parameters`; the answer is the RFC 7662 §2.2 JSON (action OK) or a signed
`token-introspection+jwt` (action JWT).

Decisions a reader may look for:
- A token is active when it exists, has not expired, its client exists and is not locked, and,
  for a refresh token, it has not been rotated away. Anything else is `{"active": false}` and
  nothing more (§2.2: no reason, no metadata).
- `token_type` is "Bearer" for access tokens and absent for refresh tokens: §2.2 defines it as
  the RFC 6749 §5.1 access token type, which a refresh token does not have; its absence also
  keeps a resource server that checks for "Bearer" from accepting a refresh token as one.
- `token_type_hint` orders the look-ups; unknown hints are ignored (§2.1 lets the server
  ignore the hint and search all token types).
- RFC 9701: `aud` is the caller's `rsUri` (Authlete's member for the resource server's
  identifier), else the issuer. The key is the current one for `introspectionSignAlg`, else the
  first of RS256 (RFC 9701 §6's default), ES256, PS256 the key manager holds. Tessera's keys
  rotate, so `introspectionSignatureKeyId` (a fixed kid) is not consulted. Encryption is refused
  rather than silently skipped.
"""

import json

from app.protocol import result_codes as rc
from app.protocol.actions import ActionFailure, ActionResult
from app.protocol.id_token import sign_jwt
from app.protocol.ports import ServiceRecord
from app.protocol.token_endpoint import TokenPorts, decode_parameters, error_json
from app.protocol.tokens import token_digest

JWT_MEDIA_TYPE = "application/token-introspection+jwt"
# RFC 9701 §5: the explicit type keeps the response from being taken for an access token.
JWT_TYPE = "token-introspection+jwt"
SIGNING_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                          "ES256", "ES384", "ES512"})
DEFAULT_SIGNING_ALGS = ("RS256", "ES256", "PS256")
# RFC 7662 §2.2 members: a token property never replaces or impersonates one of them.
STANDARD_MEMBERS = frozenset({"active", "scope", "client_id", "username", "token_type", "exp",
                              "iat", "nbf", "sub", "aud", "iss", "jti"})
INACTIVE = {"active": False}


async def standard_introspection(body: dict, service: ServiceRecord,
                                 ports: TokenPorts) -> ActionResult:
    try:
        _check_encryption_not_requested(body)
        parameters = _load_parameters(body)
        value = _token_value(parameters)
        kind, content = await _introspect(value, parameters.get("token_type_hint"), body,
                                          service, ports)
        params = {"type": kind or "null", "active": str(content["active"]).lower()}
        if _wants_jwt(body.get("httpAcceptHeader")):
            return ActionResult("JWT", rc.STANDARD_INTROSPECTION_OK, params,
                                response_content=_signed_response(content, body, service, ports))
        return ActionResult("OK", rc.STANDARD_INTROSPECTION_OK, params,
                            response_content=json.dumps(content, separators=(",", ":")))
    except ActionFailure as failure:
        return failure.result(error_json(failure.code, failure.params, service.document))


# --- The request -------------------------------------------------------------------------------

def _check_encryption_not_requested(body: dict) -> None:
    alg = body.get("introspectionEncryptionAlg")
    if alg:
        raise ActionFailure("INTERNAL_SERVER_ERROR",
                            rc.STANDARD_INTROSPECTION_ENCRYPTION_UNSUPPORTED, alg=str(alg)[:40])


def _load_parameters(body: dict) -> dict[str, str]:
    """Reference §2.0: a null `parameters` is the caller's fault, an empty one the client's."""
    if not isinstance(body.get("parameters"), str):
        raise ActionFailure("INTERNAL_SERVER_ERROR",
                            rc.STANDARD_INTROSPECTION_PARAMETERS_MISSING)
    try:
        return decode_parameters(body["parameters"])
    except ActionFailure as failure:  # the token endpoint's code would name the wrong request
        raise ActionFailure("BAD_REQUEST", rc.STANDARD_INTROSPECTION_PARAMETER_DUPLICATED,
                            name=str(failure.params.get("name", ""))[:40]) from None


def _token_value(parameters: dict[str, str]) -> str:
    value = parameters.get("token")
    if not value:  # RFC 7662 §2.1: `token` is REQUIRED
        raise ActionFailure("BAD_REQUEST", rc.STANDARD_INTROSPECTION_TOKEN_MISSING)
    return value


def _wants_jwt(accept: object) -> bool:
    """RFC 9701 §4: the resource server asks for a JWT with `Accept`; q=0 means "not this"."""
    if not isinstance(accept, str):
        return False
    for entry in accept.split(","):
        media_type, *media_params = (part.strip().lower() for part in entry.split(";"))
        if media_type == JWT_MEDIA_TYPE and not _refused(media_params):
            return True
    return False


def _refused(media_params: list[str]) -> bool:
    for param in media_params:
        name, _, weight = param.partition("=")
        if name.strip() == "q":
            try:
                return float(weight) == 0
            except ValueError:
                return False
    return False


# --- The token ---------------------------------------------------------------------------------

async def _introspect(value: str, hint: str | None, body: dict, service: ServiceRecord,
                      ports: TokenPorts) -> tuple[str | None, dict]:
    """(kind of token found, RFC 7662 §2.2 content)."""
    kind, record = await _find_token(token_digest(value), hint, service.api_key, ports.tokens)
    if record is None or not await _is_active(kind, record, service.api_key, ports):
        return kind, dict(INACTIVE)
    return kind, _active_content(kind, record, service, body.get("withHiddenProperties") is True)


async def _find_token(digest: str, hint: str | None, api_key: int,
                      tokens) -> tuple[str | None, object]:
    # §2.1: the hint only orders the search; an unknown hint is ignored.
    order = (("refresh_token", "access_token") if hint == "refresh_token"
             else ("access_token", "refresh_token"))
    for kind in order:
        lookup = tokens.access_token if kind == "access_token" else tokens.refresh_token
        record = await lookup(api_key, digest)
        if record is not None:
            return kind, record
    return None, None


async def _is_active(kind: str, record, api_key: int, ports: TokenPorts) -> bool:
    if record.expires_at <= ports.now_ms:
        return False
    # A rotated refresh token is dead: presenting it again revokes its grant (RFC 9700 §4.14.2).
    if kind == "refresh_token" and record.rotated_at is not None:
        return False
    client = await ports.clients.get(api_key, record.client_id)
    return client is not None and not client.locked


def _active_content(kind: str, record, service: ServiceRecord, with_hidden: bool) -> dict:
    # RFC 7662 §2.2; a member without a value (no scope, no subject, no issuer) is left out.
    content = {"active": True, "scope": " ".join(record.scopes) or None,
               "client_id": str(record.client_id),
               "token_type": "Bearer" if kind == "access_token" else None,
               "exp": record.expires_at // 1000, "iat": record.created_at // 1000,
               "sub": record.subject, "iss": service.document.get("issuer") or None}
    present = {name: value for name, value in content.items() if value is not None}
    return present | _token_properties(record.payload, with_hidden)


def _token_properties(payload: dict, with_hidden: bool) -> dict:
    """Reference §3 "Token extra properties": non-hidden ones (hidden ones on request) become
    top-level members (RFC 7662 §2.2 allows service-specific names), but never standard ones."""
    return {prop["key"]: prop.get("value") for prop in payload.get("properties", [])
            if prop.get("key") not in STANDARD_MEMBERS
            and (with_hidden or not prop.get("hidden"))}


# --- The JWT response (RFC 9701) ---------------------------------------------------------------

def _signed_response(content: dict, body: dict, service: ServiceRecord,
                    ports: TokenPorts) -> str:
    key = _signing_key(body.get("introspectionSignAlg"), service, ports)
    issuer = service.document.get("issuer", "")
    rs_uri = body.get("rsUri")
    # RFC 9701 §5: iss, aud (the resource server) and iat, the answer in `token_introspection`.
    claims = {"iss": issuer, "aud": rs_uri if isinstance(rs_uri, str) and rs_uri else issuer,
              "iat": ports.now_ms // 1000, "token_introspection": content}
    return sign_jwt(claims, key, typ=JWT_TYPE)


def _signing_key(requested: object, service: ServiceRecord, ports: TokenPorts):
    if requested and requested not in SIGNING_ALGS:
        raise ActionFailure("INTERNAL_SERVER_ERROR",
                            rc.STANDARD_INTROSPECTION_SIGN_ALG_UNSUPPORTED,
                            alg=str(requested)[:40])
    candidates = (requested,) if requested else DEFAULT_SIGNING_ALGS
    for alg in candidates:
        key = ports.signing_key(service.api_key, alg) if ports.signing_key else None
        if key is not None:
            return key
    raise ActionFailure("INTERNAL_SERVER_ERROR", rc.STANDARD_INTROSPECTION_KEY_MISSING,
                        alg=" or ".join(candidates))

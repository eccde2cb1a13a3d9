"""`/auth/userinfo` and `/auth/userinfo/issue` (reference §2.6, OpenID Connect Core §5.3).

The front-end relays the access token; Tessera says whose it is and which claims to gather
(from the scopes, OIDC Core §5.4, and the `userinfo` member of the `claims` request parameter,
§5.5). The front-end then hands the claim values back to `/issue`, which builds the JSON body,
or a signed JWT when the client registered `userInfoSignAlg` (§5.3.2). Tessera keeps no claim.
"""

import json

from app.protocol import result_codes as rc
from app.protocol.actions import ActionFailure, ActionResult
from app.protocol.id_token import sign_jwt, subject_for
from app.protocol.introspection import bearer_challenge, presented_token
from app.protocol.ports import AccessTokenRecord, ServiceRecord

# OIDC Core §5.4: the claims each scope value asks for.
SCOPE_CLAIMS = {
    "profile": ("name", "family_name", "given_name", "middle_name", "nickname",
                "preferred_username", "profile", "picture", "website", "gender", "birthdate",
                "zoneinfo", "locale", "updated_at"),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}


async def userinfo(body: dict, service: ServiceRecord, clients, tokens,
                   now_ms: int) -> ActionResult:
    try:
        record, client = await _usable_token(body, service, clients, tokens, now_ms)
        members = _userinfo_members(record, client, requested_claims(record, service.document))
        # The front-end hands the token back to /auth/userinfo/issue (reference handlers read
        # it from this response).
        return ActionResult("OK", rc.USERINFO_OK, members={**members, "token": body["token"]})
    except ActionFailure as failure:
        return failure.result(bearer_challenge(failure, service.document))


async def userinfo_issue(body: dict, service: ServiceRecord, clients, tokens, now_ms: int,
                         signing_key) -> ActionResult:
    try:
        record, client = await _usable_token(body, service, clients, tokens, now_ms)
        claims = _claims_of(body.get("claims"))
        sub = body.get("sub")
        subject = sub if isinstance(sub, str) and sub else subject_for(
            record.subject, client.document, service.document)
        content = _response_claims(record, service.document, claims, subject)
        return _issued(content, service, client, signing_key, now_ms)
    except ActionFailure as failure:
        return failure.result(bearer_challenge(failure, service.document))


async def _usable_token(body, service, clients, tokens, now_ms):
    record, client = await presented_token(body, service, clients, tokens,
                                           rc.USERINFO_TOKEN_MISSING)
    if record.expires_at <= now_ms:
        raise ActionFailure("UNAUTHORIZED", rc.INTROSPECTION_TOKEN_EXPIRED)
    if "openid" not in record.scopes:
        raise ActionFailure("FORBIDDEN", rc.USERINFO_OPENID_MISSING)
    return record, client


def requested_claims(record: AccessTokenRecord, service: dict) -> list[str]:
    names = [claim for scope in record.scopes for claim in SCOPE_CLAIMS.get(scope, ())]
    names += list((record.payload.get("claims_request") or {}).get("userinfo", {}))
    supported = service.get("supportedClaims")
    unique = list(dict.fromkeys(names))
    return [name for name in unique if not supported or name in supported]


def _userinfo_members(record: AccessTokenRecord, client, claims: list[str]) -> dict:
    return {
        "clientId": record.client_id, "clientIdAlias": client.client_id_alias,
        "clientIdAliasUsed": False, "subject": record.subject, "scopes": list(record.scopes),
        "claims": claims, "properties": record.payload.get("properties", []),
        "userInfoClaims": json.dumps(record.payload["claims_request"]["userinfo"])
        if (record.payload.get("claims_request") or {}).get("userinfo") else None,
    }


def _claims_of(text: object) -> dict:
    if text is None or text == "":
        return {}
    try:
        claims = json.loads(text) if isinstance(text, str) else None
    except ValueError as error:
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.USERINFO_CLAIMS_INVALID,
                            reason=str(error).split(":")[0]) from None
    if not isinstance(claims, dict):
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.USERINFO_CLAIMS_INVALID,
                            reason="it is not an object")
    return claims


def _response_claims(record, service: dict, claims: dict, sub: object) -> dict:
    """Only requested claims leave (data minimisation); `sub` is always first (§5.3.2)."""
    wanted = set(requested_claims(record, service))
    subject = sub if isinstance(sub, str) and sub else record.subject
    return {"sub": subject, **{k: v for k, v in claims.items() if k in wanted and k != "sub"}}


def _issued(content: dict, service: ServiceRecord, client, signing_key,
            now_ms: int) -> ActionResult:
    alg = client.document.get("userInfoSignAlg")
    if not alg or alg == "NONE":
        return ActionResult("JSON", rc.USERINFO_ISSUED,
                            response_content=json.dumps(content, separators=(",", ":")))
    key = signing_key(service.api_key, alg)
    if key is None:
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.USERINFO_KEY_MISSING, alg=alg)
    # §5.3.2: a signed response carries iss and aud.
    claims = {**content, "iss": service.document.get("issuer", ""),
              "aud": str(client.client_id), "iat": now_ms // 1000}
    return ActionResult("JWT", rc.USERINFO_ISSUED, response_content=sign_jwt(claims, key,
                                                                             typ="JWT"))

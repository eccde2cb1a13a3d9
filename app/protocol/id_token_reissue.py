"""`/idtoken/reissue` (reference §2.2): after a refresh (action ID_TOKEN_REISSUABLE) the
front-end may ask for a new ID token for the refreshed tokens (OpenID Connect Core §12.2)."""

import json

from app.protocol import result_codes as rc
from app.protocol.actions import ActionFailure, ActionResult
from app.protocol.id_token import build_id_token, subject_for
from app.protocol.ports import ServiceRecord
from app.protocol.tokens import token_digest


async def reissue_id_token(body: dict, service: ServiceRecord, tokens, clients, signing_key,
                           now_ms: int) -> ActionResult:
    try:
        access = await _coupled_access_token(body, service, tokens, now_ms)
        client = await clients.get(service.api_key, access.client_id)
        if client is None:
            raise ActionFailure("CALLER_ERROR", rc.ID_TOKEN_REISSUE_TOKENS_UNRELATED)
        id_token = _id_token(body, access, service, client, signing_key, now_ms)
        return ActionResult("OK", rc.ID_TOKEN_REISSUED, members={"idToken": id_token},
                            response_content=_token_response(body, access, id_token, now_ms))
    except ActionFailure as failure:
        return failure.result()


async def _coupled_access_token(body: dict, service: ServiceRecord, tokens, now_ms: int):
    access_value, refresh_value = body.get("accessToken"), body.get("refreshToken")
    if not access_value or not refresh_value:
        raise ActionFailure("CALLER_ERROR", rc.ID_TOKEN_REISSUE_TOKENS_MISSING)
    access = await tokens.access_token(service.api_key, token_digest(access_value))
    refresh = await tokens.refresh_token(service.api_key, token_digest(refresh_value))
    if (access is None or refresh is None or access.refresh_digest != refresh.digest
            or access.expires_at <= now_ms or refresh.rotated_at is not None):
        raise ActionFailure("CALLER_ERROR", rc.ID_TOKEN_REISSUE_TOKENS_UNRELATED)
    if "openid" not in access.scopes:
        raise ActionFailure("CALLER_ERROR", rc.ID_TOKEN_REISSUE_NOT_OPENID)
    return access


def _id_token(body, access, service: ServiceRecord, client, signing_key, now_ms: int) -> str:
    alg = client.document.get("idTokenSignAlg") or "RS256"
    key = signing_key(service.api_key, alg)
    if key is None:
        raise ActionFailure("INTERNAL_SERVER_ERROR", rc.ID_TOKEN_REISSUE_KEY_MISSING, alg=alg)
    claims = json.loads(body["claims"]) if isinstance(body.get("claims"), str) and body[
        "claims"] else {}
    return build_id_token(
        issuer=service.document.get("issuer", ""),
        subject=body.get("sub") or subject_for(access.subject, client.document, service.document),
        client_id=str(access.client_id), key=key, now_s=now_ms // 1000,
        lifetime_s=service.document.get("idTokenDuration") or 86400,
        auth_time=access.payload.get("auth_time"), acr=access.payload.get("acr"),
        access_token=body["accessToken"], claims=claims if isinstance(claims, dict) else {},
        aud_type=body.get("idTokenAudType") or service.document.get("idTokenAudType")
        or "array")


def _token_response(body: dict, access, id_token: str, now_ms: int) -> str:
    return json.dumps({"access_token": body["accessToken"], "token_type": "Bearer",
                       "expires_in": max(0, (access.expires_at - now_ms) // 1000),
                       "scope": " ".join(access.scopes), "refresh_token": body["refreshToken"],
                       "id_token": id_token}, separators=(",", ":"))

"""The authorization code grant at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6,
OpenID Connect Core §3.1.3).

The code is redeemed by one conditional UPDATE: the first redemption wins; a second one means
the code leaked, so every token issued with it is revoked (RFC 6749 §4.1.2).
"""

import base64
import hashlib
import hmac
import json
import re

from app.protocol import result_codes as rc
from app.protocol.actions import ActionFailure, ActionResult
from app.protocol.authorization import id_token_for_code, token_payload
from app.protocol.authorization_request import AuthorizationRequest
from app.protocol.grants_bookkeeping import after_tokens_issued
from app.protocol.ports import CodeRecord
from app.protocol.token_endpoint import (
    TokenCall,
    mint_for,
    ok_result,
    register_grant,
    token_order,
)
from app.protocol.tokens import token_digest

# RFC 7636 §4.1: code-verifier = 43*128unreserved
CODE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}", re.ASCII)


async def authorization_code_grant(call: TokenCall) -> ActionResult:
    value = call.parameters.get("code")
    if not value:
        raise ActionFailure("BAD_REQUEST", rc.CODE_MISSING)
    code = await _redeemed(call, token_digest(value))
    request = AuthorizationRequest.from_dict(code.payload["request"])
    _check_redirect_uri(call.parameters, request)
    _check_code_verifier(call.parameters.get("code_verifier"), request)
    return await _issue(call, code, request)


async def _redeemed(call: TokenCall, digest: str) -> CodeRecord:
    service_key, now = call.service.api_key, call.ports.now_ms
    code, first = await call.ports.grants.redeem_code(service_key, digest,
                                                      call.client.client_id, now)
    if code is None:
        raise ActionFailure("BAD_REQUEST", rc.CODE_UNKNOWN)
    if code.client_id != call.client.client_id:
        raise ActionFailure("BAD_REQUEST", rc.CODE_OTHER_CLIENT)
    if not first:
        await call.ports.tokens.revoke(service_key, grant_id=code.grant_id)
        raise ActionFailure("BAD_REQUEST", rc.CODE_REUSED)
    if code.expires_at <= now:
        raise ActionFailure("BAD_REQUEST", rc.CODE_EXPIRED)
    return code


def _check_redirect_uri(parameters: dict, request: AuthorizationRequest) -> None:
    """RFC 6749 §4.1.3: required and identical when the authorization request carried it."""
    given = parameters.get("redirect_uri")
    if (request.redirect_uri_explicit or given) and given != request.redirect_uri:
        raise ActionFailure("BAD_REQUEST", rc.CODE_REDIRECT_URI_MISMATCH)


def _check_code_verifier(verifier: str | None, request: AuthorizationRequest) -> None:
    if request.code_challenge is None:
        return
    if not verifier:
        raise ActionFailure("BAD_REQUEST", rc.CODE_VERIFIER_MISSING)
    if not CODE_VERIFIER.fullmatch(verifier):
        raise ActionFailure("BAD_REQUEST", rc.CODE_VERIFIER_MALFORMED)
    computed = _challenge(verifier, request.code_challenge_method or "plain")
    if not hmac.compare_digest(computed.encode(), request.code_challenge.encode()):
        raise ActionFailure("BAD_REQUEST", rc.CODE_VERIFIER_MISMATCH)


def _challenge(verifier: str, method: str) -> str:
    """RFC 7636 §4.2: S256 = BASE64URL(SHA256(ASCII(code_verifier))); plain = the verifier."""
    if method != "S256":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def _issue(call: TokenCall, code: CodeRecord, request: AuthorizationRequest):
    grant = code.payload["grant"]
    order = token_order(call, code.subject, grant["scopes"], token_payload(request, grant),
                   code.grant_id)
    minted = mint_for(call.service, call.ports, order)
    await call.ports.tokens.store(minted.access, minted.refresh)
    await after_tokens_issued(call.ports, call.service, call.client, minted.access)
    result = ok_result(call, minted, rc.CODE_ISSUED_TOKENS)
    if "openid" not in grant["scopes"]:
        return result
    id_token = id_token_for_code(request, grant, call.service, call.client, call.ports,
                                 minted.access_token)
    content = {**json.loads(result.response_content), "id_token": id_token}
    return ActionResult(result.action, result.code, result.params,
                        {**result.members, "idToken": id_token},
                        json.dumps(content, separators=(",", ":")))


register_grant("AUTHORIZATION_CODE", authorization_code_grant)

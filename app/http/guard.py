"""The decorator every API view goes through: rate limit, then authenticate, then the view.

The limit is applied to the credential the caller *claims* before it is verified, so guessing
secrets is throttled like any other traffic (reference §1.1: 429 with Retry-After,
RateLimit-Remaining, RateLimit-Reset and result code A001311).
"""

import functools

from quart import g, request

from app.http import auth
from app.http.plumbing import context
from app.protocol import result_codes as rc
from app.protocol.errors import ApiError


class RateLimited(ApiError):
    def __init__(self, decision) -> None:
        super().__init__(rc.TOO_MANY_REQUESTS, retry_after=decision.retry_after)
        self.decision = decision


_AUTHENTICATORS = {
    "service": None,  # needs the service ID from the path; handled in _authenticate
    "owner": auth.authenticate_owner,
    "any": auth.authenticate_any,
}


def api(*, group: str, caller: str):
    """Guard a view. `caller` is 'service', 'owner', 'any' or 'none' (public)."""
    def decorate(view):
        @functools.wraps(view)
        async def guarded(*args, service_id: int | None = None, **kwargs):
            credentials = auth.presented_credentials()
            await _limit(credentials, group)
            if caller == "none":
                return await view(*args, **kwargs)
            who = await _authenticate(caller, auth.require(credentials), service_id)
            g.caller = who
            return await view(who, *args, **kwargs)
        return guarded
    return decorate


async def _authenticate(caller: str, credentials: auth.Credentials, service_id: int | None):
    storage = context().storage
    if caller == "service":
        return await auth.authenticate_service(storage, credentials, service_id)
    return await _AUTHENTICATORS[caller](storage, credentials)


async def _limit(credentials: auth.Credentials | None, group: str) -> None:
    identity = credentials.identity if credentials else f"ip:{_client_address()}"
    decision = await context().rate_limiter.check(identity, group)
    g.rate_limit = decision
    if not decision.allowed:
        raise RateLimited(decision)


def _client_address() -> str:
    client = request.scope.get("client")
    return client[0] if client else "unknown"


def rate_limit_headers(decision) -> dict[str, str]:
    headers = {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_seconds),
    }
    if not decision.allowed:
        headers["Retry-After"] = str(decision.retry_after)
    return headers

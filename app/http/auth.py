"""Who is calling: v2 HTTP Basic (service or service-owner API key and secret) or v3 Bearer
(a service access token, or an owner-wide one) — reference §1.1 and §6."""

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from quart import request

from app.protocol import result_codes as rc
from app.protocol.errors import ApiError
from app.protocol.ports import ServiceRecord, is_numeric_id


@dataclass(frozen=True)
class Credentials:
    scheme: str          # "basic" or "bearer"
    user: str            # Basic user name, or the token
    secret: str          # Basic password ("" for bearer)

    @property
    def identity(self) -> str:
        """A stable, non-secret name for rate limiting and logs."""
        if self.scheme == "basic":
            return f"key:{self.user}"
        return "token:" + hashlib.sha256(self.user.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Caller:
    owner_id: int
    service: ServiceRecord | None
    token_service: int | None = None  # a v3 token bound to one service limits owner APIs to it


def presented_credentials() -> Credentials | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        return _basic(value)
    if scheme.lower() in ("bearer", "dpop") and value:
        return Credentials("bearer", value, "")
    raise ApiError(rc.AUTHORIZATION_MALFORMED, reason=f"unsupported scheme '{scheme[:20]}'")


def _basic(value: str) -> Credentials:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(rc.AUTHORIZATION_MALFORMED, reason="Basic value is not base64") from None
    user, colon, secret = decoded.partition(":")
    if not colon or not user:
        raise ApiError(rc.AUTHORIZATION_MALFORMED, reason="Basic value is not 'key:secret'")
    return Credentials("basic", user, secret)


def require(credentials: Credentials | None) -> Credentials:
    if credentials is None:
        raise ApiError(rc.AUTHORIZATION_MISSING)
    return credentials


def secrets_match(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode(), expected.encode())


async def service_by_basic(storage, credentials: Credentials) -> ServiceRecord:
    """v2 service APIs: Basic with the service's API key and secret."""
    service = (await storage.services.get(int(credentials.user))
               if is_numeric_id(credentials.user) else None)
    if service is None:
        raise ApiError(rc.SERVICE_UNKNOWN)
    if not secrets_match(credentials.secret, service.api_secret):
        raise ApiError(rc.SERVICE_SECRET_MISMATCH, api_key=service.api_key)
    return service


async def owner_by_basic(storage, credentials: Credentials) -> int:
    owner = await storage.owners.by_api_key(credentials.user)
    if owner is None:
        raise ApiError(rc.OWNER_UNKNOWN)
    if not secrets_match(credentials.secret, owner.api_secret):
        raise ApiError(rc.OWNER_SECRET_MISMATCH)
    return owner.id


async def token_grant(storage, credentials: Credentials) -> tuple[int, int | None]:
    """(owner id, service API key or None for an owner-wide token)."""
    grant = await storage.access_tokens.resolve(credentials.user)
    if grant is None:
        raise ApiError(rc.ACCESS_TOKEN_UNKNOWN)
    return grant


async def service_by_token(storage, credentials: Credentials, service_id: int) -> ServiceRecord:
    """v3 service APIs: the token must be for the service in the path, or owner-wide."""
    owner_id, token_service = await token_grant(storage, credentials)
    if token_service is not None and token_service != service_id:
        raise ApiError(rc.SERVICE_MISMATCH, api_key=service_id)
    service = await storage.services.get(service_id)
    if service is None or service.owner_id != owner_id:
        raise ApiError(rc.SERVICE_MISMATCH, api_key=service_id)
    return service


async def authenticate_service(storage, credentials: Credentials,
                               service_id: int | None) -> Caller:
    if service_id is None:
        if credentials.scheme != "basic":
            raise ApiError(rc.SCHEME_NOT_ALLOWED, scheme="Bearer",
                           expected="Basic with the service API key and secret, or the "
                                    "/api/{serviceId}/... path")
        service = await service_by_basic(storage, credentials)
    else:
        if credentials.scheme != "bearer":
            raise ApiError(rc.SCHEME_NOT_ALLOWED, scheme="Basic",
                           expected="a Bearer service access token")
        service = await service_by_token(storage, credentials, service_id)
    return Caller(owner_id=service.owner_id, service=service)


async def authenticate_owner(storage, credentials: Credentials) -> Caller:
    """Service-owner APIs: owner Basic credentials, or any token of the owner (the Python SDK
    sends its service token to owner APIs in v3 mode, reference §1.2)."""
    if credentials.scheme == "basic":
        return Caller(owner_id=await owner_by_basic(storage, credentials), service=None)
    owner_id, token_service = await token_grant(storage, credentials)
    return Caller(owner_id=owner_id, service=None, token_service=token_service)


async def authenticate_any(storage, credentials: Credentials) -> Caller:
    """APIs open to every credential of the server (echo): service, owner or token."""
    if credentials.scheme == "bearer":
        owner_id, _ = await token_grant(storage, credentials)
        return Caller(owner_id=owner_id, service=None)
    if is_numeric_id(credentials.user):
        try:
            service = await service_by_basic(storage, credentials)
            return Caller(owner_id=service.owner_id, service=service)
        except ApiError:
            pass
    return await authenticate_owner(storage, credentials)

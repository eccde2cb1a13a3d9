"""Outbound HTTPS fetches on behalf of a client's metadata (e.g. OIDC Core §8.1 sector identifier).

The URL comes from an API caller, so every fetch is guarded against server-side request forgery:
https only; the host is resolved once and every address is checked (no loopback, private,
link-local, multicast, reserved or unspecified target unless the deployment allows it); the TCP
connection goes to exactly those checked addresses, so a second DNS answer cannot swap in an
internal one (DNS rebinding); TLS SNI, certificate verification and the Host header still use the
hostname. Redirects are never followed, the whole fetch is bounded in time and the body in size.
"""

import ipaddress
import json
import ssl
from urllib.parse import urlsplit

import httpcore
import httpx
import trio

from app.config import OutboundSettings


class OutboundError(Exception):
    """A fetch that was refused or failed; the message is one line saying why."""


async def fetch_json(url: str, settings: OutboundSettings) -> object:
    """GET `url` and decode its body as JSON, under the guards described above."""
    host, port = _https_target(url)
    with trio.move_on_after(settings.timeout) as scope:
        addresses = await _checked_addresses(host, port, settings)
        body = await _get(url, host, addresses, settings)
    if scope.cancelled_caught:
        raise OutboundError(f"no complete answer within {settings.timeout:g} seconds")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise OutboundError("the answer is not JSON") from None


def _https_target(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        raise OutboundError("the URL is malformed") from None
    if parts.scheme != "https" or not parts.hostname:
        raise OutboundError("only https URLs with a host are fetched")
    return parts.hostname, port


async def _checked_addresses(host: str, port: int, settings: OutboundSettings) -> list[str]:
    try:
        answers = await trio.socket.getaddrinfo(host, port, type=trio.socket.SOCK_STREAM)
    except OSError:
        raise OutboundError(f"the host '{host}' cannot be resolved") from None
    addresses = list(dict.fromkeys(str(answer[4][0]).split("%")[0] for answer in answers))
    if not settings.allow_private_targets:
        for address in addresses:
            if _is_internal(ipaddress.ip_address(address)):
                raise OutboundError(f"the host '{host}' resolves to the non-public address "
                                    f"{address}, which is not fetched")
    return addresses


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_loopback or address.is_private or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified
            or not address.is_global)


async def _get(url: str, host: str, addresses: list[str], settings: OutboundSettings) -> bytes:
    transport = _PinnedTransport(host, addresses, _tls_context(settings.ca_file))
    # Identity encoding: the size limit then counts the bytes that were sent (no zip bombs).
    async with httpx.AsyncClient(transport=transport, trust_env=False, follow_redirects=False,
                                 timeout=settings.timeout,
                                 headers={"Accept": "application/json",
                                          "Accept-Encoding": "identity"}) as client:
        try:
            async with client.stream("GET", url) as response:
                _check_status(response)
                return await _read_limited(response, settings.max_bytes)
        except httpx.HTTPError as error:
            raise OutboundError(_one_line(error)) from None


def _tls_context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context()  # verification and hostname checks always on
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError):
            raise OutboundError(f"the CA file {ca_file} cannot be loaded") from None
    return context


def _check_status(response: httpx.Response) -> None:
    if response.is_redirect:
        raise OutboundError(f"the server answered HTTP {response.status_code} (a redirect); "
                            "redirects are not followed")
    if response.status_code != 200:
        raise OutboundError(f"the server answered HTTP {response.status_code}")
    if response.headers.get("Content-Encoding", "identity").lower() != "identity":
        raise OutboundError("the answer has a content encoding, which is not accepted")


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise OutboundError(f"the answer is larger than {max_bytes} bytes")
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > max_bytes:
            raise OutboundError(f"the answer is larger than {max_bytes} bytes")
    return bytes(body)


def _one_line(error: Exception) -> str:
    # Trio reports a failed TLS handshake as an empty BrokenResourceError caused by the SSLError.
    chain: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    tls = next((item for item in chain if isinstance(item, ssl.SSLError)), None)
    text = str(tls or next((item for item in chain if str(item).strip()), error)).strip()
    return f"the fetch failed: {text.splitlines()[0] if text else type(error).__name__}"


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the already-checked addresses of the one allowed host, never re-resolving."""

    def __init__(self, host: str, addresses: list[str]) -> None:
        self._host, self._addresses = host, addresses
        self._trio = httpcore.TrioBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None,
                          socket_options=None):
        if host != self._host:
            raise httpcore.ConnectError(f"connection to unchecked host '{host}' refused")
        failure: Exception = httpcore.ConnectError(f"no address of '{host}' accepted")
        for address in self._addresses:
            try:
                return await self._trio.connect_tcp(address, port, timeout, local_address,
                                                    socket_options)
            except httpcore.ConnectError as error:
                failure = error
        raise failure

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool given the pinned network backend.

    httpx exposes no `network_backend` argument, so the pool (public httpcore API) is replaced
    right after construction; request/response mapping stays httpx's own."""

    def __init__(self, host: str, addresses: list[str], tls: ssl.SSLContext) -> None:
        super().__init__(verify=tls, trust_env=False, retries=0)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls, max_connections=1, http1=True, http2=False, retries=0,
            network_backend=_PinnedBackend(host, addresses))

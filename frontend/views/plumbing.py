"""Helpers shared by the views: the app's parts, raw request bodies, replies as responses."""

import time
from base64 import b64decode
from urllib.parse import unquote_plus

import trio
from quart import Response, current_app, request

from frontend.responses import Reply, oauth_error

MAX_USERNAME, MAX_PASSWORD = 256, 1024
# Password hashing (scrypt: about 70 ms and 32 MiB each) runs in at most this many threads at once.
_HASHING = trio.CapacityLimiter(4)


def parts():
    """The running app's parts: settings, Tessera client, users, resource servers."""
    return current_app.parts


def now() -> int:
    return int(time.time())


async def form_body() -> str | None:
    """The raw form-encoded body (reference §2.0 `parameters`), or None for another type."""
    if request.mimetype != "application/x-www-form-urlencoded":
        await request.get_data()   # read it anyway, so the connection stays usable
        return None
    return (await request.get_data()).decode("utf-8", errors="replace")


def to_response(reply: Reply) -> Response:
    response = Response(reply.body, status=reply.status, headers=reply.headers)
    if reply.content_type:
        response.headers["Content-Type"] = reply.content_type
    else:
        del response.headers["Content-Type"]
    return response


def wrong_content_type() -> Response:
    return to_response(_not_a_form())


def _not_a_form() -> Reply:
    return oauth_error(400, "invalid_request",
                       "the request body must be application/x-www-form-urlencoded "
                       "(RFC 6749 §3.2)")


class Refused(Exception):
    """A request the front-end answers itself, before calling Tessera."""

    def __init__(self, reply: Reply):
        super().__init__(reply.status)
        self.reply = reply


async def form_request(realm: str) -> tuple[str, str | None, str | None]:
    """An endpoint's form body and its caller's HTTP Basic credentials (RFC 6749 §2.3.1);
    raises Refused for another content type or unreadable credentials."""
    parameters = await form_body()
    if parameters is None:
        raise Refused(_not_a_form())
    try:
        client_id, secret = basic_credentials()
    except BadBasic as error:
        raise Refused(oauth_error(401, "invalid_client", str(error),
                                  challenge=f'Basic realm="{realm}"')) from error
    return parameters, client_id, secret


async def refused(error: Refused) -> Response:
    return to_response(error.reply)


class BadBasic(ValueError):
    """The Authorization header is Basic but not decodable."""


def basic_credentials() -> tuple[str | None, str | None]:
    """RFC 6749 §2.3.1: client_id and secret from HTTP Basic, each form-urlencoded."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        user, separator, password = b64decode(value.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError) as error:
        raise BadBasic("the Basic credentials are not base64 of 'id:secret'") from error
    if not separator:
        raise BadBasic("the Basic credentials have no ':' between id and secret")
    return unquote_plus(user), unquote_plus(password)


async def check_password(username: str, password: str):
    """(the user, 0) when the password is right; (None, 0) when wrong; (None, seconds to
    wait) while this username is throttled for this client address. scrypt runs in a worker
    thread, so a login does not stall every other request."""
    if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        return None, 0   # no configured user has such a name; spare the hashing and memory
    throttle, key = parts().throttle, f"{username}\n{request.remote_addr}"
    wait = throttle.retry_after(key)
    if wait:
        return None, wait
    user = await trio.to_thread.run_sync(parts().users.authenticate, username, password,
                                         limiter=_HASHING)
    if user is None:
        throttle.failed(key)
    else:
        throttle.succeeded(key)
    return user, 0


async def resource_server_ok(client_id: str, secret: str) -> bool:
    """RFC 7662 §2.1: the caller of introspection authenticates; failures are throttled like
    passwords, per resource server and address."""
    servers, throttle = parts().resource_servers, parts().throttle
    if servers.known(client_id, secret):
        return True
    key = f"resource server {client_id}\n{request.remote_addr}"
    if throttle.retry_after(key):
        return False
    if await trio.to_thread.run_sync(servers.authenticate, client_id, secret, limiter=_HASHING):
        return True
    throttle.failed(key)
    return False

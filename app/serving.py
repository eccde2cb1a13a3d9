"""Serve an ASGI app over HTTP/1.1 on trio: Hypercorn's protocol layer, our own connection handler.

Written against Hypercorn 0.18.0 (pinned in pyproject.toml) and Quart-Trio 0.12.0. Hypercorn's
``Config``, ``Lifespan``, ``WorkerContext`` and its h11 protocol (``H11Protocol``, with
``HTTPStream``) do the HTTP work; this module replaces what its trio worker wraps around them
(``run.worker_serve``, ``tcp_server.TCPServer``, ``task_group.TaskGroup``). Why, the costs
removed and the measurements: docs/hypercorn-trio-worker.md. Which timeout bounds which slow
client: docs/serving.md.

Per connection:

* one idle watcher whose cancel-scope deadline is moved (``Updated`` events from the protocol),
  instead of starting and cancelling a timer task for every request;
* a response is buffered and written once per ASGI body message (head, body and end of message
  together), shielded from cancellation, taking the write lock without a scheduler trip when it
  is free; empty writes are skipped;
* ``read_timeout`` applies only while a request body is awaited, so no timeout scope wraps the
  other reads;
* each request's ASGI receive queue is a deque with parking lots, not a memory channel.

The keep-alive defect of Hypercorn 0.18's worker behind Quart-Trio (the idle timer is never
re-armed and ``Connection: close`` never closes, so connections stay open forever;
docs/serving.md) cannot occur here by construction, so the former ``ShieldedSendApp`` wrapper
is gone. Hypercorn finishes a response inside the app's last ``send()``, a task Quart-Trio is
about to cancel. On that path (``HTTPStream._send_closed``, ``H11Protocol._maybe_recycle``),
everything this module does is synchronous (queueing ``http.disconnect``, moving the idle
deadline, asking the reader to stop), except the socket write, which is shielded. So there is
no checkpoint where the cancellation could interrupt it. Recheck that path when upgrading
Hypercorn; the tests cover it behind Quart-Trio.

Not supported: TLS, HTTP/2 (an h2c upgrade offer is ignored and answered in HTTP/1.1, as
RFC 9110 §7.8 allows; a connection opening with the HTTP/2 preface is closed), HTTP/3,
unix-socket and fd binds, ``config.max_requests``, WebSocket (left to Hypercorn's protocol
untested: Tessera has no WebSocket route).
"""

from __future__ import annotations

import logging
import math
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import ExitStack, suppress
from functools import partial
from typing import Any

import h11
import trio
from hypercorn.app_wrappers import ASGIWrapper
from hypercorn.config import Config
from hypercorn.events import Closed, Event, RawData, Updated
from hypercorn.protocol.h11 import H2ProtocolAssumedError, H11Protocol
from hypercorn.trio.lifespan import Lifespan
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import AppWrapper, ConnectionState
from hypercorn.utils import parse_socket_addr, repr_socket_addr

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]

MAX_RECV = 2**16


def build_config(
    *, bind: list[str], keep_alive_timeout: float, read_timeout: float, graceful_timeout: float
) -> Config:
    config = Config()
    config.bind = list(bind)
    config.accesslog = None
    # Hypercorn's default ("-") installs its own plain-text stderr handler at INFO, bypassing the
    # node's logging set-up (and so breaking one-JSON-object-per-line logs); hand it the logger.
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = keep_alive_timeout
    config.read_timeout = read_timeout
    config.graceful_timeout = graceful_timeout
    return config


def strip_scheme(url: str) -> str:
    """Hypercorn reports binds as "http://host:port"; callers want "host:port"."""
    _, separator, address = url.partition("://")
    return address if separator else url


async def serve(
    asgi_app: ASGIApp,
    *,
    bind: list[str],
    keep_alive_timeout: float,
    read_timeout: float,
    graceful_timeout: float,
    shutdown_trigger: Callable[[], Awaitable[Any]],
    reuse_port: bool = False,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``asgi_app`` until ``shutdown_trigger`` returns, then shut down gracefully.

    Reports the actually bound "host:port" addresses via ``task_status.started`` (so port 0
    can be used). In-flight requests get ``graceful_timeout`` seconds to finish. With
    ``reuse_port``, several processes can listen on the same port (SO_REUSEPORT).
    """
    config = build_config(
        bind=bind,
        keep_alive_timeout=keep_alive_timeout,
        read_timeout=read_timeout,
        graceful_timeout=graceful_timeout,
    )
    await serve_config(
        asgi_app,
        config,
        shutdown_trigger=shutdown_trigger,
        reuse_port=reuse_port,
        task_status=task_status,
    )


async def serve_config(
    asgi_app: ASGIApp,
    config: Config,
    *,
    shutdown_trigger: Callable[[], Awaitable[Any]],
    reuse_port: bool = False,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """``serve`` for a Hypercorn ``Config``; raises ValueError for what is not supported."""
    _check_supported(config)
    with ExitStack() as open_sockets:  # a busy port fails here, before the app starts up
        sockets = [
            open_sockets.enter_context(await _listening_socket(bind, config.backlog, reuse_port))
            for bind in config.bind
        ]
        await _run_worker(ASGIWrapper(asgi_app), config, sockets, shutdown_trigger, task_status)


def _check_supported(config: Config) -> None:
    """Fail at start for configurations Hypercorn would serve but this module does not."""
    if config.certfile is not None or config.keyfile is not None:
        raise ValueError("TLS is not supported by app.serving: terminate TLS in front of it")
    if config.quic_bind:
        raise ValueError("HTTP/3 (quic_bind) is not supported by app.serving")
    for bind in config.bind:
        if bind.startswith(("unix:", "fd://")):
            raise ValueError(f"bind '{bind}' is not supported by app.serving: use host:port")


async def _listening_socket(bind: str, backlog: int, reuse_port: bool) -> trio.socket.SocketType:
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    sock = trio.socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:  # several processes accept on one port; the kernel spreads connections
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        await sock.bind((host, int(port)))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


async def _run_worker(
    app: AppWrapper,
    config: Config,
    sockets: list[trio.socket.SocketType],
    shutdown_trigger: Callable[[], Awaitable[Any]],
    task_status: trio.TaskStatus[list[str]],
) -> None:
    lifespan_state: dict[str, Any] = {}
    lifespan = Lifespan(app, config, lifespan_state)
    async with trio.open_nursery() as lifespan_nursery:
        await lifespan_nursery.start(lifespan.handle_lifespan)
        await lifespan.wait_for_startup()
        context = WorkerContext(max_requests=None)
        handler = partial(_serve_connection, app, config, context, lifespan_state.copy())
        await _accept(handler, context, config, sockets, shutdown_trigger, task_status)
        await lifespan.wait_for_shutdown()
        lifespan_nursery.cancel_scope.cancel()


async def _accept(
    handler: Callable[[trio.SocketStream], Awaitable[None]],
    context: WorkerContext,
    config: Config,
    sockets: list[trio.socket.SocketType],
    shutdown_trigger: Callable[[], Awaitable[Any]],
    task_status: trio.TaskStatus[list[str]],
) -> None:
    """Accept connections until ``shutdown_trigger`` returns, then shut down gracefully."""
    listeners = [trio.SocketListener(sock) for sock in sockets]
    async with trio.open_nursery() as connections:
        async with trio.open_nursery() as accepting:
            await accepting.start(
                partial(trio.serve_listeners, handler, listeners, handler_nursery=connections)
            )
            task_status.started(await _announce(config, sockets))
            await shutdown_trigger()
            accepting.cancel_scope.cancel()  # closes the listeners: new connections are refused
        # Idle connections close now, busy ones after their response (the protocol checks it).
        await context.terminated.set()
        connections.cancel_scope.deadline = trio.current_time() + config.graceful_timeout


async def _announce(config: Config, sockets: list[trio.socket.SocketType]) -> list[str]:
    addresses = [repr_socket_addr(sock.family, sock.getsockname()) for sock in sockets]
    for address in addresses:
        await config.log.info(f"Running on http://{address}")
    return addresses


async def _serve_connection(
    app: AppWrapper,
    config: Config,
    context: WorkerContext,
    state: dict[str, Any],
    stream: trio.SocketStream,
) -> None:
    await _Connection(app, config, context, state, stream).run()


class _Connection:
    """One HTTP/1.1 connection: reads requests, runs the app, writes responses, closes when idle.

    It is also the task group Hypercorn's protocol runs the app in (``spawn_app``, ``spawn``)
    and the sink of the protocol's events (``on_protocol_event``).
    """

    def __init__(
        self,
        app: AppWrapper,
        config: Config,
        context: WorkerContext,
        state: dict[str, Any],
        stream: trio.SocketStream,
    ) -> None:
        self._app = app
        self._config = config
        self._context = context
        self._state = state
        self._stream = stream
        self._outgoing: list[bytes] = []
        self._send_lock = trio.Lock()
        self._reading = trio.CancelScope()
        # Finite while idle, inf while a request is in progress (see on_protocol_event).
        self._idle_deadline = trio.CancelScope(deadline=self._idle_until())
        self._tasks: trio.Nursery
        self._protocol: _HTTP11Protocol

    async def run(self) -> None:
        try:
            self._protocol = self._open_protocol()
            async with trio.open_nursery() as self._tasks:
                self._tasks.start_soon(self._close_when_idle)
                await self._serve_requests()
        except OSError:  # the client left before we could even ask who it was
            pass
        finally:
            await self._close()

    def _open_protocol(self) -> _HTTP11Protocol:
        sock = self._stream.socket
        return _HTTP11Protocol(
            self._app,
            self._config,
            self._context,
            self,
            ConnectionState(self._state),
            False,
            parse_socket_addr(sock.family, sock.getpeername()),
            parse_socket_addr(sock.family, sock.getsockname()),
            self.on_protocol_event,
        )

    async def _serve_requests(self) -> None:
        try:
            with self._reading:
                await self._read_requests()
            await self._protocol.handle(Closed())  # a request in flight gets http.disconnect
        except trio.Cancelled:
            # Cancelled from outside (graceful_timeout expired): a shielded write to a client
            # that does not read would hold the app's task, and so this connection, forever.
            self._stream.socket.close()
            raise
        finally:
            self._idle_deadline.cancel()

    async def _read_requests(self) -> None:
        while (data := await self._receive()) is not None:
            try:
                await self._protocol.handle(RawData(data))
            except H2ProtocolAssumedError:  # HTTP/2 prior knowledge: not served
                return
            await self._flush()  # a 100 Continue or an error response written by the protocol
            if not data:
                return

    async def _receive(self) -> bytes | None:
        """The client's next bytes, b"" at its end; None if it broke or stalled mid-body."""
        try:
            if self._config.read_timeout and self._awaiting_body():
                with trio.move_on_after(self._config.read_timeout):
                    return await self._stream.receive_some(MAX_RECV)
                return None
            return await self._stream.receive_some(MAX_RECV)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return None

    def _awaiting_body(self) -> bool:
        # Between requests the idle timer bounds the client; while the app works on a complete
        # request it is not the client's turn, so a slow handler must not lose its response.
        return self._protocol.connection.their_state is h11.SEND_BODY

    async def on_protocol_event(self, event: Event) -> None:
        # Called from the app's task while Hypercorn finishes a response: no checkpoint here
        # except the shielded write, or Quart-Trio's cancellation would cut the bookkeeping short.
        if isinstance(event, RawData):
            if event.data:
                self._outgoing.append(event.data)
        elif isinstance(event, Updated):
            self._idle_deadline.deadline = self._idle_until() if event.idle else math.inf
        elif isinstance(event, Closed):
            await self._flush()
            self._reading.cancel()

    def _idle_until(self) -> float:
        return trio.current_time() + self._config.keep_alive_timeout

    async def _flush(self) -> None:
        """Write what the protocol buffered, in one ``send_all``, whoever cancels the caller."""
        if not self._outgoing:
            return
        with trio.CancelScope(shield=True):
            try:
                self._send_lock.acquire_nowait()  # free unless the reader writes a 100 Continue
            except trio.WouldBlock:
                await self._send_lock.acquire()
            try:
                chunks, self._outgoing = self._outgoing, []
                if chunks:
                    await self._stream.send_all(chunks[0] if len(chunks) == 1 else b"".join(chunks))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self._reading.cancel()  # the client is gone; the app learns it from the reader
            finally:
                self._send_lock.release()

    async def _close_when_idle(self) -> None:
        """The connection's one idle timer; the protocol re-arms it by moving its deadline."""
        with self._idle_deadline:
            await self._context.terminated.wait()
            if self._idle_deadline.deadline == math.inf:
                # Shutting down with a request in progress: the protocol closes the connection
                # after its response, since it sees context.terminated.
                await trio.sleep_forever()
        self._reading.cancel()

    async def _close(self) -> None:
        with trio.CancelScope(shield=True):  # neither call waits
            with suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await self._stream.send_eof()
            await self._stream.aclose()

    async def spawn_app(
        self,
        app: AppWrapper,
        config: Config,
        scope: dict,
        send: Callable[[dict | None], Awaitable[None]],
    ) -> Callable[[dict], Awaitable[None]]:
        """Run the app for one request; return how the protocol hands it request messages."""
        messages = _RequestMessages(config.max_app_queue_size)
        self._tasks.start_soon(self._run_app, app, scope, messages.receive, send)
        return messages.put

    def spawn(self, func: Callable, *args: Any) -> None:
        self._tasks.start_soon(func, *args)

    async def _run_app(
        self,
        app: AppWrapper,
        scope: dict,
        receive: Callable[[], Awaitable[dict]],
        send: Callable[[dict | None], Awaitable[None]],
    ) -> None:
        async def send_and_flush(message: dict) -> None:
            await send(message)
            if message["type"] != "http.response.start":  # the head waits for the body
                await self._flush()

        try:
            await app(scope, receive, send_and_flush, trio.to_thread.run_sync, trio.from_thread.run)
        except (Exception, BaseExceptionGroup) as error:
            if _only_cancellation(error):
                raise
            await self._config.log.exception("Error in ASGI Framework")
        finally:
            await send(None)  # the protocol answers 500 if no response was started
            await self._flush()


def _only_cancellation(error: BaseException) -> bool:
    return isinstance(error, BaseExceptionGroup) and error.split(trio.Cancelled)[1] is None


class _RequestMessages:
    """One request's ASGI receive queue: a deque and two parking lots, not a memory channel."""

    def __init__(self, limit: int) -> None:
        self._messages: deque[dict] = deque()
        self._limit = max(limit, 1)
        self._arrived = trio.lowlevel.ParkingLot()
        self._taken = trio.lowlevel.ParkingLot()

    async def put(self, message: dict) -> None:
        # Only body chunks wait for room (config.max_app_queue_size): http.disconnect is put from
        # inside the app's own last send() and must not wait.
        while message["type"] == "http.request" and len(self._messages) >= self._limit:
            await self._taken.park()
        self._messages.append(message)
        self._arrived.unpark()

    async def receive(self) -> dict:
        while not self._messages:
            await self._arrived.park()
        self._taken.unpark()
        return self._messages.popleft()


class _HTTP11Protocol(H11Protocol):
    """Hypercorn's HTTP/1.1 protocol without its switches to HTTP/2."""

    async def _check_protocol(self, event: h11.Request) -> None:
        # RFC 9110 §7.8 lets a server ignore Upgrade: an h2c offer is answered in HTTP/1.1.
        # The HTTP/2 preface (prior knowledge) cannot be answered; the reader closes on it.
        if event.method == b"PRI" and event.target == b"*" and event.http_version == b"2.0":
            raise H2ProtocolAssumedError(b"")

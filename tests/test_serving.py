"""End-to-end tests of app.serving over real sockets, behind Quart-Trio and a bare ASGI app.

The client side is a raw HTTP/1.1 stream (so a test controls every byte and pause) or httpx.
"""

from __future__ import annotations

import hashlib
import json
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

import httpx
import pytest
import trio
from hypercorn.trio import serve as hypercorn_serve
from quart import request
from quart_trio import QuartTrio

from app.serving import build_config, serve, serve_config

pytestmark = pytest.mark.trio

KEEP_ALIVE = 0.5
# Generous so that, unless a test lowers it, only the idle timer can close a connection.
LONG_READ_TIMEOUT = 10.0
# Slack for scheduling and socket teardown on a loaded machine.
MARGIN = 1.0
SLOW_ROUTE_SECONDS = 0.3

CHUNK_SIZE = 64 * 1024
LARGE_BODY_SIZE = 5 * 1024 * 1024
LARGE_RESPONSE_SIZE = 8 * 1024 * 1024


def response_chunks() -> list[bytes]:
    """The /stream response: distinct chunks, so a lost or reordered chunk changes the hash."""
    return [bytes([index % 251]) * CHUNK_SIZE for index in range(LARGE_RESPONSE_SIZE // CHUNK_SIZE)]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Probe:
    """What the app saw, for tests to assert on."""

    request_started: trio.Event = field(default_factory=trio.Event)
    request_abandoned: trio.Event = field(default_factory=trio.Event)
    lifespan: list[str] = field(default_factory=list)


def make_quart_app(probe: Probe) -> QuartTrio:
    app = QuartTrio(__name__)

    @app.before_serving
    async def startup() -> None:
        probe.lifespan.append("startup")

    @app.after_serving
    async def shutdown() -> None:
        probe.lifespan.append("shutdown")

    @app.get("/ping")
    async def ping() -> dict:
        return {"pong": True}

    @app.post("/echo")
    async def echo() -> dict:
        return {"length": len(await request.get_data())}

    @app.post("/digest")
    async def digest() -> dict:
        body = await request.get_data()
        return {"length": len(body), "sha256": sha256(body)}

    @app.get("/slow")
    async def slow() -> dict:
        probe.request_started.set()
        await trio.sleep(SLOW_ROUTE_SECONDS)
        return {"slow": True}

    @app.get("/abandon")
    async def abandon() -> dict:
        probe.request_started.set()
        try:
            await trio.sleep_forever()
        finally:  # Quart-Trio cancels the handler when the server reports the disconnect
            probe.request_abandoned.set()

    @app.get("/stream")
    async def stream():
        probe.request_started.set()

        async def chunks():
            for chunk in response_chunks():
                yield chunk

        return chunks(), 200, {"content-type": "application/octet-stream"}

    @app.get("/fail")
    async def fail() -> dict:
        raise RuntimeError("the handler failed")

    return app


class BareApp:
    """The same routes as make_quart_app, as a plain ASGI callable (no framework in between)."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        route = getattr(self, scope["path"].strip("/"))
        await route(receive, send)

    async def lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            stage = message["type"].removeprefix("lifespan.")
            self.probe.lifespan.append(stage)
            await send({"type": f"lifespan.{stage}.complete"})
            if stage == "shutdown":
                return

    async def ping(self, receive, send) -> None:
        await send_json(send, {"pong": True})

    async def echo(self, receive, send) -> None:
        body = b"".join([chunk async for chunk in read_body(receive)])
        await send_json(send, {"length": len(body)})

    async def digest(self, receive, send) -> None:
        length, digest = 0, hashlib.sha256()
        async for chunk in read_body(receive):
            length += len(chunk)
            digest.update(chunk)
        await send_json(send, {"length": length, "sha256": digest.hexdigest()})

    async def slow(self, receive, send) -> None:
        self.probe.request_started.set()
        await trio.sleep(SLOW_ROUTE_SECONDS)
        await send_json(send, {"slow": True})

    async def abandon(self, receive, send) -> None:
        self.probe.request_started.set()
        while (await receive())["type"] != "http.disconnect":
            pass
        self.probe.request_abandoned.set()

    async def stream(self, receive, send) -> None:
        self.probe.request_started.set()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for chunk in response_chunks():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def fail(self, receive, send) -> None:
        raise RuntimeError("the handler failed")


async def read_body(receive):
    while True:
        message = await receive()
        yield message.get("body", b"")
        if not message.get("more_body"):
            return


async def send_json(send, document: dict) -> None:
    body = json.dumps(document, separators=(",", ":")).encode() + b"\n"
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@dataclass
class ServedApp:
    kind: str
    asgi: object
    probe: Probe


def new_app(kind: str) -> ServedApp:
    probe = Probe()
    make = make_quart_app if kind == "quart-trio" else BareApp
    return ServedApp(kind, make(probe), probe)


@pytest.fixture(params=["quart-trio", "bare-asgi"])
async def app(request) -> ServedApp:
    return new_app(request.param)


@pytest.fixture
async def quart_app() -> ServedApp:
    return new_app("quart-trio")


@dataclass
class Server:
    host: str
    port: int
    stop: trio.Event
    stopped: trio.Event

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def connect(self) -> HTTPConnection:
        with trio.fail_after(MARGIN):
            return HTTPConnection(await trio.open_tcp_stream(self.host, self.port))


@asynccontextmanager
async def running_server(
    app: ServedApp,
    *,
    keep_alive_timeout: float = KEEP_ALIVE,
    read_timeout: float = LONG_READ_TIMEOUT,
    graceful_timeout: float = 1.0,
    bind: str = "127.0.0.1:0",
    reuse_port: bool = False,
):
    stop, stopped = trio.Event(), trio.Event()

    async def run(task_status=trio.TASK_STATUS_IGNORED) -> None:
        await serve(
            app.asgi,
            bind=[bind],
            keep_alive_timeout=keep_alive_timeout,
            read_timeout=read_timeout,
            graceful_timeout=graceful_timeout,
            shutdown_trigger=stop.wait,
            reuse_port=reuse_port,
            task_status=task_status,
        )
        stopped.set()

    # Bounds the whole test body plus shutdown, so a hang fails instead of blocking the run.
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            addresses = await nursery.start(run)
            host, port = addresses[0].rsplit(":", 1)
            yield Server(host, int(port), stop, stopped)
            stop.set()


class HTTPConnection:
    """Minimal HTTP/1.1 client over a raw stream, so tests control every byte and pause."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def read_response(self) -> tuple[int, bytes]:
        head, body = await self.read_head_and_body()
        return int(head.split(b" ", 2)[1]), body

    async def read_head_and_body(self) -> tuple[bytes, bytes]:
        with trio.fail_after(MARGIN + SLOW_ROUTE_SECONDS):
            head = await self.read_head()
            body = await self._read_exactly(content_length(head))
        return head, body

    async def read_head(self) -> bytes:
        return await self._read_until(b"\r\n\r\n")

    async def wait_closed_by_server(self) -> None:
        """Return once the server closed the connection; unread data is discarded."""
        while await self._receive():
            pass

    async def is_open_after(self, seconds: float) -> bool:
        with trio.move_on_after(seconds):
            await self.wait_closed_by_server()
            return False
        return True

    async def aclose(self) -> None:
        await self.stream.aclose()

    async def _receive(self) -> bytes:
        try:
            return await self.stream.receive_some()
        except trio.BrokenResourceError:  # connection reset counts as closed
            return b""

    async def _fill(self) -> None:
        data = await self._receive()
        if not data:
            raise AssertionError("server closed the connection mid-response")
        self.buffer += data

    async def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            await self._fill()
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    async def _read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            await self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise AssertionError(f"response without content-length: {head!r}")


def get(path: str, *headers: str) -> bytes:
    lines = "".join(f"{header}\r\n" for header in headers)
    return f"GET {path} HTTP/1.1\r\nhost: test\r\n{lines}\r\n".encode()


def post(path: str, body: bytes) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nhost: test\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


PONG = (200, b'{"pong":true}\n')


async def open_idle_connections(server: Server, count: int) -> list[HTTPConnection]:
    connections = []
    for _ in range(count):
        connection = await server.connect()
        await connection.send(get("/ping"))
        assert await connection.read_response() == PONG
        connections.append(connection)
    return connections


async def wait_all_closed(connections: list[HTTPConnection], within: float) -> None:
    with trio.fail_after(within):
        for connection in connections:
            await connection.wait_closed_by_server()


async def count_open(connections: list[HTTPConnection]) -> int:
    results = []

    async def check(connection: HTTPConnection) -> None:
        results.append(await connection.is_open_after(0.05))

    # Concurrently, so the check costs 0.05 s in total rather than per connection.
    async with trio.open_nursery() as nursery:
        for connection in connections:
            nursery.start_soon(check, connection)
    return sum(results)


async def close_all(connections: list[HTTPConnection]) -> None:
    for connection in connections:
        await connection.aclose()


async def wait_until_refused(server: Server) -> None:
    # The listener closes a few scheduler ticks after the trigger fires.
    with trio.fail_after(MARGIN):
        while True:
            try:
                stream = await trio.open_tcp_stream(server.host, server.port)
            except OSError:
                return
            await stream.aclose()
            await trio.sleep(0.01)


# --- keep-alive and the idle timer -------------------------------------------------------------


async def test_back_to_back_requests_reuse_the_connection(app):
    async with running_server(app) as server:
        connection = await server.connect()
        await connection.send(get("/ping"))
        assert await connection.read_response() == PONG
        await trio.sleep(KEEP_ALIVE / 2)  # idle, but below the timeout
        await connection.send(post("/echo", b"hello"))
        assert await connection.read_response() == (200, b'{"length":5}\n')
        await trio.sleep(KEEP_ALIVE / 2)  # the timer restarted after the previous response
        await connection.send(get("/ping"))
        assert await connection.read_response() == PONG
        await connection.aclose()


async def test_idle_keep_alive_connections_are_closed(app):
    async with running_server(app) as server:
        connections = await open_idle_connections(server, 20)
        started = trio.current_time()
        await wait_all_closed(connections, within=KEEP_ALIVE + MARGIN)
        assert trio.current_time() - started >= KEEP_ALIVE / 2
        await close_all(connections)


async def test_hypercorn_worker_never_closes_idle_connections_behind_quart_trio(quart_app):
    # Documents the Hypercorn 0.18 + Quart-Trio defect that app.serving avoids by construction:
    # the same app on Hypercorn's own trio worker. If this fails after an upgrade, the upstream
    # bug may be fixed.
    stop = trio.Event()
    config = build_config(
        bind=["127.0.0.1:0"],
        keep_alive_timeout=KEEP_ALIVE,
        read_timeout=LONG_READ_TIMEOUT,
        graceful_timeout=1.0,
    )
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            urls = await nursery.start(
                partial(hypercorn_serve, quart_app.asgi, config, shutdown_trigger=stop.wait)
            )
            host, port = urls[0].removeprefix("http://").rsplit(":", 1)
            server = Server(host, int(port), stop, trio.Event())
            connections = await open_idle_connections(server, 20)
            await trio.sleep(2 * KEEP_ALIVE)  # app.serving has closed all of them by now
            still_open = await count_open(connections)
            await close_all(connections)
            stop.set()
    assert still_open > 0


async def test_silent_connection_is_closed_after_keep_alive_timeout(app):
    async with running_server(app) as server:
        connection = await server.connect()
        started = trio.current_time()
        with trio.fail_after(KEEP_ALIVE + MARGIN):
            await connection.wait_closed_by_server()
        assert trio.current_time() - started >= KEEP_ALIVE / 2
        await connection.aclose()


async def test_half_sent_headers_are_closed_after_keep_alive_timeout(app):
    async with running_server(app) as server:
        connection = await server.connect()
        await connection.send(b"GET /ping HTTP/1.1\r\nhost: te")
        with trio.fail_after(KEEP_ALIVE + MARGIN):
            await connection.wait_closed_by_server()
        await connection.aclose()


async def test_trickled_headers_are_closed_after_keep_alive_timeout(quart_app):
    # Each byte arrives well within read_timeout, so only the idle timer can stop this client.
    async with running_server(quart_app, read_timeout=KEEP_ALIVE) as server:
        connection = await server.connect()

        async def trickle() -> None:
            for byte in b"GET /ping HTTP/1.1\r\nx-padding: " + b"a" * 100:
                await connection.send(bytes([byte]))
                await trio.sleep(KEEP_ALIVE / 5)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(trickle)
            with trio.fail_after(KEEP_ALIVE + MARGIN):
                await connection.wait_closed_by_server()
            nursery.cancel_scope.cancel()
        await connection.aclose()


async def test_connection_close_request_is_closed_after_response(app):
    async with running_server(app) as server:
        connection = await server.connect()
        await connection.send(get("/ping", "connection: close"))
        assert await connection.read_response() == PONG
        with trio.fail_after(KEEP_ALIVE / 2):  # well before the idle timer could do it
            await connection.wait_closed_by_server()
        await connection.aclose()


# --- read_timeout ------------------------------------------------------------------------------


async def test_stall_mid_body_is_closed_after_read_timeout(app):
    # Once the head is complete the idle timer is stopped; read_timeout is the bound.
    async with running_server(app, keep_alive_timeout=30, read_timeout=KEEP_ALIVE) as server:
        connection = await server.connect()
        await connection.send(post("/echo", b"0123456789")[:-5])
        started = trio.current_time()
        with trio.fail_after(KEEP_ALIVE + MARGIN):
            await connection.wait_closed_by_server()
        assert trio.current_time() - started >= KEEP_ALIVE / 2
        await connection.aclose()


async def test_handler_slower_than_read_timeout_still_answers(app):
    # The request is complete, so it is the server's turn: read_timeout does not apply
    # (Hypercorn's own worker closes this connection and the response is lost).
    async with running_server(app, read_timeout=SLOW_ROUTE_SECONDS / 3) as server:
        connection = await server.connect()
        await connection.send(get("/slow"))
        assert await connection.read_response() == (200, b'{"slow":true}\n')
        await connection.aclose()


# --- request and response framing --------------------------------------------------------------


async def test_pipelined_requests_are_answered_in_order(app):
    async with running_server(app) as server:
        connection = await server.connect()
        await connection.send(post("/echo", b"abc") + get("/ping") + post("/echo", b"hello"))
        assert await connection.read_response() == (200, b'{"length":3}\n')
        assert await connection.read_response() == PONG
        assert await connection.read_response() == (200, b'{"length":5}\n')
        await connection.aclose()


async def test_large_request_body_is_received_completely(app):
    body = bytes(range(256)) * (LARGE_BODY_SIZE // 256)
    async with running_server(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        with trio.fail_after(10):
            response = await client.post("/digest", content=body)
    assert response.status_code == 200
    assert response.json() == {"length": LARGE_BODY_SIZE, "sha256": sha256(body)}


async def test_large_streamed_response_arrives_complete_and_in_order(app):
    async with running_server(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        with trio.fail_after(10):
            async with client.stream("GET", "/stream") as response:
                received = b"".join([chunk async for chunk in response.aiter_bytes()])
        # The connection is reusable after a streamed (chunked) response.
        assert (await client.get("/ping")).json() == {"pong": True}
    assert response.status_code == 200
    assert len(received) == LARGE_RESPONSE_SIZE
    assert sha256(received) == sha256(b"".join(response_chunks()))


async def test_expect_100_continue_is_answered_before_the_body(app):
    async with running_server(app) as server:
        connection = await server.connect()
        await connection.send(
            b"POST /echo HTTP/1.1\r\nhost: test\r\ncontent-length: 5\r\n"
            b"expect: 100-continue\r\n\r\n"
        )
        with trio.fail_after(MARGIN):
            assert (await connection.read_head()).startswith(b"HTTP/1.1 100 ")
        await connection.send(b"hello")
        assert await connection.read_response() == (200, b'{"length":5}\n')
        await connection.aclose()


async def test_h2c_upgrade_offer_is_answered_in_http_1_1(app):
    async with running_server(app) as server:
        connection = await server.connect()
        await connection.send(
            get("/ping", "connection: Upgrade, HTTP2-Settings", "upgrade: h2c",
                "http2-settings: AAMAAABkAARAAAAAAAIAAAAA")
        )
        head, body = await connection.read_head_and_body()
        assert head.startswith(b"HTTP/1.1 200 ")
        assert body == PONG[1]
        await connection.send(get("/ping"))
        assert await connection.read_response() == PONG
        await connection.aclose()


async def test_http2_prior_knowledge_is_closed_without_response(app):
    async with running_server(app) as server:
        connection = await server.connect()
        await connection.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        with trio.fail_after(MARGIN):
            assert await connection.stream.receive_some() == b""
        await connection.aclose()


async def test_malformed_request_gets_400_and_the_connection_closes(app):
    async with running_server(app) as server:
        connection = await server.connect()
        await connection.send(b"NOT-HTTP\r\n\r\n")
        assert (await connection.read_response())[0] == 400
        with trio.fail_after(KEEP_ALIVE / 2):
            await connection.wait_closed_by_server()
        await connection.aclose()


# --- the application ---------------------------------------------------------------------------


async def test_quart_handler_error_gives_500_and_connection_stays_usable(quart_app):
    async with running_server(quart_app) as server:
        connection = await server.connect()
        await connection.send(get("/fail"))
        assert (await connection.read_response())[0] == 500
        await connection.send(get("/ping"))
        assert await connection.read_response() == PONG
        await connection.aclose()


async def test_bare_app_error_is_logged_and_gives_500_then_close(caplog):
    async with running_server(new_app("bare-asgi")) as server:
        connection = await server.connect()
        await connection.send(get("/fail"))
        assert await connection.read_response() == (500, b"")
        with trio.fail_after(KEEP_ALIVE / 2):  # Hypercorn's error response says connection: close
            await connection.wait_closed_by_server()
        await connection.aclose()
    # Only errors: whether "Running on ..." (INFO) is captured depends on earlier tests' logging.
    errors = [record for record in caplog.records
              if record.name == "hypercorn.error" and record.levelno >= logging.WARNING]
    assert [record.getMessage() for record in errors] == ["Error in ASGI Framework"]
    assert errors[0].levelno == logging.ERROR
    assert "the handler failed" in caplog.text


async def test_app_learns_that_the_client_left(app):
    async with running_server(app) as server:
        connection = await server.connect()
        await connection.send(get("/abandon"))
        with trio.fail_after(MARGIN):
            await app.probe.request_started.wait()
        await connection.aclose()
        with trio.fail_after(MARGIN):
            await app.probe.request_abandoned.wait()


async def test_lifespan_startup_before_serving_and_shutdown_after(app):
    async with running_server(app):
        assert app.probe.lifespan == ["startup"]
    assert app.probe.lifespan == ["startup", "shutdown"]


# --- graceful shutdown -------------------------------------------------------------------------


async def test_graceful_shutdown_finishes_in_flight_request_and_refuses_new_ones(app):
    async with running_server(app, graceful_timeout=2.0) as server:
        connection = await server.connect()
        await connection.send(get("/slow"))
        with trio.fail_after(MARGIN):
            await app.probe.request_started.wait()
        server.stop.set()
        await wait_until_refused(server)
        assert await connection.read_response() == (200, b'{"slow":true}\n')
        # Shutdown is under way, so the connection is not kept alive afterwards.
        with trio.fail_after(MARGIN):
            await connection.wait_closed_by_server()
            await server.stopped.wait()
        await connection.aclose()


async def test_graceful_shutdown_closes_idle_connections_at_once(app):
    async with running_server(app, keep_alive_timeout=30, graceful_timeout=5.0) as server:
        connections = await open_idle_connections(server, 5)
        server.stop.set()
        await wait_all_closed(connections, within=MARGIN)
        with trio.fail_after(MARGIN):
            await server.stopped.wait()
        await close_all(connections)


async def test_graceful_timeout_bounds_a_client_that_never_reads(app):
    # An 8 MB response overflows the socket buffers, so the server's write waits on the client.
    graceful_timeout = 0.3
    async with running_server(app, graceful_timeout=graceful_timeout) as server:
        connection = await server.connect()
        await connection.send(get("/stream"))
        with trio.fail_after(MARGIN):
            await app.probe.request_started.wait()
        await trio.sleep(0.1)  # the socket buffers fill up and the write blocks
        server.stop.set()
        with trio.fail_after(graceful_timeout + MARGIN):
            await server.stopped.wait()
        await connection.aclose()


# --- listening sockets and configuration -------------------------------------------------------


async def test_reuse_port_lets_two_servers_share_a_port(app):
    async with running_server(app, reuse_port=True) as first:
        bind = f"{first.host}:{first.port}"
        async with running_server(app, bind=bind, reuse_port=True) as second:
            assert second.port == first.port
            first.stop.set()
            with trio.fail_after(MARGIN):
                await first.stopped.wait()
            # The port is still served, by the second server alone.
            connection = await second.connect()
            await connection.send(get("/ping"))
            assert await connection.read_response() == PONG
            await connection.aclose()


async def test_without_reuse_port_a_busy_port_fails_before_start_up(app):
    second = new_app(app.kind)
    async with running_server(app) as first:
        with pytest.raises(OSError):
            await serve(
                second.asgi,
                bind=[f"{first.host}:{first.port}"],
                keep_alive_timeout=KEEP_ALIVE,
                read_timeout=LONG_READ_TIMEOUT,
                graceful_timeout=1.0,
                shutdown_trigger=trio.sleep_forever,
            )
    assert second.probe.lifespan == []


@pytest.mark.parametrize(
    ("setting", "value"),
    [("certfile", "cert.pem"), ("keyfile", "key.pem"), ("quic_bind", ["127.0.0.1:0"]),
     ("bind", ["unix:/tmp/tessera.sock"])],
    ids=["tls-certfile", "tls-keyfile", "http3", "unix-socket"],
)
async def test_unsupported_configuration_fails_at_start(quart_app, setting, value):
    config = build_config(
        bind=["127.0.0.1:0"], keep_alive_timeout=1, read_timeout=1, graceful_timeout=1
    )
    setattr(config, setting, value)
    with pytest.raises(ValueError, match="not supported"):
        await serve_config(quart_app.asgi, config, shutdown_trigger=trio.sleep_forever)
    assert quart_app.probe.lifespan == []  # nothing was started

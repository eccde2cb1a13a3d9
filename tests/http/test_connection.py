"""The one-task-per-request connection (app/http/connection.py), driven through ASGI directly."""

import json

import trio
from quart import request

from app.http.app import TesseraApp


def make_app(calls: list) -> TesseraApp:
    app = TesseraApp("connection-test")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    app.config["BODY_TIMEOUT"] = 0.2

    @app.post("/echo")
    async def echo():
        data = await request.get_data()
        calls.append(len(data))
        return {"length": len(data)}

    @app.get("/boom")
    async def boom():
        raise RuntimeError("boom")

    return app


def scope(method: str, path: str) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "headers": [(b"host", b"test")],
            "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80), "extensions": {}}


async def call(app, method: str, path: str, messages: list[dict], *, stall: bool = False):
    """Run one request; returns the messages the app sent."""
    inbox = list(messages)
    sent: list[dict] = []

    async def receive() -> dict:
        if inbox:
            return inbox.pop(0)
        if stall:
            await trio.sleep_forever()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope(method, path), receive, send)
    return sent


def body(chunk: bytes, more: bool = False) -> dict:
    return {"type": "http.request", "body": chunk, "more_body": more}


async def test_a_response_is_one_head_and_one_complete_body_message():
    calls: list = []
    sent = await call(make_app(calls), "POST", "/echo", [body(b"ab", True), body(b"cd")])
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"]) == {"length": 4}
    assert sent[1]["more_body"] is False and calls == [4]


async def test_a_body_over_the_limit_gets_413_and_the_view_never_sees_it():
    calls: list = []
    sent = await call(make_app(calls), "POST", "/echo",
                      [body(b"x" * 600, True), body(b"x" * 600, True)], stall=True)
    assert sent[0]["status"] == 413 and calls == []


async def test_a_body_that_stalls_gets_408_after_the_body_timeout():
    calls: list = []
    with trio.fail_after(5):
        sent = await call(make_app(calls), "POST", "/echo", [body(b"ab", True)], stall=True)
    assert sent[0]["status"] == 408 and calls == []


async def test_a_client_that_leaves_mid_body_runs_no_view():
    calls: list = []
    sent = await call(make_app(calls), "POST", "/echo", [body(b"ab", True)])
    assert sent == [] and calls == []


async def test_a_failing_view_answers_500():
    sent = await call(make_app([]), "GET", "/boom", [body(b"")])
    assert sent[0]["status"] == 500

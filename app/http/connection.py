"""Quart-Trio's per-request ASGI connection, run in the request's own task.

Written against Quart 0.22.0 and Quart-Trio 0.12.0 (pinned in pyproject.toml); plugged in through
Quart's documented extension point, `QuartTrio.asgi_http_class`.

Quart-Trio handles every HTTP request in a nursery of its own with two tasks: one feeds the
request body and watches for `http.disconnect`, the other runs the view and sends the response;
whichever ends first cancels the other. That costs a nursery, two task spawns and a cancellation
per request (≈ 60-80 µs here, see docs/benchmarks.md), for two abilities an API like ours does
not want:

* streaming a request body into a view while it runs — our bodies are small JSON or form
  documents that every view reads whole before doing anything;
* cancelling a view when its client disconnects — a token endpoint that has started to issue a
  token should finish and commit, not stop half-way because the client went away.

So this connection reads the body first (bounded by `MAX_CONTENT_LENGTH` and `BODY_TIMEOUT`, with
Quart's own 413 and 408 answers), then runs the view and sends the response from the same task,
as one head and one body message when the body is already in memory.
"""

import trio
from quart.utils import encode_headers
from quart.wrappers.response import DataBody, Response
from quart_trio.asgi import TrioASGIHTTPConnection


class SingleTaskHTTPConnection(TrioASGIHTTPConnection):
    async def __call__(self, receive, send) -> None:
        request = self._create_request_from_scope(send)
        if not await self._receive_body(request, receive):
            return  # the client left before its request was complete: nothing to answer
        response = await self.app.handle_request(request)
        timeout = (response.timeout if isinstance(response, Response)
                   and response.timeout is not Ellipsis else self.app.config["RESPONSE_TIMEOUT"])
        with trio.move_on_after(float("inf") if timeout is None else timeout):
            await self._send_response(send, response)

    async def _receive_body(self, request, receive) -> bool:
        """Feed the whole body into `request.body`; False when the client disconnected."""
        limit = self.app.config["MAX_CONTENT_LENGTH"]
        received = 0
        with trio.move_on_after(self.app.config["BODY_TIMEOUT"] or float("inf")):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return False
                if message["type"] != "http.request":
                    continue
                chunk = message.get("body", b"")
                received += len(chunk)
                request.body.append(chunk)  # past the limit, Quart's body turns into a 413
                if not message.get("more_body", False) or (limit and received > limit):
                    request.body.set_complete()
                    return True
        # The body did not arrive in time: the view's read of it answers 408 at once.
        request.body_timeout = 0
        return True

    async def _send_response(self, send, response) -> None:
        body = response.response if isinstance(response, Response) else None
        if not isinstance(body, DataBody):
            await super()._send_response(send, response)  # streamed or Werkzeug bodies
            return
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": encode_headers(response.headers)})
        await send({"type": "http.response.body", "body": body.data[body.begin:body.end],
                    "more_body": False})


"""Run an ASGI app on Hypercorn's trio worker with working idle/slow-client timeouts.

Written against Hypercorn 0.18.0 (trio worker) and Quart-Trio 0.12.0.

The defect: when the app sends the last body message, Hypercorn finishes the response
*inside that ``send()`` call*: it hands ``http.disconnect`` to the app's receive channel and
then re-arms the keep-alive idle timer (``TrioSingleTask.restart``). Quart-Trio reacts to the
disconnect by cancelling its per-request nursery, which contains the task doing that very
``send()``. The next checkpoint in ``restart()`` (the ``trio.Lock`` acquire, or the
``nursery.start`` of the idle task, which still runs under the cancelled scope) raises
``Cancelled``, so the idle timer is never started and an idle keep-alive connection stays
open forever.

The fix (no Hypercorn internals are patched): ``ShieldedSendApp`` wraps the app and runs every
HTTP ``send()`` in a shielded cancel scope, so Hypercorn's per-response bookkeeping always runs
to completion. Nothing is lost by the shield: Hypercorn already shields the socket write
itself, so ``send()`` could not be interrupted at its only long wait anyway.

Which timeout closes which slow client (Hypercorn 0.18 behaviour, verified by tests):

* connects and sends nothing: the idle timer armed at accept (``keep_alive_timeout``), and
  ``read_timeout`` on each socket read;
* sends part of the request line/headers and stalls (or trickles them): the idle timer, which
  partial data does not reset; ``read_timeout`` if it goes fully silent;
* idle after a response: the idle timer, re-armed thanks to the fix;
* stalls mid-body: the idle timer is stopped once the headers are complete, so only
  ``read_timeout`` applies. Hypercorn applies ``read_timeout`` to every read, even while a
  handler is still working, so it must exceed the slowest handler. A body trickled faster than
  ``read_timeout`` is bounded by the app (Quart's ``BODY_TIMEOUT``), not by Hypercorn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve as hypercorn_serve

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]


class ShieldedSendApp:
    """ASGI wrapper whose HTTP ``send()`` calls cannot be cancelled by the app itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        # Lifespan and websocket traffic never re-arms the idle timer; pass it through as is.
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def shielded_send(message: dict[str, Any]) -> None:
            with trio.CancelScope(shield=True):
                await send(message)

        await self.app(scope, receive, shielded_send)


def build_config(
    *, bind: list[str], keep_alive_timeout: float, read_timeout: float, graceful_timeout: float
) -> Config:
    config = Config()
    config.bind = list(bind)
    config.accesslog = None
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
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``asgi_app`` until ``shutdown_trigger`` returns, then shut down gracefully.

    Reports the actually bound "host:port" addresses via ``task_status.started`` (so port 0
    can be used). In-flight requests get ``graceful_timeout`` seconds to finish.
    """
    config = build_config(
        bind=bind,
        keep_alive_timeout=keep_alive_timeout,
        read_timeout=read_timeout,
        graceful_timeout=graceful_timeout,
    )
    run_server = partial(
        hypercorn_serve,
        ShieldedSendApp(asgi_app),
        config,
        shutdown_trigger=shutdown_trigger,
        mode="asgi",
    )
    # Hypercorn's started() value is a list of URLs; start it underneath us to translate it.
    async with trio.open_nursery() as nursery:
        bound_urls = await nursery.start(run_server)
        task_status.started([strip_scheme(url) for url in bound_urls])

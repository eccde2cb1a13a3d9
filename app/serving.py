"""Run an ASGI app on Hypercorn's trio worker with working idle/slow-client timeouts.

Written against Hypercorn 0.18.0 (trio worker) and Quart-Trio 0.12.0.

The defect: when the app sends its last body message, Hypercorn finishes the response *inside
that send()*: it hands ``http.disconnect`` to the app's receive channel, then either re-arms
the keep-alive idle timer (``TrioSingleTask.restart``) or closes the connection (client sent
``Connection: close``, or shutdown is under way). Quart-Trio reacts to the disconnect by
cancelling its per-request nursery, which contains the task doing that very send(). The next
checkpoint (the ``trio.Lock`` in ``restart()``, the ``nursery.start`` of the idle task, or
``send_eof``) raises ``Cancelled``: no idle timer, no close, the connection stays open forever.

The fix (no Hypercorn internals are patched): ``ShieldedSendApp`` runs every HTTP send() of
the app in a shielded cancel scope, so that bookkeeping always completes. The shield adds no
new unbounded wait: Hypercorn already shields the socket write, and the only other wait
(queueing ``http.disconnect``) is drained by Quart-Trio's receive loop.

Which timeout bounds which slow client (measured on Hypercorn 0.18, see tests):

* connects and sends nothing, or sends part of the request head and stalls or trickles it,
  or goes idle after a response: the idle timer (``keep_alive_timeout``). Partial data does
  not reset it. ``read_timeout`` alone does not close these: the reader stops, but the
  connection is only torn down when the idle timer ends.
* stalls mid-body: the idle timer is stopped once the head is complete, so ``read_timeout``
  closes it. Hypercorn applies ``read_timeout`` to every read, also while a handler works on a
  complete request, so it must exceed the slowest handler or that response is lost.
  A body trickled faster than ``read_timeout`` is bounded by the app (Quart's BODY_TIMEOUT).
* never reads a response larger than the socket buffers: NOT bounded. Hypercorn shields the
  socket write, so the connection is held and even graceful shutdown waits for it. Not fixed
  here (it needs a patched TCPServer); small JSON responses never reach that state.
"""

from __future__ import annotations

import logging
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

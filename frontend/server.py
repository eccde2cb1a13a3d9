"""Serving the front-end: one trio run, Hypercorn's protocol layer through Tessera's generic
connection loop (`app.serving`, which fixes Hypercorn's keep-alive defect; it holds no
Tessera logic — the front-end still reaches Tessera only over HTTP)."""

import signal

import structlog
import trio

from app.serving import serve
from frontend.app import create_app
from frontend.config import FrontendSettings

_log = structlog.get_logger("frontend")


async def run(settings: FrontendSettings, shutdown: trio.Event, service_name: str = "Tessera",
              task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Serve until `shutdown` is set; reports the bound "host:port" through task_status."""
    app = create_app(settings, service_name)
    try:
        await serve(app, bind=[settings.bind], keep_alive_timeout=5.0, read_timeout=10.0,
                    graceful_timeout=5.0, shutdown_trigger=shutdown.wait,
                    task_status=task_status)
    except OSError as error:   # raised while binding, before anything is served
        raise RuntimeError(f"cannot listen on {settings.bind}: {error.strerror}") from error


async def set_on_signal(shutdown: trio.Event) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            shutdown.set()
            return


async def serve_until_signal(settings: FrontendSettings) -> None:
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(set_on_signal, shutdown)
        bound = await nursery.start(run, settings, shutdown)
        print(f"Tessera front-end: http://{bound[0]} (issuer {settings.public_url})",
              flush=True)
        await shutdown.wait()
        _log.info("frontend.stopping")

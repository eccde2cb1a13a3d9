"""One API node: settings → storage → actors → HTTP, and an orderly shutdown (ARCHITECTURE.md)."""

import gc
import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import structlog
import trio

from actors.cache_invalidator import CacheInvalidator
from actors.key_manager import KeyManager
from actors.rate_limiter import RateLimiter
from actors.supervisor import Supervisor
from actors.token_reaper import TokenReaper
from app import bootstrap
from app.config import Settings
from app.http.app import create_app
from app.http.context import NodeContext
from app.protocol.ports import SystemClock
from app.serving import serve
from app.workers import SINGLE, WorkerRole, rate_limit_share, set_on_signal
from storage import EntityCache, Sealer, load_master_key, open_storage, tortoise_config

_log = structlog.get_logger("tessera.node")


@dataclass(frozen=True)
class NodeStarted:
    addresses: list[str]
    owner_api_key: str
    owner_api_secret: str
    demo: bootstrap.DemoCredentials | None
    context: NodeContext = field(repr=False)


def storage_config(settings: Settings) -> dict:
    database = settings.database
    return tortoise_config(database.url, sqlite_synchronous=database.sqlite_synchronous,
                           sqlite_busy_timeout_ms=database.sqlite_busy_timeout_ms)


def make_sealer(settings: Settings) -> Sealer:
    security = settings.security
    _prepare_sqlite_directory(settings.database.url)
    return Sealer(load_master_key(security.master_key_env, security.dev_key_file,
                                  security.allow_dev_key))


def make_cache(settings: Settings) -> EntityCache | None:
    cache = settings.cache
    return EntityCache(ttl=cache.ttl, max_entries=cache.max_entries) if cache.enabled else None


def _prepare_sqlite_directory(url: str) -> None:
    if url.startswith("sqlite://") and url != "sqlite://:memory:":
        Path(url[len("sqlite://"):].split("?")[0]).parent.mkdir(parents=True, exist_ok=True)


async def run_node(settings: Settings, *, shutdown: trio.Event | None = None,
                   role: WorkerRole = SINGLE,
                   task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Run until `shutdown` is set (or SIGTERM/SIGINT arrives), then stop gracefully.

    `role`: this process's place among the worker processes sharing the port (app/workers.py).
    """
    shutdown = trio.Event() if shutdown is None else shutdown
    sealer = make_sealer(settings)
    async with open_storage(storage_config(settings), sealer,
                            migrate_first=settings.database.migrate_on_start,
                            cache=make_cache(settings)) as storage, \
            trio.open_nursery() as nursery:
        context = await _start_actors(settings, storage, Supervisor(nursery), role)
        started = await _bootstrap(settings, storage, context)
        addresses = await nursery.start(_serve, create_app(context), settings, shutdown,
                                        nursery.cancel_scope, role.count > 1)
        nursery.start_soon(set_on_signal, shutdown, "node.stopping")
        context.ready = True
        _tune_gc()
        _log.info("node.started", addresses=addresses, node=context.node_id)
        task_status.started(NodeStarted(addresses, started.api_key, started.api_secret,
                                        context.extras.get("demo"), context))
    _log.info("node.stopped")


async def _start_actors(settings: Settings, storage, supervisor: Supervisor,
                        role: WorkerRole) -> NodeContext:
    clock = SystemClock()
    node_id = f"{socket.gethostname()}:{os.getpid()}"
    key_manager = KeyManager(storage, settings.keys, clock, node_id)
    await supervisor.start("key_manager", key_manager.run)
    rate_limiter = RateLimiter(rate_limit_share(settings.rate_limit, role.count))
    await supervisor.start("rate_limiter", rate_limiter.run)
    if settings.cache.enabled:
        invalidator = CacheInvalidator(storage, settings.cache, clock)
        await supervisor.start("cache_invalidator", invalidator.run)
    if settings.reaper.enabled:
        reaper = TokenReaper(storage, settings.reaper, clock, node_id)
        await supervisor.start("token_reaper", reaper.run)
    return NodeContext(settings=settings, storage=storage, key_manager=key_manager,
                       rate_limiter=rate_limiter, clock=clock, node_id=node_id,
                       started_at_ms=clock.now_ms())


async def _bootstrap(settings: Settings, storage, context: NodeContext):
    now = context.clock.now_ms()
    owner = await bootstrap.ensure_owner(storage, settings, now)
    if settings.demo.enabled:
        context.extras["demo"] = await bootstrap.ensure_demo(
            storage, context.key_manager, owner, Path(settings.demo.credentials_file), now)
    return owner


async def _serve(app, settings: Settings, shutdown: trio.Event, cancel_scope, reuse_port: bool,
                 task_status=trio.TASK_STATUS_IGNORED) -> None:
    server = settings.server
    await serve(app, bind=[server.bind], keep_alive_timeout=server.keep_alive_timeout,
                read_timeout=server.read_timeout, graceful_timeout=server.grace_period,
                shutdown_trigger=shutdown.wait, reuse_port=reuse_port, task_status=task_status)
    # In-flight requests are done: stop the actors and close storage.
    cancel_scope.cancel()


def _tune_gc() -> None:
    # Start-up objects never die: freezing them keeps every collection shorter
    # (performance-notes.md: p99 halves).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def start_banner(started: NodeStarted) -> str:
    base = f"http://{started.addresses[0]}" if started.addresses else "(not bound)"
    # Not the owner's secret: stdout is usually collected with the logs, and secrets are never
    # logged (`python -m app owner show` prints it on demand).
    lines = [f"Tessera API: {base}/api",
             f"  service owner  api_key={started.owner_api_key} "
             "(api_secret: python -m app owner show)"]
    if started.demo is not None:
        lines.append("  demo credentials: " + json.dumps(started.demo.as_dict()))
    return "\n".join(lines)



"""Opening and closing Tortoise on the trio-asyncio loop, and running migrations."""

from contextlib import asynccontextmanager

import structlog
import trio
import trio_asyncio
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from storage.bridge import Bridge

_log = structlog.get_logger("tessera.storage")
APP_LABEL = "tessera"


def tortoise_config(url: str, *, sqlite_synchronous: str = "FULL",
                    sqlite_busy_timeout_ms: int = 5000) -> dict:
    return {
        "connections": {
            "default": _connection_url(url, sqlite_synchronous, sqlite_busy_timeout_ms),
        },
        "apps": {
            APP_LABEL: {
                "models": ["storage.models"],
                "migrations": "storage.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": False,
    }


def _connection_url(url: str, synchronous: str, busy_timeout_ms: int) -> str:
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://"):]
    if not url.startswith("sqlite://") or "?" in url:
        return url
    # WAL lets readers proceed during a write; FULL makes every commit durable on power loss.
    return f"{url}?journal_mode=WAL&synchronous={synchronous}&busy_timeout={busy_timeout_ms}"


@asynccontextmanager
async def open_database(config: dict, *, migrate_first: bool):
    """Open a trio-asyncio loop and a Tortoise context on it; migrate when asked; yield the
    bridge; close the connections on exit, even when the caller is being cancelled."""
    # Tortoise caches each model's SQL per connection name for the life of the process; a new
    # database may speak another dialect (SQLite after PostgreSQL in one test run).
    EXECUTOR_CACHE.clear()
    async with trio_asyncio.open_loop() as loop:
        bridge = Bridge(TortoiseContext(), loop)
        if migrate_first:
            await bridge.call(_migrate, bridge.context, config)
        await bridge.call(bridge.context.init, config)
        try:
            yield bridge
        finally:
            with trio.move_on_after(5) as cleanup:
                cleanup.shield = True
                await bridge.call(bridge.context.close_connections)


async def _migrate(context: TortoiseContext, config: dict) -> None:
    # The migration API initialises Tortoise on the current context; ours is entered by the
    # bridge, and its connections are closed again before the real initialisation.
    await migrate(config=config)
    await context.close_connections()
    _log.info("storage.migrated")


async def run_migrations(config: dict) -> None:
    """Apply pending migrations (the `migrate` CLI command)."""
    async with open_database(config, migrate_first=True):
        pass

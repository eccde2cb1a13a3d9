"""Opening and closing Tortoise on the trio-asyncio loop, and running migrations."""

from contextlib import asynccontextmanager

import structlog
import trio_asyncio
from tortoise import Tortoise
from tortoise.migrations.api import migrate

from storage import bridge

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
    """Open a trio-asyncio loop and Tortoise on it; migrate when asked; close on exit."""
    async with trio_asyncio.open_loop():
        if migrate_first:
            await bridge.call(_migrate, config)
        await bridge.call(_init, config)
        try:
            yield
        finally:
            await bridge.call(Tortoise.close_connections)


async def _init(config: dict) -> None:
    # Connections live in a contextvar; the global fallback makes them visible to every trio task
    # that crosses the bridge, not only to the asyncio task that opened them.
    await Tortoise.init(config=config, _enable_global_fallback=True)


async def _migrate(config: dict) -> None:
    await migrate(config=config)
    await Tortoise.close_connections()
    _log.info("storage.migrated")


async def run_migrations(config: dict) -> None:
    """Apply pending migrations (the `migrate` CLI command)."""
    async with trio_asyncio.open_loop():
        await bridge.call(_migrate, config)

"""Opening and closing Tortoise on the trio-asyncio loop, and running migrations."""

import sqlite3
from contextlib import asynccontextmanager, closing

import structlog
import trio
import trio_asyncio
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from storage.bridge import Bridge
from storage.errors import StorageError

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


def _connection_url(url: str, synchronous: str, busy_timeout_ms: int) -> str | dict:
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://"):]
    if url.startswith("postgres://"):
        return _postgres_connection(url)
    if not url.startswith("sqlite://"):
        return url
    if "?" not in url:
        # WAL lets readers proceed during a write; FULL makes every commit durable on power loss.
        url = f"{url}?journal_mode=WAL&synchronous={synchronous}&busy_timeout={busy_timeout_ms}"
    connection = expand_db_url(url)
    connection["engine"] = "storage.sqlite_backend"  # BEGIN IMMEDIATE (see that module)
    return connection


def _postgres_connection(url: str) -> dict:
    connection = expand_db_url(url)
    credentials = connection["credentials"]
    # asyncpg arms an asyncio timer each time a pooled connection goes idle (to close it after
    # 5 min) and for each cached statement; trio-asyncio's loop keeps cancelled timers until
    # they are due, so under load they pile up by the thousand. Connections are kept (the pool
    # is small) and statements cached without expiry (the cache is bounded in size).
    credentials.setdefault("max_inactive_connection_lifetime", 0.0)
    credentials.setdefault("max_cached_statement_lifetime", 0)
    return connection


@asynccontextmanager
async def open_database(config: dict, *, migrate_first: bool):
    """Open a trio-asyncio loop and a Tortoise context on it; migrate when asked; yield the
    bridge; close the connections on exit, even when the caller is being cancelled."""
    # Tortoise caches each model's SQL per connection name for the life of the process; a new
    # database may speak another dialect (SQLite after PostgreSQL in one test run).
    EXECUTOR_CACHE.clear()
    await _check_sqlite_file(config)
    async with trio_asyncio.open_loop() as loop:
        bridge = Bridge(TortoiseContext(), loop)
        try:
            failure = await _open(bridge, config, migrate_first)
            if failure is None:
                yield bridge
        finally:
            with trio.move_on_after(5) as cleanup:
                cleanup.shield = True
                await bridge.call(bridge.context.close_connections)
    if failure is not None:
        # Raised here, outside the loop's nurseries, so that callers catch a bare StorageError
        # rather than one wrapped in two exception groups.
        raise failure


async def _open(bridge: Bridge, config: dict, migrate_first: bool) -> StorageError | None:
    try:
        if migrate_first:
            await bridge.call(_migrate, bridge.context, config)
        await bridge.call(_connect, bridge.context, config)
    except StorageError as error:
        return error
    return None


async def _connect(context: TortoiseContext, config: dict) -> None:
    await context.init(config)
    # Tortoise connects lazily; one round trip makes an unreachable database fail here, at open.
    await context.db().execute_query("SELECT 1")


async def _check_sqlite_file(config: dict) -> None:
    """Fail fast when the SQLite file cannot be opened.

    tortoise-orm 1.1.9's SQLite client keeps its connection lock when the first connect fails, and
    the migration recorder swallows that failure, so the next statement would wait forever.
    """
    connection = config["connections"]["default"]
    if not isinstance(connection, dict) or connection["engine"] != "storage.sqlite_backend":
        return
    path = connection["credentials"]["file_path"]
    try:
        await trio.to_thread.run_sync(_read_sqlite_header, path)
    except sqlite3.Error as error:
        raise StorageError(f"cannot open the SQLite database {path}: {error}") from None


def _read_sqlite_header(path: str) -> None:
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA schema_version").fetchone()  # fails on a non-database file


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

"""The one place where trio code crosses into asyncio to reach Tortoise ORM.

Tortoise 1.x keeps its connections in a `TortoiseContext` looked up through a contextvar. An ORM
call made from a trio task runs in a fresh asyncio task that would not see a context set up in
another task, so the bridge enters this storage's own context on every crossing. That also keeps
two storages in one process (tests running two nodes) apart.

Each crossing costs 70-110 µs (../shared/reference/performance-notes.md), so repositories make one
crossing per operation and do all of an operation's queries on the asyncio side. Driver and ORM
exceptions are translated here; nothing above storage/ sees an asyncpg, sqlite3 or Tortoise error.
"""

import asyncio
import contextvars
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import structlog
import trio_asyncio
from tortoise.context import TortoiseContext, _current_context
from tortoise.exceptions import BaseORMException, DoesNotExist, IntegrityError

from storage.errors import ConflictError, NotFoundError, StorageError

T = TypeVar("T")
_log = structlog.get_logger("tessera.storage")


class Bridge:
    def __init__(self, context: TortoiseContext, loop) -> None:
        self.context = context
        self._loop = loop  # explicit, so trio tasks outside the loop's scope can cross too

    async def call(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run the asyncio coroutine function `function(*args)` from trio, translating failures.

        The asyncio task starts from an empty contextvars context, not a copy of the caller's:
        asyncio callbacks the drivers leave behind (asyncpg's timers, cancelled or not, live on
        in the loop until they are due) then cannot keep a request's context, and with it the
        whole request, alive."""
        coroutine = self._in_context(function, *args)
        try:
            task = contextvars.Context().run(asyncio.ensure_future, coroutine, loop=self._loop)
        except BaseException:
            coroutine.close()
            raise
        try:
            return await trio_asyncio.run_aio_future(task)
        except (BaseORMException, asyncpg.PostgresError, sqlite3.Error, OSError) as error:
            raise self.translate(error) from None

    @staticmethod
    def translate(error: BaseException) -> BaseException:
        """The storage error for a driver or ORM exception; any other exception unchanged."""
        if isinstance(error, IntegrityError):
            return ConflictError(_first_line(error))
        if isinstance(error, DoesNotExist):
            return NotFoundError(_first_line(error))
        if isinstance(error, (BaseORMException, asyncpg.PostgresError, sqlite3.Error, OSError)):
            _log.error("storage.failed", error_type=type(error).__name__,
                       error=_first_line(error))
            return StorageError(f"database operation failed: {type(error).__name__}")
        return error

    async def _in_context(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        # Each crossing is its own asyncio task with its own copy of the contextvars, so setting
        # the variable needs no reset. (`with context:` would keep its reset token on the shared
        # context object, which concurrent crossings overwrite.)
        _current_context.set(self.context)
        return await function(*args)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__

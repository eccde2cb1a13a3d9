"""The one place where trio code crosses into asyncio to reach Tortoise ORM.

Each crossing costs 70-110 µs (../shared/reference/performance-notes.md), so repositories make one
crossing per operation and do all of an operation's queries on the asyncio side. Driver and ORM
exceptions are translated here; nothing above storage/ sees an asyncpg, sqlite3 or Tortoise error.
"""

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import structlog
import trio_asyncio
from tortoise.exceptions import (
    BaseORMException,
    DoesNotExist,
    IntegrityError,
)

from storage.errors import ConflictError, NotFoundError, StorageError

T = TypeVar("T")
_log = structlog.get_logger("tessera.storage")


async def call(function: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run the asyncio coroutine function `function(*args)` from trio, translating failures."""
    try:
        return await trio_asyncio.aio_as_trio(function)(*args)
    except IntegrityError as error:
        raise ConflictError(_first_line(error)) from None
    except DoesNotExist as error:
        raise NotFoundError(_first_line(error)) from None
    except (BaseORMException, asyncpg.PostgresError, sqlite3.Error, OSError) as error:
        _log.error("storage.failed", error_type=type(error).__name__, error=_first_line(error))
        raise StorageError(f"database operation failed: {type(error).__name__}") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__

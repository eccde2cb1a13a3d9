"""Tortoise's SQLite backend with write transactions that take the write lock when they begin.

Written against tortoise-orm 1.1.9. Tortoise opens transactions with a plain (deferred) `BEGIN`:
the transaction reads as of its first statement and asks for the write lock only at its first
write. With several processes on one database file (`[server] workers`), another process may have
committed in between; SQLite then refuses the write at once with SQLITE_BUSY ("database is
locked") instead of waiting, because the reader's snapshot is stale
(https://www.sqlite.org/lang_transaction.html, "BEGIN IMMEDIATE"). `BEGIN IMMEDIATE` takes the
write lock up front, so a transaction that must wait does so under `busy_timeout`, and its reads
see the latest commit. Within one process Tortoise already serialises transactions on its single
connection, so nothing else changes.

Selected by `tortoise_config()` as the engine of every sqlite:// URL.
"""

import sqlite3

from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise TransactionManagementError(error) from error


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> SqliteTransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient

"""Shared fixtures: real databases (SQLite file, PostgreSQL when configured) and real nodes.

PostgreSQL tests run when TESSERA_TEST_POSTGRES_URL points at a server whose user may create
databases (CI sets it; each test gets a fresh database). Without it they are skipped with a
one-line reason. With it set but unreachable they fail.
"""

import asyncio
import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

POSTGRES_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "")
SKIP_REASON = "TESSERA_TEST_POSTGRES_URL not set (PostgreSQL tests need a server)"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_REASON)
    name = f"tessera_test_{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    yield _with_database(POSTGRES_URL, name)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite://{tmp_path}/tessera.sqlite3"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")

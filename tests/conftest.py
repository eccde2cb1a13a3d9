"""Shared fixtures: real databases (SQLite file, PostgreSQL when configured) and real nodes.

PostgreSQL tests run when TESSERA_TEST_POSTGRES_URL points at a server whose user may create
databases (CI sets it; each test gets a fresh database). Without it they are skipped with a
one-line reason. With it set but unreachable they fail.
"""

import asyncio
import os
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import trio

from app.node import run_node
from tests.support import node_settings

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


@dataclass
class RunningNode:
    base_url: str
    http: httpx.AsyncClient
    settings: object
    started: object

    @property
    def owner_key(self) -> str:
        return self.started.owner_api_key


@pytest.fixture
async def node(nursery, database_url, tmp_path):
    """A real node (HTTP on loopback) inside the test's trio run, on SQLite and on PostgreSQL."""
    async with _running_node(nursery, node_settings(database_url, tmp_path)) as running:
        yield running


@pytest.fixture
async def sqlite_node(nursery, sqlite_url, tmp_path):
    """A real node on SQLite only, for tests whose subject is not storage."""
    async with _running_node(nursery, node_settings(sqlite_url, tmp_path)) as running:
        yield running


@asynccontextmanager
async def _running_node(nursery, settings):
    shutdown, stopped = trio.Event(), trio.Event()
    started = await nursery.start(_node_task, settings, shutdown, stopped)
    base_url = f"http://{started.addresses[0]}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield RunningNode(base_url, http, settings, started)
    shutdown.set()
    with trio.fail_after(30):
        await stopped.wait()


async def _node_task(settings, shutdown, stopped, task_status=trio.TASK_STATUS_IGNORED):
    try:
        await run_node(settings, shutdown=shutdown, task_status=task_status)
    finally:
        stopped.set()

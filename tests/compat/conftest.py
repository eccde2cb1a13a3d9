"""A real Tessera node process per compatibility module and database (SQLite, PostgreSQL)."""

import asyncio
import secrets

import pytest

from tests.compat.nodes import TesseraNode
from tests.conftest import POSTGRES_URL, SKIP_REASON, _admin, _with_database
from tests.support import start_node_process, write_config


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def node(request, tmp_path_factory):
    """One node process per module and database; the database is dropped afterwards."""
    module = request.module.__name__.rpartition(".")[2]
    directory = tmp_path_factory.mktemp(f"{module}-{request.param}")
    if request.param == "sqlite":
        database_url, drop = f"sqlite://{directory}/tessera.sqlite3", None
    else:
        if not POSTGRES_URL:
            pytest.skip(SKIP_REASON)
        name = f"tessera_test_{secrets.token_hex(6)}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        database_url, drop = _with_database(POSTGRES_URL, name), name
    config = write_config(directory / "config.toml", database_url)
    try:
        process = start_node_process(config, directory / "node.log")
        try:
            yield TesseraNode(process, config)
        finally:
            process.stop()
    finally:
        if drop:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)'))

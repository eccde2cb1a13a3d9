"""Encryption at rest: what a copy of the database reveals, and where the master key comes from.

ARCHITECTURE.md, "Storage rules": tokens are stored as SHA-256 digests, never as values; client
secrets, API secrets and private keys are sealed with AES-GCM under the master key. The database is
read here with its own driver (sqlite3, asyncpg), the way someone holding a dump would read it.
"""

import asyncio
import base64
import contextlib
import hashlib
import os
import secrets
import sqlite3
import stat
from pathlib import Path

import asyncpg
import pytest
import trio
from joserfc.jwk import ECKey
from structlog.testing import capture_logs

from app.protocol.ports import ClientRecord, SigningKeyRecord
from storage import (
    MasterKeyError,
    Sealer,
    Storage,
    generate_master_key,
    load_master_key,
    open_storage,
    tortoise_config,
)

NOW = 1_767_225_600_000
MASTER_KEY = bytes(range(32))
OTHER_MASTER_KEY = bytes(range(32, 64))
ENV = "TESSERA_MASTER_KEY"
OWNER_KEY = "owner-key"
SERVICE_KEY = 1001
CLIENT_ID = 501
KID = "kid-es256-1"


class Secrets:
    """Distinct random values, so that finding one in a dump cannot be a coincidence."""

    def __init__(self) -> None:
        self.owner_secret = f"owner-{secrets.token_urlsafe(24)}"
        self.service_secret = f"service-{secrets.token_urlsafe(24)}"
        self.client_secret = f"client-{secrets.token_urlsafe(24)}"
        self.access_token = f"token-{secrets.token_urlsafe(24)}"
        self.private_jwk = ECKey.generate_key("P-256", parameters={"kid": KID}).as_dict(
            private=True)

    def plaintexts(self) -> dict[str, str]:
        return {"owner api secret": self.owner_secret,
                "service api secret": self.service_secret,
                "client secret": self.client_secret,
                "access token": self.access_token,
                "private key d": self.private_jwk["d"]}


# -- reading the database as a dump would --------------------------------------------------------

def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite://")


def _dump(url: str) -> str:
    """Every row of every table, as text."""
    if url.startswith("sqlite://"):
        with contextlib.closing(sqlite3.connect(_sqlite_path(url))) as connection:
            tables = [name for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
            return "\n".join(f"{table}: {row!r}" for table in tables
                             for row in connection.execute(f'SELECT * FROM "{table}"'))  # noqa: S608
    return asyncio.run(_postgres_dump(url))


async def _postgres_dump(url: str) -> str:
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        tables = [row["table_name"] for row in await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
        lines = [f"{table}: {tuple(row)!r}" for table in tables
                 for row in await connection.fetch(f'SELECT * FROM "{table}"')]  # noqa: S608
        return "\n".join(lines)
    finally:
        await connection.close()


def _execute(url: str, statement: str) -> None:
    if url.startswith("sqlite://"):
        with contextlib.closing(sqlite3.connect(_sqlite_path(url))) as connection:
            connection.execute(statement)
            connection.commit()
        return
    asyncio.run(_postgres_execute(url, statement))


async def _postgres_execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def dump(url: str) -> str:
    return await trio.to_thread.run_sync(_dump, url)


async def execute(url: str, statement: str) -> None:
    await trio.to_thread.run_sync(_execute, url, statement)


def stored_files(url: str) -> bytes:
    """The SQLite database's bytes on disk, WAL and shared memory included."""
    path = Path(_sqlite_path(url))
    return b"".join(candidate.read_bytes() for candidate in
                    (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
                    if candidate.exists())


# -- writing through the repositories -------------------------------------------------------------

def opened(url: str, master_key: bytes = MASTER_KEY):
    return open_storage(tortoise_config(url), Sealer(master_key), migrate_first=True)


async def write_everything(storage: Storage, values: Secrets) -> None:
    owner = await storage.owners.ensure(OWNER_KEY, values.owner_secret, NOW)
    await storage.services.create(owner.id, SERVICE_KEY, values.service_secret,
                                  {"serviceName": "sealed"}, NOW)
    for client_id in (CLIENT_ID, CLIENT_ID + 1):
        await storage.clients.create(ClientRecord(
            client_id=client_id, number=0, service_api_key=SERVICE_KEY,
            client_secret=f"{values.client_secret}-{client_id}", client_id_alias=None,
            developer=None, locked=False, document={}, created_at=NOW, modified_at=NOW))
    public_jwk = {name: value for name, value in values.private_jwk.items() if name != "d"}
    await storage.signing_keys.insert(SigningKeyRecord(
        kid=KID, service_api_key=SERVICE_KEY, alg="ES256", state="current",
        public_jwk=public_jwk, private_jwk=values.private_jwk, published_at=NOW))
    await storage.access_tokens.create(values.access_token, owner.id, SERVICE_KEY, "", NOW)


@pytest.fixture
def values() -> Secrets:
    return Secrets()


# -- what the database holds ----------------------------------------------------------------------

async def test_a_dump_holds_no_secret_token_or_private_key(database_url, values):
    async with opened(database_url) as storage:
        await write_everything(storage, values)

    text = await dump(database_url)

    for name, plaintext in values.plaintexts().items():
        assert plaintext not in text, f"the {name} is stored in clear"
    digest = hashlib.sha256(values.access_token.encode()).hexdigest()
    assert f"'{digest}'" in text
    # The dump is complete: the public half of the key and the non-secret identifiers are there.
    assert values.private_jwk["x"] in text
    assert OWNER_KEY in text


async def test_the_token_is_stored_only_as_its_sha256_digest(database_url, values):
    async with opened(database_url) as storage:
        await write_everything(storage, values)

    [row] = [line for line in (await dump(database_url)).splitlines()
             if line.startswith("api_access_tokens:")]

    assert row.startswith(
        f"api_access_tokens: ('{hashlib.sha256(values.access_token.encode()).hexdigest()}', ")
    assert values.access_token not in row


async def test_sqlite_files_on_disk_hold_no_plaintext(sqlite_url, values):
    async with opened(sqlite_url) as storage:
        await write_everything(storage, values)
        on_disk_while_open = stored_files(sqlite_url)
    on_disk_after_close = stored_files(sqlite_url)

    for content in (on_disk_while_open, on_disk_after_close):
        for name, plaintext in values.plaintexts().items():
            assert plaintext.encode() not in content, f"the {name} is on disk in clear"


async def test_the_right_master_key_reads_everything_back(database_url, values):
    async with opened(database_url) as storage:
        await write_everything(storage, values)

    async with opened(database_url) as storage:
        owner = await storage.owners.by_api_key(OWNER_KEY)
        service = await storage.services.get(SERVICE_KEY)
        client = await storage.clients.get(SERVICE_KEY, CLIENT_ID)
        [key] = await storage.signing_keys.all()

    assert owner.api_secret == values.owner_secret
    assert service.api_secret == values.service_secret
    assert client.client_secret == f"{values.client_secret}-{CLIENT_ID}"
    assert key.private_jwk == values.private_jwk


READERS = {
    "client": (lambda storage: storage.clients.get(SERVICE_KEY, CLIENT_ID), f"client:{CLIENT_ID}"),
    "service": (lambda storage: storage.services.get(SERVICE_KEY), f"service:{SERVICE_KEY}"),
    "owner": (lambda storage: storage.owners.by_api_key(OWNER_KEY), f"owner:{OWNER_KEY}"),
    "signing-key": (lambda storage: storage.signing_keys.all(), f"key:{KID}"),
}


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
async def test_another_master_key_fails_loudly_naming_the_value(database_url, values, reader):
    read, context = reader
    async with opened(database_url) as storage:
        await write_everything(storage, values)

    async with opened(database_url, OTHER_MASTER_KEY) as storage:
        with pytest.raises(MasterKeyError) as raised:
            await read(storage)

    assert str(raised.value) == (
        f"sealed value for {context} does not open with this master key")


async def test_a_sealed_secret_copied_to_another_row_does_not_open(database_url, values):
    async with opened(database_url) as storage:
        await write_everything(storage, values)
    await execute(database_url, f"""
        UPDATE clients SET client_secret_sealed =
            (SELECT client_secret_sealed FROM clients WHERE client_id = {CLIENT_ID})
        WHERE client_id = {CLIENT_ID + 1}""")  # noqa: S608

    async with opened(database_url) as storage:
        original = await storage.clients.get(SERVICE_KEY, CLIENT_ID)
        with pytest.raises(MasterKeyError) as raised:
            await storage.clients.get(SERVICE_KEY, CLIENT_ID + 1)

    assert original.client_secret == f"{values.client_secret}-{CLIENT_ID}"
    assert f"client:{CLIENT_ID + 1}" in str(raised.value)


# -- where the master key comes from --------------------------------------------------------------

def _b64url(raw: bytes, *, padded: bool = False) -> str:
    encoded = base64.urlsafe_b64encode(raw).decode()
    return encoded if padded else encoded.rstrip("=")


KEY = bytes(range(100, 132))


@pytest.mark.parametrize("encoded", [
    pytest.param(_b64url(KEY), id="unpadded"),
    pytest.param(_b64url(KEY, padded=True), id="padded"),
    pytest.param(_b64url(KEY) + "\n", id="trailing-newline"),
])
def test_the_environment_variable_is_used_when_set(tmp_path, encoded):
    dev_key_file = tmp_path / "master.key"
    dev_key_file.write_text(_b64url(bytes(32)))

    key = load_master_key(ENV, str(dev_key_file), True, environ={ENV: encoded})

    assert key == KEY


def test_a_generated_master_key_loads(tmp_path):
    encoded = generate_master_key()

    key = load_master_key(ENV, str(tmp_path / "master.key"), False, environ={ENV: encoded})

    assert len(key) == 32
    assert _b64url(key) == encoded
    assert not (tmp_path / "master.key").exists()


@pytest.mark.parametrize("encoded, problem", [
    pytest.param(_b64url(bytes(16)), "must decode to 32 bytes", id="16-bytes"),
    pytest.param(_b64url(bytes(33)), "must decode to 32 bytes", id="33-bytes"),
    pytest.param("x", "is not base64url", id="not-base64url"),
])
def test_a_bad_environment_variable_is_refused_by_name(tmp_path, encoded, problem):
    with pytest.raises(MasterKeyError) as raised:
        load_master_key(ENV, str(tmp_path / "master.key"), True, environ={ENV: encoded})

    assert str(raised.value) == f"the master key in environment variable {ENV} {problem}"
    assert not (tmp_path / "master.key").exists()


def test_a_development_key_is_generated_once_with_mode_0600(tmp_path):
    dev_key_file = tmp_path / "state" / "master.key"

    with capture_logs() as logs:
        first = load_master_key(ENV, str(dev_key_file), True, environ={ENV: ""})
        second = load_master_key(ENV, str(dev_key_file), True, environ={})

    assert len(first) == 32
    assert second == first
    assert stat.S_IMODE(dev_key_file.stat().st_mode) == 0o600
    assert dev_key_file.read_text() == _b64url(first)
    assert [(entry["event"], entry["log_level"], entry["path"]) for entry in logs] == [
        ("security.dev_master_key", "warning", str(dev_key_file))] * 2


def test_development_keys_differ_between_files(tmp_path):
    one = load_master_key(ENV, str(tmp_path / "one.key"), True, environ={})
    two = load_master_key(ENV, str(tmp_path / "two.key"), True, environ={})

    assert one != two


@pytest.mark.parametrize("existing_file", [False, True], ids=["no-file", "file-present"])
def test_no_development_key_when_not_allowed(tmp_path, existing_file):
    dev_key_file = tmp_path / "master.key"
    if existing_file:
        dev_key_file.write_text(_b64url(KEY))

    with pytest.raises(MasterKeyError) as raised:
        load_master_key(ENV, str(dev_key_file), False, environ={})

    assert str(raised.value) == (
        f"environment variable {ENV} is not set and [security] allow_dev_key is false")
    assert dev_key_file.exists() is existing_file


def test_a_corrupt_development_key_file_is_refused_by_name(tmp_path):
    dev_key_file = tmp_path / "master.key"
    dev_key_file.write_text(_b64url(bytes(20)))

    with pytest.raises(MasterKeyError) as raised:
        load_master_key(ENV, str(dev_key_file), True, environ={})

    assert str(raised.value) == f"the master key in file {dev_key_file} must decode to 32 bytes"


@pytest.mark.parametrize("length", [0, 16, 31, 33])
def test_a_sealer_needs_a_32_byte_key(length):
    with pytest.raises(MasterKeyError):
        Sealer(os.urandom(length))

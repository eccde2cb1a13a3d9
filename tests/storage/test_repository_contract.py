"""The repositories' observable contract, run once on SQLite and once on PostgreSQL.

Every test goes through `open_storage` (migrations included) and checks what a caller sees: the
records returned, the errors raised, and, where the contract is about rows (cascades, "nothing
written"), the rows themselves, read straight from the database without Tortoise.
"""

import asyncio
import contextlib
import socket
import sqlite3
from dataclasses import replace

import asyncpg
import pytest
import trio

from app.protocol.ports import ClientRecord, OwnerRecord, Page, SigningKeyRecord
from storage import ConflictError, Sealer, Storage, StorageError, open_storage, tortoise_config

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z in epoch milliseconds
MASTER_KEY = bytes(range(32))
LEASE_MS = 30_000


# -- fixtures and helpers ------------------------------------------------------------------------

@pytest.fixture
async def storage(database_url):
    config = tortoise_config(database_url)
    async with open_storage(config, Sealer(MASTER_KEY), migrate_first=True) as opened:
        yield opened


@pytest.fixture
async def owner(storage: Storage) -> OwnerRecord:
    return await storage.owners.ensure("owner-key", "owner-secret", NOW)


def _raw_rows(url: str, statement: str) -> list[tuple]:
    """Rows read by the database's own driver, bypassing Tortoise and the bridge."""
    if url.startswith("sqlite://"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite://"))) as connection:
            return connection.execute(statement).fetchall()
    return asyncio.run(_postgres_rows(url, statement))


async def _postgres_rows(url: str, statement: str) -> list[tuple]:
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return [tuple(row) for row in await connection.fetch(statement)]
    finally:
        await connection.close()


async def raw_rows(url: str, statement: str) -> list[tuple]:
    # Its own thread and asyncio loop: the trio-asyncio loop belongs to the storage under test.
    return await trio.to_thread.run_sync(_raw_rows, url, statement)


async def row_count(url: str, table: str, where: str = "1 = 1") -> int:
    [(count,)] = await raw_rows(url, f"SELECT count(*) FROM {table} WHERE {where}")  # noqa: S608
    return count


async def new_service(storage: Storage, owner_id: int, api_key: int,
                      document: dict | None = None):
    return await storage.services.create(owner_id, api_key, f"secret-{api_key}",
                                         document or {"serviceName": f"s{api_key}"}, NOW)


def client_record(client_id: int, service_api_key: int, **changes) -> ClientRecord:
    record = ClientRecord(
        client_id=client_id, number=0, service_api_key=service_api_key,
        client_secret=f"client-secret-{client_id}", client_id_alias=None, developer="dev-a",
        locked=False, document={"clientName": f"c{client_id}"}, created_at=NOW, modified_at=NOW,
    )
    return replace(record, **changes)


def signing_key(kid: str, service_api_key: int, state: str, *, alg: str = "ES256",
                published_at: int = NOW, **changes) -> SigningKeyRecord:
    record = SigningKeyRecord(
        kid=kid, service_api_key=service_api_key, alg=alg, state=state,
        public_jwk={"kty": "EC", "kid": kid, "x": f"x-{kid}"},
        private_jwk={"kty": "EC", "kid": kid, "x": f"x-{kid}", "d": f"d-{kid}"},
        published_at=published_at,
    )
    return replace(record, **changes)


def states(keys: list[SigningKeyRecord]) -> dict[str, str]:
    return {key.kid: key.state for key in keys}


# -- owners ---------------------------------------------------------------------------------------

async def test_no_owner_yet(storage):
    assert await storage.owners.first() is None
    assert await storage.owners.by_api_key("owner-key") is None


async def test_owner_ensure_creates_then_returns_the_same_row(storage, database_url):
    created = await storage.owners.ensure("owner-key", "owner-secret", NOW)
    again = await storage.owners.ensure("owner-key", "owner-secret", NOW + 1)

    assert created == OwnerRecord(id=created.id, api_key="owner-key", api_secret="owner-secret")
    assert again == created
    assert await storage.owners.first() == created
    assert await storage.owners.by_api_key("owner-key") == created
    assert await row_count(database_url, "service_owners") == 1


async def test_owner_ensure_with_a_new_secret_replaces_it(storage, database_url):
    created = await storage.owners.ensure("owner-key", "old-secret", NOW)
    replaced = await storage.owners.ensure("owner-key", "new-secret", NOW + 1)

    assert replaced == OwnerRecord(id=created.id, api_key="owner-key", api_secret="new-secret")
    assert await storage.owners.by_api_key("owner-key") == replaced
    assert await row_count(database_url, "service_owners") == 1


async def test_owner_first_is_the_earliest_created(storage):
    first = await storage.owners.ensure("owner-b", "secret-b", NOW)
    second = await storage.owners.ensure("owner-a", "secret-a", NOW + 1)

    assert await storage.owners.first() == first
    assert await storage.owners.by_api_key("owner-a") == second
    assert await storage.owners.by_api_key("owner-c") is None


# -- services -------------------------------------------------------------------------------------

async def test_service_create_and_get(storage, owner):
    created = await storage.services.create(owner.id, 1001, "service-secret",
                                            {"serviceName": "one", "issuer": "https://as"}, NOW)

    assert created.api_key == 1001
    assert created.owner_id == owner.id
    assert created.api_secret == "service-secret"
    assert created.document == {"serviceName": "one", "issuer": "https://as"}
    assert (created.created_at, created.modified_at) == (NOW, NOW)
    assert await storage.services.get(1001) == created
    assert await storage.services.get(9999) is None


async def test_service_api_key_is_unique(storage, owner, database_url):
    await new_service(storage, owner.id, 1001)

    with pytest.raises(ConflictError):
        await new_service(storage, owner.id, 1001, {"serviceName": "duplicate"})
    assert (await storage.services.get(1001)).document == {"serviceName": "s1001"}
    assert await row_count(database_url, "services") == 1


async def test_service_page_is_the_owners_services_in_creation_order(storage, owner):
    other = await storage.owners.ensure("other-owner", "other-secret", NOW)
    for api_key in (1005, 1001, 1004):
        await new_service(storage, owner.id, api_key)
    await new_service(storage, other.id, 2001)
    for api_key in (1003, 1002):
        await new_service(storage, owner.id, api_key)

    whole = await storage.services.page(owner.id, 0, 100)
    middle = await storage.services.page(owner.id, 1, 3)
    beyond = await storage.services.page(owner.id, 5, 10)
    inverted = await storage.services.page(owner.id, 3, 1)
    others = await storage.services.page(other.id, 0, 10)

    assert [s.api_key for s in whole.items] == [1005, 1001, 1004, 1003, 1002]
    assert (whole.start, whole.end, whole.total) == (0, 100, 5)
    assert [s.api_key for s in middle.items] == [1001, 1004]
    assert (middle.start, middle.end, middle.total) == (1, 3, 5)
    assert beyond == Page(5, 10, 5, [])
    assert inverted == Page(3, 1, 5, [])
    assert [s.api_key for s in others.items] == [2001]
    assert others.total == 1


async def test_service_update_replaces_the_document(storage, owner):
    created = await new_service(storage, owner.id, 1001)

    updated = await storage.services.update(1001, {"serviceName": "renamed"}, NOW + 60_000)

    assert updated == replace(created, document={"serviceName": "renamed"},
                              modified_at=NOW + 60_000)
    assert await storage.services.get(1001) == updated
    assert await storage.services.update(9999, {"serviceName": "ghost"}, NOW) is None
    assert await storage.services.get(9999) is None


async def test_service_delete_cascades_to_its_clients_keys_and_tokens(storage, owner,
                                                                        database_url):
    await new_service(storage, owner.id, 1001)
    await new_service(storage, owner.id, 1002)
    for client_id, service in ((501, 1001), (502, 1001), (503, 1002)):
        await storage.clients.create(client_record(client_id, service))
    await storage.signing_keys.insert(signing_key("k-1001", 1001, "current"))
    await storage.signing_keys.insert(signing_key("k-1002", 1002, "current"))
    await storage.access_tokens.create("token-1001", owner.id, 1001, "", NOW)
    await storage.access_tokens.create("token-1002", owner.id, 1002, "", NOW)
    await storage.access_tokens.create("token-owner", owner.id, None, "", NOW)

    assert await storage.services.delete(1001) is True

    assert await storage.services.get(1001) is None
    assert await row_count(database_url, "services", "api_key = 1001") == 0
    assert await row_count(database_url, "clients", "service_id = 1001") == 0
    assert await row_count(database_url, "signing_keys", "service_id = 1001") == 0
    assert await row_count(database_url, "api_access_tokens", "service_id = 1001") == 0
    assert await storage.access_tokens.resolve("token-1001") is None
    # The other service and the owner-wide token are untouched.
    assert await row_count(database_url, "clients") == 1
    assert [k.kid for k in await storage.signing_keys.all()] == ["k-1002"]
    assert await storage.access_tokens.resolve("token-1002") == (owner.id, 1002)
    assert await storage.access_tokens.resolve("token-owner") == (owner.id, None)
    assert await storage.services.delete(1001) is False


async def test_all_api_keys_in_creation_order(storage, owner):
    for api_key in (1003, 1001, 1002):
        await new_service(storage, owner.id, api_key)

    assert await storage.services.all_api_keys() == [1003, 1001, 1002]


# -- clients --------------------------------------------------------------------------------------

@pytest.fixture
async def services(storage, owner) -> tuple[int, int]:
    await new_service(storage, owner.id, 1001)
    await new_service(storage, owner.id, 1002)
    return 1001, 1002


async def test_client_create_and_get(storage, services):
    created = await storage.clients.create(
        client_record(501, 1001, client_id_alias="portal", developer="dev-a", locked=True))

    assert created == client_record(501, 1001, client_id_alias="portal", developer="dev-a",
                                    locked=True, number=created.number)
    assert await storage.clients.get(1001, 501) == created
    assert await storage.clients.get(1002, 501) is None  # scoped to its service
    assert await storage.clients.get(1001, 999) is None


async def test_client_without_secret(storage, services):
    created = await storage.clients.create(client_record(501, 1001, client_secret=None))

    assert created.client_secret is None
    assert (await storage.clients.get(1001, 501)).client_secret is None


async def test_client_by_alias(storage, services):
    created = await storage.clients.create(client_record(501, 1001, client_id_alias="portal"))

    assert await storage.clients.by_alias(1001, "portal") == created
    assert await storage.clients.by_alias(1002, "portal") is None
    assert await storage.clients.by_alias(1001, "other") is None


async def test_client_alias_is_unique_per_service(storage, services, database_url):
    first = await storage.clients.create(client_record(501, 1001, client_id_alias="portal"))

    with pytest.raises(ConflictError):
        await storage.clients.create(client_record(502, 1001, client_id_alias="portal"))
    elsewhere = await storage.clients.create(client_record(503, 1002, client_id_alias="portal"))

    assert await storage.clients.get(1001, 502) is None
    assert await storage.clients.by_alias(1001, "portal") == first
    assert await storage.clients.by_alias(1002, "portal") == elsewhere
    assert await row_count(database_url, "clients") == 2


async def test_clients_without_alias_do_not_conflict(storage, services):
    await storage.clients.create(client_record(501, 1001))
    await storage.clients.create(client_record(502, 1001))

    assert (await storage.clients.page(1001, None, 0, 10)).total == 2


async def test_duplicate_client_id_conflicts_and_writes_nothing(storage, services, database_url):
    original = await storage.clients.create(client_record(501, 1001, client_id_alias="portal"))

    with pytest.raises(ConflictError):
        await storage.clients.create(client_record(
            501, 1001, client_id_alias="other", client_secret="replaced", developer="dev-b"))
    with pytest.raises(ConflictError):  # client ids are unique across services
        await storage.clients.create(client_record(501, 1002))

    assert await storage.clients.get(1001, 501) == original
    assert await storage.clients.by_alias(1001, "other") is None
    assert await storage.clients.get(1002, 501) is None
    assert await row_count(database_url, "clients") == 1


async def test_client_page_filters_by_developer_in_creation_order(storage, services):
    developers = {505: "dev-a", 501: "dev-b", 504: "dev-a", 503: "dev-a", 502: "dev-b"}
    for client_id, developer in developers.items():
        await storage.clients.create(client_record(client_id, 1001, developer=developer))
    await storage.clients.create(client_record(601, 1002, developer="dev-a"))

    every = await storage.clients.page(1001, None, 0, 10)
    dev_a = await storage.clients.page(1001, "dev-a", 0, 10)
    dev_a_tail = await storage.clients.page(1001, "dev-a", 1, 2)
    nobody = await storage.clients.page(1001, "dev-z", 0, 10)

    assert [c.client_id for c in every.items] == [505, 501, 504, 503, 502]
    assert (every.start, every.end, every.total) == (0, 10, 5)
    assert [c.client_id for c in dev_a.items] == [505, 504, 503]
    assert dev_a.total == 3
    assert [c.client_id for c in dev_a_tail.items] == [504]
    assert (dev_a_tail.start, dev_a_tail.end, dev_a_tail.total) == (1, 2, 3)
    assert nobody == Page(0, 10, 0, [])


async def test_client_update_replaces_every_mutable_column(storage, services):
    created = await storage.clients.create(client_record(501, 1001, client_id_alias="portal"))
    changed = replace(created, client_secret="new-secret", client_id_alias="renamed",
                      developer="dev-b", locked=True, document={"clientName": "renamed"},
                      modified_at=NOW + 1000)

    updated = await storage.clients.update(changed)

    assert updated == changed
    assert await storage.clients.get(1001, 501) == changed
    assert await storage.clients.by_alias(1001, "portal") is None
    assert await storage.clients.by_alias(1001, "renamed") == changed
    assert await storage.clients.update(client_record(999, 1001)) is None
    assert await storage.clients.get(1001, 999) is None


async def test_client_update_to_a_taken_alias_conflicts(storage, services):
    await storage.clients.create(client_record(501, 1001, client_id_alias="portal"))
    second = await storage.clients.create(client_record(502, 1001, client_id_alias="mobile"))

    with pytest.raises(ConflictError):
        await storage.clients.update(replace(second, client_id_alias="portal",
                                             developer="dev-z"))

    assert await storage.clients.get(1001, 502) == second


async def test_client_set_locked(storage, services):
    created = await storage.clients.create(client_record(501, 1001))

    assert await storage.clients.set_locked(1001, 501, True, NOW + 5) is True
    assert await storage.clients.get(1001, 501) == replace(created, locked=True,
                                                           modified_at=NOW + 5)
    assert await storage.clients.set_locked(1001, 501, False, NOW + 6) is True
    assert await storage.clients.get(1001, 501) == replace(created, locked=False,
                                                           modified_at=NOW + 6)
    assert await storage.clients.set_locked(1002, 501, True, NOW + 7) is False
    assert await storage.clients.set_locked(1001, 999, True, NOW + 7) is False
    assert (await storage.clients.get(1001, 501)).locked is False


async def test_client_set_secret(storage, services):
    created = await storage.clients.create(client_record(501, 1001))

    assert await storage.clients.set_secret(1001, 501, "rotated-secret", NOW + 5) is True
    assert await storage.clients.get(1001, 501) == replace(
        created, client_secret="rotated-secret", modified_at=NOW + 5)
    assert await storage.clients.set_secret(1002, 501, "elsewhere", NOW + 6) is False
    assert await storage.clients.set_secret(1001, 999, "nobody", NOW + 6) is False
    assert (await storage.clients.get(1001, 501)).client_secret == "rotated-secret"


async def test_client_delete(storage, services, database_url):
    await storage.clients.create(client_record(501, 1001))
    await storage.clients.create(client_record(502, 1001))

    assert await storage.clients.delete(1002, 501) is False  # another service's id
    assert await storage.clients.delete(1001, 501) is True

    assert await storage.clients.get(1001, 501) is None
    assert await storage.clients.delete(1001, 501) is False
    assert await row_count(database_url, "clients") == 1
    assert (await storage.clients.get(1001, 502)).client_id == 502


# -- v3 access tokens -----------------------------------------------------------------------------

async def test_access_token_resolves_to_owner_and_service(storage, services, owner):
    await storage.access_tokens.create("service-token", owner.id, 1001, "for 1001", NOW)
    await storage.access_tokens.create("owner-token", owner.id, None, "owner-wide", NOW)

    assert await storage.access_tokens.resolve("service-token") == (owner.id, 1001)
    assert await storage.access_tokens.resolve("owner-token") == (owner.id, None)
    assert await storage.access_tokens.resolve("unknown-token") is None


async def test_the_same_access_token_twice_conflicts(storage, services, owner, database_url):
    await storage.access_tokens.create("service-token", owner.id, 1001, "", NOW)

    with pytest.raises(ConflictError):
        await storage.access_tokens.create("service-token", owner.id, 1002, "", NOW)

    assert await storage.access_tokens.resolve("service-token") == (owner.id, 1001)
    assert await row_count(database_url, "api_access_tokens") == 1


# -- signing keys ---------------------------------------------------------------------------------

async def test_signing_keys_insert_and_all(storage, services):
    later = signing_key("k-b", 1001, "next", published_at=NOW + 10)
    current = signing_key("k-c", 1001, "current", published_at=NOW, activated_at=NOW)
    same_time = signing_key("k-a", 1002, "current", published_at=NOW, activated_at=NOW)
    for record in (later, current, same_time):
        await storage.signing_keys.insert(record)

    # Ordered by publication time, then kid; private JWKs come back as inserted.
    assert await storage.signing_keys.all() == [same_time, current, later]


async def test_signing_key_kid_is_unique(storage, services):
    await storage.signing_keys.insert(signing_key("k-1", 1001, "current"))

    with pytest.raises(ConflictError):
        await storage.signing_keys.insert(signing_key("k-1", 1002, "next"))

    assert states(await storage.signing_keys.all()) == {"k-1": "current"}


async def test_rotate_promotes_next_retires_current_and_publishes_successor(storage, services):
    await storage.signing_keys.insert(signing_key("k-1", 1001, "current", activated_at=NOW))
    await storage.signing_keys.insert(signing_key("k-2", 1001, "next", published_at=NOW + 1))
    successor = signing_key("k-3", 1001, "next", published_at=NOW + 100)

    rotated = await storage.signing_keys.rotate(next_kid="k-2", successor=successor,
                                                now=NOW + 100, retire_until=NOW + 500)

    assert rotated is True
    assert await storage.signing_keys.all() == [
        signing_key("k-1", 1001, "retired", activated_at=NOW, retired_at=NOW + 100,
                    delete_after=NOW + 500),
        signing_key("k-2", 1001, "current", published_at=NOW + 1, activated_at=NOW + 100),
        successor,
    ]


async def test_rotate_touches_only_the_same_service_and_algorithm(storage, services):
    await storage.signing_keys.insert(signing_key("es-1", 1001, "current"))
    await storage.signing_keys.insert(signing_key("rs-1", 1001, "current", alg="RS256"))
    await storage.signing_keys.insert(signing_key("es-other", 1002, "current"))
    await storage.signing_keys.insert(signing_key("es-2", 1001, "next"))

    assert await storage.signing_keys.rotate(
        next_kid="es-2", successor=signing_key("es-3", 1001, "next"), now=NOW + 1,
        retire_until=NOW + 2) is True

    assert states(await storage.signing_keys.all()) == {
        "es-1": "retired", "rs-1": "current", "es-other": "current", "es-2": "current",
        "es-3": "next",
    }


async def test_second_rotate_of_the_same_next_key_writes_nothing(storage, services):
    await storage.signing_keys.insert(signing_key("k-1", 1001, "current"))
    await storage.signing_keys.insert(signing_key("k-2", 1001, "next"))
    assert await storage.signing_keys.rotate(
        next_kid="k-2", successor=signing_key("k-3", 1001, "next"), now=NOW + 1,
        retire_until=NOW + 2) is True
    after_first = await storage.signing_keys.all()

    again = await storage.signing_keys.rotate(
        next_kid="k-2", successor=signing_key("k-4", 1001, "next"), now=NOW + 3,
        retire_until=NOW + 4)

    assert again is False
    assert await storage.signing_keys.all() == after_first
    assert states(after_first) == {"k-1": "retired", "k-2": "current", "k-3": "next"}


async def test_rotate_of_an_unknown_kid_writes_nothing(storage, services):
    await storage.signing_keys.insert(signing_key("k-1", 1001, "current"))

    assert await storage.signing_keys.rotate(
        next_kid="k-1", successor=signing_key("k-2", 1001, "next"), now=NOW + 1,
        retire_until=NOW + 2) is False  # k-1 is current, not next
    assert await storage.signing_keys.rotate(
        next_kid="missing", successor=signing_key("k-3", 1001, "next"), now=NOW + 1,
        retire_until=NOW + 2) is False

    assert states(await storage.signing_keys.all()) == {"k-1": "current"}


async def test_delete_expired_removes_only_retired_keys_past_their_time(storage, services):
    await storage.signing_keys.insert(signing_key("due", 1001, "retired", delete_after=NOW))
    await storage.signing_keys.insert(signing_key("past", 1001, "retired",
                                                  delete_after=NOW - 1))
    await storage.signing_keys.insert(signing_key("kept", 1001, "retired",
                                                  delete_after=NOW + 1))
    await storage.signing_keys.insert(signing_key("current", 1001, "current"))
    await storage.signing_keys.insert(signing_key("next", 1001, "next", delete_after=NOW - 1))

    assert await storage.signing_keys.delete_expired(NOW) == 2

    assert states(await storage.signing_keys.all()) == {
        "kept": "retired", "current": "current", "next": "next"}
    assert await storage.signing_keys.delete_expired(NOW) == 0


# -- leases ---------------------------------------------------------------------------------------

async def test_lease_acquire_renew_refuse_and_take_over(storage):
    leases = storage.leases

    assert await leases.acquire("rotation", "node-a", NOW, LEASE_MS) is True
    assert await leases.acquire("rotation", "node-b", NOW + 1, LEASE_MS) is False
    # Renewal by the holder moves the expiry to NOW + 20 000 + LEASE_MS.
    assert await leases.acquire("rotation", "node-a", NOW + 20_000, LEASE_MS) is True
    assert await leases.acquire("rotation", "node-b", NOW + LEASE_MS + 1, LEASE_MS) is False
    assert await leases.acquire("rotation", "node-b", NOW + 20_000 + LEASE_MS, LEASE_MS) is False
    # Lapsed: another holder takes it over, and the former holder is now refused.
    assert await leases.acquire("rotation", "node-b", NOW + 20_001 + LEASE_MS, LEASE_MS) is True
    assert await leases.acquire("rotation", "node-a", NOW + 20_002 + LEASE_MS, LEASE_MS) is False


async def test_leases_are_independent_by_name(storage, database_url):
    assert await storage.leases.acquire("rotation", "node-a", NOW, LEASE_MS) is True
    assert await storage.leases.acquire("reaper", "node-b", NOW, LEASE_MS) is True

    assert await raw_rows(database_url, "SELECT name, holder, expires_at FROM leases "
                                        "ORDER BY name") == [
        ("reaper", "node-b", NOW + LEASE_MS), ("rotation", "node-a", NOW + LEASE_MS)]


async def test_lease_release(storage):
    assert await storage.leases.acquire("rotation", "node-a", NOW, LEASE_MS) is True

    await storage.leases.release("rotation", "node-b")  # not the holder: no effect
    assert await storage.leases.acquire("rotation", "node-b", NOW + 1, LEASE_MS) is False

    await storage.leases.release("rotation", "node-a")
    assert await storage.leases.acquire("rotation", "node-b", NOW + 2, LEASE_MS) is True
    await storage.leases.release("rotation", "node-a")  # no longer the holder: no effect
    assert await storage.leases.acquire("rotation", "node-a", NOW + 3, LEASE_MS) is False


# -- concurrency ----------------------------------------------------------------------------------

async def gather(*calls) -> list:
    """Run the calls concurrently in one nursery; their results in call order."""
    results = [None] * len(calls)

    async def run(index: int, call) -> None:
        results[index] = await call()

    async with trio.open_nursery() as nursery:
        for index, call in enumerate(calls):
            nursery.start_soon(run, index, call)
    return results


@pytest.mark.parametrize("existing_holder", [None, "node-gone"], ids=["new-lease",
                                                                      "lapsed-lease"])
async def test_concurrent_acquires_elect_exactly_one_holder(storage, database_url,
                                                            existing_holder):
    if existing_holder:
        assert await storage.leases.acquire("rotation", existing_holder, NOW - LEASE_MS - 1,
                                            LEASE_MS) is True

    def acquire(holder: str):
        return lambda: storage.leases.acquire("rotation", holder, NOW, LEASE_MS)

    results = await gather(*(acquire(f"node-{index}") for index in range(10)))

    assert results.count(True) == 1
    winner = f"node-{results.index(True)}"
    assert await raw_rows(database_url, "SELECT holder, expires_at FROM leases") == [
        (winner, NOW + LEASE_MS)]


async def test_concurrent_rotations_of_one_next_key_succeed_once(storage, services):
    await storage.signing_keys.insert(signing_key("k-0", 1001, "current"))
    await storage.signing_keys.insert(signing_key("k-1", 1001, "next"))

    def rotate(node: int):
        successor = signing_key(f"k-2-node-{node}", 1001, "next", published_at=NOW + 1)
        return lambda: storage.signing_keys.rotate(next_kid="k-1", successor=successor,
                                                   now=NOW + 1, retire_until=NOW + 2)

    results = await gather(*(rotate(node) for node in range(5)))

    assert results.count(True) == 1
    keys = states(await storage.signing_keys.all())
    assert keys == {"k-0": "retired", "k-1": "current",
                    f"k-2-node-{results.index(True)}": "next"}


# -- storage errors -------------------------------------------------------------------------------

def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("unreachable", [
    pytest.param(lambda tmp_path: f"postgres://postgres@127.0.0.1:{_closed_port()}/tessera",
                 id="postgres-closed-port"),
    pytest.param(lambda tmp_path: f"sqlite://{tmp_path}/missing/tessera.sqlite3",
                 id="sqlite-missing-directory"),
    pytest.param(lambda tmp_path: f"sqlite://{tmp_path}/a-file/tessera.sqlite3",
                 id="sqlite-parent-is-a-file"),
    pytest.param(lambda tmp_path: f"sqlite://{tmp_path}/a-file", id="sqlite-not-a-database"),
])
@pytest.mark.parametrize("migrate_first", [True, False], ids=["migrate", "no-migrate"])
async def test_unreachable_database_raises_storage_error(tmp_path, unreachable, migrate_first):
    (tmp_path / "a-file").write_text("not a directory, not a database " * 100)
    config = tortoise_config(unreachable(tmp_path))

    with trio.fail_after(30), pytest.raises(StorageError) as raised:
        async with open_storage(config, Sealer(MASTER_KEY), migrate_first=migrate_first):
            pytest.fail("an unreachable database opened")

    # The storage error itself: no exception group around it, no driver exception chained.
    assert type(raised.value) is StorageError
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__ is True

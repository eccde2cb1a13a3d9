"""The entity cache, the change feed that keeps it coherent across nodes, and group commit.

Two storages opened on one database stand for two nodes (or two worker processes). Each has its
own cache and its own cache invalidator actor; nothing is shared but the database.
"""

from contextlib import asynccontextmanager
from dataclasses import replace

import pytest
import trio

from actors.cache_invalidator import CacheInvalidator
from app.config import CacheSettings
from app.protocol.ports import AccessTokenRecord, RefreshTokenRecord, SystemClock
from storage import ConflictError, EntityCache, Sealer, open_storage, tortoise_config
from storage.cache import MISSING, clients_topic
from tests.storage.test_repository_contract import (
    MASTER_KEY,
    NOW,
    client_record,
    new_service,
    row_count,
)

SETTINGS = CacheSettings(poll_interval=25.0)  # after the first poll, the tests poll explicitly


class WallClock:
    """The Clock port, settable: the invalidator's window is in wall-clock milliseconds."""

    def __init__(self, now_ms: int) -> None:
        self.ms = now_ms

    def now_ms(self) -> int:
        return self.ms


@asynccontextmanager
async def node(database_url: str, *, migrate: bool = False, clock=None):
    """A storage with a cache and a running invalidator, as a node has them."""
    async with open_storage(tortoise_config(database_url), Sealer(MASTER_KEY),
                            migrate_first=migrate, cache=EntityCache()) as storage, \
            trio.open_nursery() as nursery:
        invalidator = CacheInvalidator(storage, SETTINGS, clock or SystemClock())
        await nursery.start(invalidator.run)
        yield storage, invalidator
        nursery.cancel_scope.cancel()


@pytest.fixture
async def two_nodes(database_url):
    async with node(database_url, migrate=True) as first, node(database_url) as second:
        owner = await first[0].owners.ensure("owner-key", "owner-secret", NOW)
        await new_service(first[0], owner.id, 501)
        await first[0].clients.create(client_record(601, 501))
        yield first, second


# -- the cache itself ------------------------------------------------------------------------------

class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_ttl_and_the_oldest_go_first_when_full():
    clock = FakeMonotonic()
    cache = EntityCache(ttl=10.0, max_entries=2, clock=clock)
    cache.put("a", 1, "t", cache.generation)
    cache.put("b", 2, "t", cache.generation)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.put("c", 3, "u", cache.generation)
    assert (cache.get("b"), cache.get("a"), cache.get("c")) == (MISSING, 1, 3)
    clock.now += 10.0
    assert cache.get("a") is MISSING and cache.get("c") is MISSING


def test_eviction_is_by_topic_and_a_load_that_raced_it_is_not_stored():
    cache = EntityCache()
    cache.put(("client", 1, 7), "seven", clients_topic(1), cache.generation)
    cache.put(("client", 2, 8), "eight", clients_topic(2), cache.generation)
    loaded_before = cache.generation
    cache.evict(clients_topic(1))
    assert cache.get(("client", 1, 7)) is MISSING
    assert cache.get(("client", 2, 8)) == "eight"
    cache.put(("client", 1, 7), "stale", clients_topic(1), loaded_before)
    assert cache.get(("client", 1, 7)) is MISSING


async def test_through_reads_the_database_once_then_serves_from_memory():
    cache = EntityCache()
    loads = []

    async def load():
        loads.append(1)
        return "value"

    assert await cache.through("k", "t", load) == "value"
    assert await cache.through("k", "t", load) == "value"
    assert len(loads) == 1 and cache.stats.hits == 1


# -- coherence across nodes, on SQLite and PostgreSQL --------------------------------------------

async def test_a_write_on_one_node_reaches_the_other_nodes_cache_through_the_feed(two_nodes):
    (first, _), (second, second_invalidator) = two_nodes
    assert (await second.clients.get(501, 601)).locked is False  # now cached on the second
    assert await first.clients.set_locked(501, 601, True, NOW + 1)
    # Until it polls the feed, the second node still serves its cached copy...
    assert (await second.clients.get(501, 601)).locked is False
    assert await second_invalidator.poll_now() >= 1
    # ...and after one poll it reads the new state.
    assert (await second.clients.get(501, 601)).locked is True


async def test_a_write_evicts_the_writers_own_cache_at_once(two_nodes):
    (first, _), _ = two_nodes
    record = await first.clients.get(501, 601)
    await first.clients.update(replace(record, client_id_alias="renamed"))
    assert (await first.clients.get(501, 601)).client_id_alias == "renamed"
    assert (await first.clients.by_alias(501, "renamed")).client_id == 601


async def test_service_updates_and_deletes_reach_other_nodes(two_nodes):
    (first, _), (second, second_invalidator) = two_nodes
    assert (await second.services.get(501)).document == {"serviceName": "s501"}
    await first.services.update(501, {"serviceName": "changed"}, NOW + 1)
    await second_invalidator.poll_now()
    assert (await second.services.get(501)).document == {"serviceName": "changed"}
    assert await second.clients.get(501, 601) is not None
    assert await first.services.delete(501)
    await second_invalidator.poll_now()
    assert await second.services.get(501) is None
    assert await second.clients.get(501, 601) is None  # gone with its service


async def test_each_write_records_one_change_event_in_its_transaction(two_nodes, database_url):
    (first, _), _ = two_nodes
    before = await row_count(database_url, "change_events")
    await first.clients.set_secret(501, 601, "new-secret", NOW + 1)
    assert not await first.clients.set_locked(501, 999, True, NOW + 1)  # no such client
    assert await row_count(database_url, "change_events") == before + 1
    assert await row_count(database_url, "change_events",
                           f"topic = '{clients_topic(501)}'") >= 1


async def test_a_gap_longer_than_the_lookback_clears_the_whole_cache(database_url):
    clock = WallClock(NOW)
    async with node(database_url, migrate=True, clock=clock) as (storage, invalidator):
        owner = await storage.owners.ensure("owner-key", "owner-secret", NOW)
        await new_service(storage, owner.id, 502)
        await invalidator.poll_now()
        assert await storage.services.get(502) is not None
        assert len(storage.cache) == 1
        clock.ms += int(SETTINGS.lookback * 1000)  # polls stalled: events may have been missed
        await invalidator.poll_now()
        assert len(storage.cache) == 0


# -- group commit and batched lookups --------------------------------------------------------------

def access_token(digest: str, service_api_key: int = 501, **changes) -> AccessTokenRecord:
    record = AccessTokenRecord(
        digest=digest, service_api_key=service_api_key, client_id=601, subject=None,
        grant_id="g-" + digest[:8], grant_type="client_credentials", scopes=["api:read"],
        payload={}, refresh_digest=None, created_at=NOW, expires_at=NOW + 3_600_000)
    return replace(record, **changes)


def refresh_token(digest: str) -> RefreshTokenRecord:
    return RefreshTokenRecord(
        digest=digest, service_api_key=501, client_id=601, subject="alice", grant_id="g-r",
        scopes=["openid"], payload={}, created_at=NOW, expires_at=NOW + 86_400_000,
        rotated_at=None)


async def test_concurrent_stores_share_transactions_and_all_are_committed(two_nodes, database_url):
    (first, _), _ = two_nodes
    stats_before = first.tokens.store_stats()

    async def store(index: int) -> None:
        refresh = refresh_token(f"r{index:063d}") if index % 2 else None
        await first.tokens.store(
            access_token(f"a{index:063d}", refresh_digest=refresh and refresh.digest), refresh)

    async with trio.open_nursery() as nursery:
        for index in range(60):
            nursery.start_soon(store, index)
    # Every acknowledged store is committed: another connection sees all the rows.
    assert await row_count(database_url, "access_tokens") == 60
    assert await row_count(database_url, "refresh_tokens") == 30
    batches, items = (now - before for now, before in
                      zip(first.tokens.store_stats(), stats_before, strict=True))
    assert items == 60 and batches < 60


async def test_a_failing_store_fails_alone_and_the_rest_of_its_batch_commits(two_nodes,
                                                                             database_url):
    (first, _), _ = two_nodes
    await first.tokens.store(access_token("d" * 64), None)
    outcomes: dict[str, object] = {}

    async def store(digest: str) -> None:
        try:
            await first.tokens.store(access_token(digest), None)
            outcomes[digest] = "stored"
        except ConflictError as error:
            outcomes[digest] = error

    async with trio.open_nursery() as nursery:
        for digest in ("e" * 64, "d" * 64, "f" * 64):
            nursery.start_soon(store, digest)
    assert outcomes["e" * 64] == outcomes["f" * 64] == "stored"
    assert isinstance(outcomes["d" * 64], ConflictError)
    assert await row_count(database_url, "access_tokens") == 3


async def test_concurrent_lookups_each_get_their_own_token(two_nodes):
    (first, _), (second, _) = two_nodes
    for index in range(5):
        await first.tokens.store(access_token(f"{index}" * 64), None)
    results: dict[tuple[int, str], object] = {}

    async def lookup(service_api_key: int, digest: str) -> None:
        results[service_api_key, digest] = await second.tokens.access_token(
            service_api_key, digest)

    keys = [(501, f"{index}" * 64) for index in range(5)] + [(999, "1" * 64), (501, "9" * 64)]
    async with trio.open_nursery() as nursery:
        for key in keys:
            nursery.start_soon(lookup, *key)
    for index in range(5):
        assert results[501, f"{index}" * 64].digest == f"{index}" * 64
    assert results[999, "1" * 64] is None  # another service's token is not found
    assert results[501, "9" * 64] is None


# -- several processes on one SQLite file --------------------------------------------------------

async def test_read_then_write_transactions_of_two_connections_wait_instead_of_failing(
        sqlite_url):
    """Two storages stand for two worker processes on one SQLite file. A transaction that reads
    before it writes (deleting a token looks it up first) must wait for the other writer, not
    fail with "database is locked" (storage/sqlite_backend.py)."""
    async with node(sqlite_url, migrate=True) as (first, _), node(sqlite_url) as (second, _):
        owner = await first.owners.ensure("owner-key", "owner-secret", NOW)
        await new_service(first, owner.id, 501)
        digests = [f"{index:064d}" for index in range(120)]
        for digest in digests:
            await first.tokens.store(access_token(digest), None)

        async def delete_all(storage, mine: list[str]) -> None:
            for digest in mine:
                assert await storage.tokens.delete_access_token(501, digest) == 1

        async def store_more(storage) -> None:
            for index in range(120):
                await storage.tokens.store(access_token(f"s{index:063d}"), None)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(delete_all, first, digests[::2])
            nursery.start_soon(delete_all, second, digests[1::2])
            nursery.start_soon(store_more, second)
        assert await row_count(sqlite_url, "access_tokens") == 120

"""The key manager actor against a real database, on trio's MockClock.

Every test runs on SQLite and, when TESSERA_TEST_POSTGRES_URL names a server, on a fresh PostgreSQL
database. Assertions are about what clients and the database see: the JWKS, the signing key, and the
rows in `signing_keys`.
"""

import asyncio
import dataclasses
import itertools
import os
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import trio
from joserfc import jws
from joserfc.jwk import KeySet, import_key
from tortoise.backends.base.executor import EXECUTOR_CACHE

from actors.clock import TrioClock
from actors.key_manager import KeyManager
from app.config import KeySettings
from app.protocol.ports import SigningKeyRecord
from storage import NotFoundError, Sealer, Storage, open_storage, tortoise_config
from tests.actors.clock_gate import ClockGate

pytestmark = pytest.mark.trio

ORIGIN_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: a fixed epoch keeps row times readable
ALGS = ["RS256", "PS256", "ES256"]
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}
SETTINGS = KeySettings(algorithms=ALGS, rotation_interval=3600, lead_time=600, retention=300,
                       check_interval=10, refresh_interval=5, lease_duration=30, rsa_key_size=2048)
HOUR_MS = 3_600_000
LEAD_MS = 600_000
POSTGRES_ENV = "TESSERA_TEST_POSTGRES_URL"


# -- databases ------------------------------------------------------------------------------------

@dataclass
class Database:
    url: str
    server: str | None = None  # PostgreSQL: the server URL whose database we create and drop
    created: bool = False

    def create(self) -> None:
        """Create the test's own PostgreSQL database; called inside the test so that a configured
        but unreachable server fails the test rather than erroring in setup."""
        if self.server is not None:
            _postgres_admin(self.server, f'CREATE DATABASE "{self._name}"')
            self.created = True

    def drop(self) -> None:
        if self.created:
            _postgres_admin(self.server, f'DROP DATABASE "{self._name}" WITH (FORCE)')

    @property
    def _name(self) -> str:
        return urlsplit(self.url).path.lstrip("/")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield Database(f"sqlite://{tmp_path}/t.sqlite3")
        return
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_ENV} not set")
    name = f"tessera_keys_{uuid.uuid4().hex[:12]}"
    database = Database(urlunsplit(urlsplit(server)._replace(path=f"/{name}")), server)
    yield database
    database.drop()


def _postgres_admin(server: str, statement: str) -> None:
    """Run one statement on its own asyncio loop (not trio-asyncio's: this runs in a thread)."""
    async def execute() -> None:
        connection = await asyncpg.connect(server, timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    try:
        asyncio.run(execute())
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL is unusable: {error!r}")


# -- a cluster of key manager nodes on one database ------------------------------------------------

@dataclass
class Cluster:
    storage: Storage
    gate: ClockGate
    clock: TrioClock
    nursery: trio.Nursery
    owner_id: int
    scopes: dict[str, trio.CancelScope] = field(default_factory=dict)
    api_keys: itertools.count = field(default_factory=lambda: itertools.count(1001))

    async def start_node(self, node_id: str, settings: KeySettings = SETTINGS) -> KeyManager:
        node = KeyManager(self.storage, settings, self.clock, node_id,
                          run_in_thread=self.gate.wrap(trio.to_thread.run_sync))
        scope = self.scopes[node_id] = trio.CancelScope()

        async def run(task_status=trio.TASK_STATUS_IGNORED) -> None:
            with scope:
                await node.run(task_status=task_status)

        await self.nursery.start(run)
        return node

    def stop_node(self, node_id: str) -> None:
        self.scopes[node_id].cancel()

    async def new_service(self, document: dict | None = None) -> int:
        api_key = next(self.api_keys)
        await self.storage.services.create(self.owner_id, api_key, "service-secret",
                                           document or {}, self.clock.now_ms())
        return api_key

    async def rows(self, api_key: int) -> list[SigningKeyRecord]:
        return [row for row in await self.storage.signing_keys.all()
                if row.service_api_key == api_key]

    async def sleep_until_ms(self, at_ms: int) -> None:
        await trio.sleep(max(0, at_ms - self.clock.now_ms()) / 1000)


@asynccontextmanager
async def cluster(database: Database, mock_clock: trio.testing.MockClock):
    gate = ClockGate(mock_clock)
    await gate.wrap(trio.to_thread.run_sync)(database.create)
    # Tortoise 1.1.9 caches each model's INSERT/DELETE SQL per connection *name* for the life of
    # the process, so after a SQLite test a PostgreSQL test would send `?` placeholders.
    EXECUTOR_CACHE.clear()  # also done by open_database
    opened = open_storage(tortoise_config(database.url), Sealer(os.urandom(32)), migrate_first=True)
    with gate.paused():
        storage = gate.storage(await opened.__aenter__())
    try:
        owner = await storage.owners.ensure("owner", "owner-secret", ORIGIN_MS)
        async with trio.open_nursery() as nursery:
            yield Cluster(storage, gate, TrioClock(ORIGIN_MS), nursery, owner.id)
            nursery.cancel_scope.cancel()
    finally:
        with gate.paused():
            await opened.__aexit__(None, None, None)


def by_state(rows: list[SigningKeyRecord], state: str) -> dict[str, list[SigningKeyRecord]]:
    return {alg: [row for row in rows if row.alg == alg and row.state == state] for alg in ALGS}


def only(rows: list[SigningKeyRecord], state: str) -> dict[str, SigningKeyRecord]:
    grouped = by_state(rows, state)
    assert all(len(keys) == 1 for keys in grouped.values()), grouped
    return {alg: keys[0] for alg, keys in grouped.items()}


# -- 1. a new service -----------------------------------------------------------------------------

async def test_new_service_gets_one_current_and_one_next_key_per_algorithm(
        autojump_clock, database):
    async with cluster(database, autojump_clock) as nodes:
        with trio.fail_after(60):
            node = await nodes.start_node("node-a")
            api_key = await nodes.new_service()
            await node.ensure_keys(api_key)
            await node.ensure_keys(api_key)  # idempotent

            rows = await nodes.rows(api_key)
            current, upcoming = only(rows, "current"), only(rows, "next")
            assert len(rows) == 2 * len(ALGS)
            jwks = node.jwks(api_key)
            assert [jwk["kid"] for jwk in jwks["keys"]] == (
                [upcoming[alg].kid for alg in ALGS] + [current[alg].kid for alg in ALGS])
            for jwk in jwks["keys"]:
                assert not PRIVATE_MEMBERS & jwk.keys()
                assert jwk["use"] == "sig"
            for alg in ALGS:
                assert node.signing_key(api_key, alg).kid == current[alg].kid
                assert_verifies_against_jwks(node.signing_key(api_key, alg), jwks)


def assert_verifies_against_jwks(key: SigningKeyRecord, jwks: dict) -> None:
    """A token signed with the signing key verifies with the published JWKS alone."""
    token = jws.serialize_compact({"alg": key.alg, "kid": key.kid}, b"payload",
                                  import_key(key.private_jwk), algorithms=[key.alg])
    verified = jws.deserialize_compact(token, KeySet.import_key_set(jwks), algorithms=[key.alg])
    assert verified.payload == b"payload"


async def test_leader_creates_keys_for_existing_services_before_it_reports_ready(
        autojump_clock, database):
    async with cluster(database, autojump_clock) as nodes:
        with trio.fail_after(60):
            api_key = await nodes.new_service()
            node = await nodes.start_node("node-a")

            assert all(node.signing_key(api_key, alg) is not None for alg in ALGS)
            assert len(await nodes.rows(api_key)) == 2 * len(ALGS)


# -- 2. invariant 1: published for lead_time before signing ---------------------------------------

@dataclass
class Sightings:
    published: dict[str, int] = field(default_factory=dict)  # kid → first seen in jwks()
    signing: dict[str, int] = field(default_factory=dict)  # kid → first returned by signing_key()
    records: dict[str, SigningKeyRecord] = field(default_factory=dict)


async def watch(node: KeyManager, api_key: int, clock: TrioClock, seconds: int,
                sightings: Sightings) -> None:
    """Sample what the node serves every second, half a second off the actor's whole-second events,
    so every sample sees a settled view and first sightings keep the exact gaps between events."""
    start = trio.current_time()
    for step in range(seconds):
        await trio.sleep_until(start + step + 0.5)
        now = clock.now_ms()
        for jwk in node.jwks(api_key)["keys"]:
            sightings.published.setdefault(jwk["kid"], now)
        for alg in ALGS:
            key = node.signing_key(api_key, alg)
            sightings.signing.setdefault(key.kid, now)
            sightings.records.setdefault(key.kid, key)


@pytest.mark.parametrize(("rotation_interval", "rotations"), [
    pytest.param(3600, 3, id="rotation-interval-longer-than-lead-time"),
    pytest.param(300, 5, id="rotation-interval-shorter-than-lead-time"),
])
async def test_keys_sign_only_after_lead_time_in_the_jwks(
        autojump_clock, database, rotation_interval, rotations):
    settings = dataclasses.replace(SETTINGS, rotation_interval=rotation_interval)
    # A key can rotate only once its successor is eligible: every max(interval, lead time).
    period = max(rotation_interval, SETTINGS.lead_time)
    async with cluster(database, autojump_clock) as nodes:
        with trio.fail_after(rotations * period + 600):
            node = await nodes.start_node("node-a", settings)
            api_key = await nodes.new_service()
            await node.ensure_keys(api_key)
            initial = {node.signing_key(api_key, alg).kid for alg in ALGS}
            sightings = Sightings()
            await watch(node, api_key, nodes.clock, rotations * period + 1, sightings)

    rotated = set(sightings.signing) - initial
    assert len(rotated) == rotations * len(ALGS)
    for kid in rotated:
        assert sightings.signing[kid] - sightings.published[kid] >= LEAD_MS
        # ... and it was promoted as soon as it was both due and eligible, not a tick later.
        assert sightings.signing[kid] - sightings.published[kid] == period * 1000
        record = sightings.records[kid]
        assert record.activated_at - record.published_at >= LEAD_MS


# -- 3. on-demand rotation ------------------------------------------------------------------------

async def test_rotate_now_waits_for_a_young_next_key_and_is_immediate_for_an_eligible_one(
        autojump_clock, database):
    async with cluster(database, autojump_clock) as nodes:
        with trio.fail_after(3000):
            node = await nodes.start_node("node-a")
            api_key = await nodes.new_service()
            await node.ensure_keys(api_key)
            first_next = only(await nodes.rows(api_key), "next")
            published_at = first_next["ES256"].published_at
            await nodes.sleep_until_ms(published_at + 100_000)

            result = await node.rotate_now(api_key)

            assert result.rotated == []
            assert result.pending == {alg: published_at + LEAD_MS for alg in ALGS}
            await nodes.sleep_until_ms(published_at + LEAD_MS - 1)
            assert only(await nodes.rows(api_key), "next") == first_next
            await nodes.sleep_until_ms(published_at + LEAD_MS + 500)
            current = only(await nodes.rows(api_key), "current")
            for alg in ALGS:
                assert current[alg].kid == first_next[alg].kid
                assert current[alg].activated_at == published_at + LEAD_MS
                assert node.signing_key(api_key, alg).kid == first_next[alg].kid

            second_next = only(await nodes.rows(api_key), "next")
            eligible_at = second_next["ES256"].published_at + LEAD_MS
            await nodes.sleep_until_ms(eligible_at)
            result = await node.rotate_now(api_key)

            assert sorted(result.rotated) == sorted(key.kid for key in second_next.values())
            assert result.pending == {}
            current = only(await nodes.rows(api_key), "current")
            assert {key.activated_at for key in current.values()} == {eligible_at}
            assert {key.kid for key in current.values()} == set(result.rotated)


async def test_unknown_service_is_not_found(autojump_clock, database):
    async with cluster(database, autojump_clock) as nodes:
        with trio.fail_after(60):
            node = await nodes.start_node("node-a")
            with pytest.raises(NotFoundError):
                await node.ensure_keys(999)
            with pytest.raises(NotFoundError):
                await node.rotate_now(999)
            assert node.jwks(999) == {"keys": []}


# -- 4. invariant 2: retired keys stay published until what they signed has expired ---------------

async def test_retired_key_stays_published_until_its_tokens_expire_then_is_deleted(
        autojump_clock, database):
    long_lived = {"accessTokenDuration": 3000, "idTokenDuration": 1000,
                  "authorizationResponseDuration": 600, "allowableClockSkew": 20}
    async with cluster(database, autojump_clock) as nodes:
        with trio.fail_after(6000):
            node = await nodes.start_node("node-a")
            services = {"service-durations": await nodes.new_service(long_lived),
                        "retention-floor": await nodes.new_service()}
            for api_key in services.values():
                await node.ensure_keys(api_key)
            await nodes.sleep_until_ms(nodes.clock.now_ms() + LEAD_MS)
            retired_at = nodes.clock.now_ms()
            old = {name: only(await nodes.rows(api_key), "current")
                   for name, api_key in services.items()}
            for api_key in services.values():
                await node.rotate_now(api_key)

            # max(retention, longest lifetime + skew) + refresh_interval, in ms
            expected = {"service-durations": (3000 + 20 + 5) * 1000,
                        "retention-floor": (300 + 5) * 1000}
            for name, api_key in sorted(services.items(), key=lambda item: expected[item[0]]):
                delete_after = retired_at + expected[name]
                retired = only(await nodes.rows(api_key), "retired")
                assert {key.kid for key in retired.values()} == {k.kid for k in old[name].values()}
                assert {key.delete_after for key in retired.values()} == {delete_after}

                await nodes.sleep_until_ms(delete_after - 1)
                assert retired.keys() == only(await nodes.rows(api_key), "retired").keys()
                assert published_kids(node, api_key) >= {key.kid for key in retired.values()}
                await nodes.sleep_until_ms(delete_after + 500)
                assert by_state(await nodes.rows(api_key), "retired") == {alg: [] for alg in ALGS}
                assert not published_kids(node, api_key) & {key.kid for key in retired.values()}
                assert len(node.jwks(api_key)["keys"]) == 2 * len(ALGS)


def published_kids(node: KeyManager, api_key: int) -> set[str]:
    return {jwk["kid"] for jwk in node.jwks(api_key)["keys"]}


async def test_forgotten_service_is_no_longer_published(autojump_clock, database):
    async with cluster(database, autojump_clock) as nodes:
        with trio.fail_after(60):
            node = await nodes.start_node("node-a")
            api_key = await nodes.new_service()
            await node.ensure_keys(api_key)
            await nodes.storage.services.delete(api_key)

            await node.forget_service(api_key)

            assert node.jwks(api_key) == {"keys": []}
            assert node.signing_key(api_key, "RS256") is None
            await trio.sleep(2 * SETTINGS.refresh_interval)  # and a reload does not bring it back
            assert node.jwks(api_key) == {"keys": []}


# -- 5. a cluster: two nodes, one database --------------------------------------------------------

async def test_two_nodes_rotate_once_per_interval_and_converge(autojump_clock, database):
    intervals = 3
    # Retired keys outlive the run, so every rotation is still a row at the end.
    settings = dataclasses.replace(SETTINGS, retention=intervals * 3600 * 2)
    async with cluster(database, autojump_clock) as nodes:
        with trio.fail_after(intervals * 3600 + 600):
            node_a = await nodes.start_node("node-a", settings)
            node_b = await nodes.start_node("node-b", settings)
            services = [await nodes.new_service(), await nodes.new_service()]
            async with trio.open_nursery() as racing:  # both nodes bootstrap the same services
                for api_key, node in itertools.product(services, (node_a, node_b)):
                    racing.start_soon(node.ensure_keys, api_key)
            for api_key in services:
                rows = await nodes.rows(api_key)
                only(rows, "current"), only(rows, "next")
                assert len(rows) == 2 * len(ALGS)
            start = min(row.activated_at for row in await nodes.storage.signing_keys.all()
                        if row.activated_at is not None)

            await nodes.sleep_until_ms(start + intervals * HOUR_MS + 5_000 + 500)

            for api_key in services:
                rows = await nodes.rows(api_key)
                current = only(rows, "current")
                for alg in ALGS:
                    activated = sorted(row.activated_at for row in rows
                                       if row.alg == alg and row.state in ("current", "retired"))
                    assert activated == [start + k * HOUR_MS for k in range(intervals + 1)]
                    assert node_a.signing_key(api_key, alg).kid == current[alg].kid
                    assert node_b.signing_key(api_key, alg).kid == current[alg].kid
                assert node_a.jwks(api_key) == node_b.jwks(api_key)


async def test_rotation_continues_on_schedule_when_the_leader_stops(autojump_clock, database):
    async with cluster(database, autojump_clock) as nodes:
        with trio.fail_after(3 * 3600):
            await nodes.start_node("node-a")  # started first: takes the lease
            node_b = await nodes.start_node("node-b")
            api_key = await nodes.new_service()
            await node_b.ensure_keys(api_key)
            start = only(await nodes.rows(api_key), "current")["ES256"].activated_at
            await nodes.sleep_until_ms(start + HOUR_MS + 100_000)
            nodes.stop_node("node-a")

            await nodes.sleep_until_ms(start + 2 * HOUR_MS + 5_000 + 500)

            current = only(await nodes.rows(api_key), "current")
            for alg in ALGS:
                assert current[alg].activated_at == start + 2 * HOUR_MS
                assert node_b.signing_key(api_key, alg).kid == current[alg].kid

"""The token reaper actor against a real database, on trio's MockClock.

Every test runs on SQLite and on a fresh PostgreSQL database (when TESSERA_TEST_POSTGRES_URL names a
server). Rows are seeded and read back through a connection of the test's own, as another node
would write them; assertions are about the rows left in each table, the reaper's counts and its
log events.
"""

import contextlib
import dataclasses
import io
import json
import logging
import os
from collections.abc import Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
import structlog
import trio
from structlog.testing import capture_logs

from actors.clock import TrioClock
from actors.token_reaper import TokenReaper
from app.config import ConfigError, LogSettings, ReaperSettings, load_settings
from app.logs import configure_logging
from storage import Sealer, Storage, open_storage, tortoise_config
from storage.database import open_database
from storage.models import (
    AccessToken,
    AuthorizationCode,
    AuthorizationTicket,
    ChangeEvent,
    RefreshToken,
    ReplayRecord,
)
from tests.actors.clock_gate import ClockGate

ORIGIN_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: a fixed epoch keeps row times readable
DAY_MS = 86_400_000
SERVICE = 1001
CLIENT = 2001
SETTINGS = ReaperSettings(interval=60.0, batch_size=500, max_batches_per_pass=100, pause=0.01,
                          lease_duration=120.0)
INTERVAL = SETTINGS.interval
INTERVAL_MS = int(INTERVAL * 1000)
TABLES = ("authorization_tickets", "authorization_codes", "access_tokens", "refresh_tokens",
          "replay_records", "change_events")

_GRANT = dict(client_id=CLIENT, subject="alice", grant_id="grant-1", payload={},
              created_at=ORIGIN_MS)
_ROW_FACTORIES = {
    "authorization_tickets": lambda key, **columns: AuthorizationTicket(
        digest=key, client_id=CLIENT, payload={}, created_at=ORIGIN_MS, **columns),
    "authorization_codes": lambda key, **columns: AuthorizationCode(
        digest=key, **_GRANT, **columns),
    "access_tokens": lambda key, **columns: AccessToken(
        digest=key, grant_type="authorization_code", scopes=["openid"], **_GRANT, **columns),
    "refresh_tokens": lambda key, **columns: RefreshToken(
        digest=key, scopes=["openid"], **_GRANT, **columns),
    "replay_records": lambda key, **columns: ReplayRecord(
        kind="jti", value_digest=key, **columns),
    "change_events": lambda key, service_id, **columns: ChangeEvent(
        topic=key, created_at=ORIGIN_MS, **columns),
}
# The others are keyed by their digest.
_KEY_COLUMN = {"replay_records": "value_digest", "change_events": "topic"}
_MODELS = {"authorization_tickets": AuthorizationTicket, "authorization_codes": AuthorizationCode,
           "access_tokens": AccessToken, "refresh_tokens": RefreshToken,
           "replay_records": ReplayRecord, "change_events": ChangeEvent}


# -- a database, the test's own connection to it, and reaper nodes --------------------------------

@dataclass
class Harness:
    database_url: str
    gate: ClockGate
    clock: TrioClock
    nursery: trio.Nursery
    storages: list[Storage]  # one per node: nodes share only the database
    seeder: object  # the test's own bridge (storage.bridge.Bridge)
    scopes: dict[str, trio.CancelScope] = field(default_factory=dict)

    @property
    def storage(self) -> Storage:
        return self.storages[0]

    async def start_reaper(self, node_id: str, settings: ReaperSettings = SETTINGS,
                           storage: Storage | None = None) -> TokenReaper:
        reaper = TokenReaper(storage or self.storage, settings, self.clock, node_id)
        scope = self.scopes[node_id] = trio.CancelScope()

        async def run(task_status=trio.TASK_STATUS_IGNORED) -> None:
            with scope:
                await reaper.run(task_status=task_status)

        await self.nursery.start(run)
        return reaper

    def stop_reaper(self, node_id: str) -> None:
        self.scopes[node_id].cancel()

    async def seed(self, table: str, expiries: dict[str, int]) -> None:
        """Insert one row per key into `table`, each expiring at its epoch ms."""
        rows = [_ROW_FACTORIES[table](key, service_id=SERVICE, expires_at=expires_at)
                for key, expires_at in expiries.items()]
        with self.gate.paused():
            await self.seeder.call(_MODELS[table].bulk_create, rows)

    async def seed_everywhere(self, label: str, count: int, expires_at: int) -> dict[str, set]:
        """`count` rows in every table; returns their keys per table."""
        keys = {table: {f"{table}-{label}-{index}" for index in range(count)} for table in TABLES}
        for table, names in keys.items():
            await self.seed(table, dict.fromkeys(names, expires_at))
        return keys

    async def remaining(self, table: str) -> set[str]:
        column = _KEY_COLUMN.get(table, "digest")
        with self.gate.paused():
            return set(await self.seeder.call(_values, _MODELS[table], column))

    async def remaining_everywhere(self) -> dict[str, set[str]]:
        return {table: await self.remaining(table) for table in TABLES}

    async def execute(self, statement: str) -> None:
        with self.gate.paused():
            await self.seeder.call(_execute, self.seeder.context, statement)

async def _values(model, column: str) -> list:
    return await model.all().values_list(column, flat=True)


async def _execute(context, statement: str) -> None:
    await context.db().execute_script(statement)


@asynccontextmanager
async def _gated(gate: ClockGate, manager):
    """Enter and leave an async context manager (a database) with mock time standing still."""
    with gate.paused():
        value = await manager.__aenter__()
    try:
        yield value
    except BaseException as error:
        with gate.paused():
            if not await manager.__aexit__(type(error), error, error.__traceback__):
                raise
    else:
        with gate.paused():
            await manager.__aexit__(None, None, None)


@asynccontextmanager
async def harness(database_url: str, mock_clock: trio.testing.MockClock, nodes: int = 1):
    gate = ClockGate(mock_clock)
    config = tortoise_config(database_url)
    async with contextlib.AsyncExitStack() as stack:
        storages = []
        for index in range(nodes):
            opened = open_storage(config, Sealer(os.urandom(32)), migrate_first=index == 0)
            storages.append(gate.storage(await stack.enter_async_context(_gated(gate, opened))))
        seeder = await stack.enter_async_context(
            _gated(gate, open_database(config, migrate_first=False)))
        owner = await storages[0].owners.ensure("owner", "owner-secret", ORIGIN_MS)
        await storages[0].services.create(owner.id, SERVICE, "service-secret", {}, ORIGIN_MS)
        # Innermost, so every node has stopped before its storage closes.
        async with trio.open_nursery() as nursery:
            yield Harness(database_url, gate, TrioClock(ORIGIN_MS), nursery, storages, seeder)
            nursery.cancel_scope.cancel()


def passes(logs: Iterable[dict]) -> list[dict]:
    return [event for event in logs if event["event"] == "reaper.pass"]


# -- 1. what a pass deletes -----------------------------------------------------------------------

async def test_one_interval_after_start_only_the_expired_rows_are_gone(autojump_clock,
                                                                        database_url):
    async with harness(database_url, autojump_clock) as h:
        with trio.fail_after(600):
            pass_ms = h.clock.now_ms() + INTERVAL_MS  # the reaper starts now
            expired = {"long-ago": ORIGIN_MS - DAY_MS, "at-start": ORIGIN_MS,
                       "at-the-pass": pass_ms}
            live = {"just-after-the-pass": pass_ms + 1, "tomorrow": pass_ms + DAY_MS}
            for table in TABLES:
                await h.seed(table, {f"{table}-{name}": at for name, at in
                                     {**expired, **live}.items()})
            everything = await h.remaining_everywhere()
            reaper = await h.start_reaper("node-a")

            await trio.sleep(INTERVAL - 0.5)
            assert await h.remaining_everywhere() == everything
            await trio.sleep(1)

            assert await h.remaining_everywhere() == {
                table: {f"{table}-{name}" for name in live} for table in TABLES}
            assert reaper.reaped_total == dict.fromkeys(TABLES, len(expired))


async def test_reap_now_makes_a_pass_at_once(autojump_clock, database_url):
    async with harness(database_url, autojump_clock) as h:
        with trio.fail_after(600):
            await h.seed_everywhere("expired", 2, ORIGIN_MS - 1)
            live = await h.seed_everywhere("live", 1, ORIGIN_MS + DAY_MS)
            reaper = await h.start_reaper("node-a")
            started = trio.current_time()

            assert await reaper.reap_now() == dict.fromkeys(TABLES, 2)

            assert trio.current_time() - started < 1
            assert await h.remaining_everywhere() == live
            assert await reaper.reap_now() == dict.fromkeys(TABLES, 0)


# -- 2. batches and the per-pass cap --------------------------------------------------------------

async def test_a_backlog_is_deleted_in_batches_until_one_comes_back_short(autojump_clock,
                                                                          database_url):
    settings = dataclasses.replace(SETTINGS, batch_size=3)
    async with harness(database_url, autojump_clock) as h:
        with trio.fail_after(600):
            await h.seed_everywhere("expired", 10, ORIGIN_MS - 1)
            live = await h.seed_everywhere("live", 1, ORIGIN_MS + DAY_MS)
            with capture_logs() as logs:
                reaper = await h.start_reaper("node-a", settings)
                await trio.sleep(INTERVAL + 1)

            [event] = passes(logs)
            assert event["deleted"] == dict.fromkeys(TABLES, 10)
            assert event["batches"] == dict.fromkeys(TABLES, 4)  # 3 + 3 + 3 + 1
            assert event["capped"] == []
            assert await h.remaining_everywhere() == live
            assert reaper.reaped_total == dict.fromkeys(TABLES, 10)


async def test_the_cap_ends_a_pass_and_the_next_pass_continues(autojump_clock, database_url):
    settings = dataclasses.replace(SETTINGS, batch_size=3, max_batches_per_pass=2)
    async with harness(database_url, autojump_clock) as h:
        with trio.fail_after(600):
            await h.seed_everywhere("expired", 10, ORIGIN_MS - 1)
            live = await h.seed_everywhere("live", 1, ORIGIN_MS + DAY_MS)
            with capture_logs() as logs:
                reaper = await h.start_reaper("node-a", settings)
                await trio.sleep(INTERVAL + 1)
                first = await h.remaining_everywhere()
                await trio.sleep(INTERVAL)

            assert [(event["deleted"], event["batches"], event["capped"])
                    for event in passes(logs)] == [
                (dict.fromkeys(TABLES, 6), dict.fromkeys(TABLES, 2), list(TABLES)),
                (dict.fromkeys(TABLES, 4), dict.fromkeys(TABLES, 2), []),
            ]
            assert {table: len(keys - live[table]) for table, keys in first.items()} == (
                dict.fromkeys(TABLES, 4))
            assert await h.remaining_everywhere() == live
            assert reaper.reaped_total == dict.fromkeys(TABLES, 10)


# -- 3. a cluster: one reaping node at a time ----------------------------------------------------

async def test_only_the_lease_holder_reaps_and_another_node_takes_over_when_it_stops(
        autojump_clock, database_url):
    async with harness(database_url, autojump_clock, nodes=2) as h:
        with trio.fail_after(600):
            node_a = await h.start_reaper("node-a")
            await trio.sleep(1)  # node-b's passes come one second after node-a's
            node_b = await h.start_reaper("node-b", storage=h.storages[1])
            await trio.sleep(0.5)  # and the test looks half a second after node-b's
            live = await h.seed_everywhere("live", 1, ORIGIN_MS + DAY_MS)

            for round_ in range(2):
                await h.seed_everywhere(f"expired-{round_}", 2, h.clock.now_ms())
                await trio.sleep(INTERVAL)
                assert await h.remaining_everywhere() == live
            assert node_a.reaped_total == dict.fromkeys(TABLES, 4)
            assert node_b.reaped_total == dict.fromkeys(TABLES, 0)

            h.stop_reaper("node-a")  # hands the lease back on its way out
            await h.seed_everywhere("expired-2", 2, h.clock.now_ms())
            await trio.sleep(INTERVAL)

            assert await h.remaining_everywhere() == live
            assert node_a.reaped_total == dict.fromkeys(TABLES, 4)
            assert node_b.reaped_total == dict.fromkeys(TABLES, 2)


# -- 4. logs --------------------------------------------------------------------------------------

async def test_a_pass_logs_its_counts_per_table_and_nothing_else(autojump_clock, database_url):
    counts = {table: index + 1 for index, table in enumerate(TABLES)}
    async with harness(database_url, autojump_clock) as h:
        with trio.fail_after(600):
            seeded = set()
            for table, count in counts.items():
                keys = {f"{table}-expired-{index}" for index in range(count)}
                await h.seed(table, dict.fromkeys(keys, ORIGIN_MS - 1))
                seeded |= keys
            with capture_logs() as logs:
                await h.start_reaper("node-a")
                await trio.sleep(INTERVAL + 1)

    [event] = passes(logs)
    assert event == {"event": "reaper.pass", "log_level": "info", "deleted": counts,
                     "batches": dict.fromkeys(TABLES, 1), "capped": []}
    assert not any(key in repr(logs) for key in seeded)


async def test_the_counts_survive_the_production_log_pipeline(autojump_clock, database_url):
    # The redaction step masks top-level members named like "access_tokens"; the counts must not be.
    stream = io.StringIO()
    async with harness(database_url, autojump_clock) as h:
        with trio.fail_after(600), production_logging(stream):
            await h.seed_everywhere("expired", 2, ORIGIN_MS - 1)
            reaper = await h.start_reaper("node-a")
            await reaper.reap_now()

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [event] = [line for line in lines if line["event"] == "reaper.pass"]
    assert event["deleted"] == dict.fromkeys(TABLES, 2)


@contextlib.contextmanager
def production_logging(stream):
    saved, root = structlog.get_config(), logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging(LogSettings(format="json", level="info"), stream=stream)
    try:
        yield
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)


# -- 5. storage failures --------------------------------------------------------------------------

async def test_a_failing_table_is_logged_and_the_reaper_keeps_going(autojump_clock, database_url):
    async with harness(database_url, autojump_clock) as h:
        with trio.fail_after(600):
            await h.seed_everywhere("expired", 2, ORIGIN_MS - 1)
            live = await h.seed_everywhere("live", 1, ORIGIN_MS + DAY_MS)
            reaper = await h.start_reaper("node-a")
            await h.execute("ALTER TABLE access_tokens RENAME TO access_tokens_away")

            with capture_logs() as logs:
                deleted = await reaper.reap_now()

            assert deleted == {**dict.fromkeys(TABLES, 2), "access_tokens": 0}
            failures = [event for event in logs if event["event"] == "reaper.failed"]
            assert [(event["table"], event["log_level"]) for event in failures] == [
                ("access_tokens", "warning")]

            await h.execute("ALTER TABLE access_tokens_away RENAME TO access_tokens")
            await trio.sleep(INTERVAL + 1)  # the scheduled pass of a reaper that is still running

            assert await h.remaining_everywhere() == live
            assert reaper.reaped_total == dict.fromkeys(TABLES, 2)


async def test_only_reaped_tables_are_accepted(autojump_clock, database_url):
    async with harness(database_url, autojump_clock) as h:
        with pytest.raises(ValueError, match="'signing_keys' is not a reaped table"):
            await h.storage.reaper.delete_expired_batch("signing_keys", ORIGIN_MS, 10)


# -- 6. settings ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("lines", "message"), [
    pytest.param("batch_size = 0", "'reaper.batch_size' must be greater than zero",
                 id="batch_size-zero"),
    pytest.param("pause = -0.5", "'reaper.pause' must be greater than zero", id="pause-negative"),
    pytest.param("interval = 120.0", "'reaper.interval' \\(120.0\\) must be less than "
                 "'reaper.lease_duration' \\(120.0\\)", id="interval-not-below-lease"),
])
def test_reaper_settings_are_checked_at_start_up(tmp_path, lines, message):
    path = tmp_path / "config.toml"
    path.write_text(f"[reaper]\n{lines}\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ={})

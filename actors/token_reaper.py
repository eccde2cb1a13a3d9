"""The token reaper actor: deletes expired OAuth artefacts in small batches on a schedule.

Every `interval` seconds the node holding lease "token-reaper" makes one pass over the reaped
tables (`storage.reaping.REAPED_TABLES`). For each table it deletes batches of `batch_size` rows
that expired before the pass began, until a batch comes back short or the table has had
`max_batches_per_pass` batches; the rest of a larger backlog waits for the next pass, so a pass is
bounded however far behind the tables are. Between batches it sleeps `pause` seconds so the
node's requests interleave with a long pass, and each batch commits on its own, so no lock is held
for longer than one batch.

Deleting an expired row is safe whoever does it, so the lease only keeps the nodes of a cluster
from doing the same work twice; `reap_now` makes a pass on the node asked, lease or not.

A storage failure is logged as `reaper.failed` and the pass moves on (a failing table does not
starve the others); the next pass tries again. Log lines carry counts and table names only.
"""

from dataclasses import dataclass

import structlog
import trio

from actors.lease import release_quietly
from actors.mailbox import Envelope, Mailbox, answer, answer_error
from app.config import ReaperSettings
from app.protocol.ports import Clock
from storage.errors import StorageError
from storage.reaping import REAPED_TABLES

_log = structlog.get_logger("tessera.reaper")

LEASE_NAME = "token-reaper"
# A pass over a large backlog takes a while; the default ask timeout is too tight for it.
ASK_TIMEOUT = 60.0


@dataclass(frozen=True)
class _ReapNow:
    pass


@dataclass(frozen=True)
class _TableOutcome:
    deleted: int
    batches: int
    capped: bool  # the table still had a full batch when its budget for the pass ran out


class TokenReaper:
    def __init__(self, storage, settings: ReaperSettings, clock: Clock, node_id: str, *,
                 ask_timeout: float = ASK_TIMEOUT) -> None:
        self.mailbox = Mailbox("token-reaper")
        # Rows this node deleted since it started, per table (metrics, tests).
        self.reaped_total: dict[str, int] = dict.fromkeys(REAPED_TABLES, 0)
        self._storage = storage
        self._settings = settings
        self._clock = clock
        self._node_id = node_id
        self._ask_timeout = ask_timeout
        self._leader = False
        self._next_pass = 0.0  # trio time

    async def reap_now(self) -> dict[str, int]:
        """Make a pass on this node now; rows deleted per table (a failing table: up to the failure,
        logged as `reaper.failed`)."""
        return await self.mailbox.ask(_ReapNow(), self._ask_timeout)

    # -- the actor loop ---------------------------------------------------------------------------

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        try:
            self._next_pass = trio.current_time() + self._settings.interval
            task_status.started()
            while True:
                envelope = await self.mailbox.receive_until(self._next_pass)
                if envelope is None:
                    await self._scheduled_pass()
                else:
                    await self._serve(envelope)
        finally:
            await self._step_down()

    async def _serve(self, envelope: Envelope) -> None:
        try:
            deleted = await self._pass()
        except BaseException as error:  # a bug, or the actor stopping
            await answer_error(envelope, error)
            raise  # a bug: crash, and let the supervisor restart the actor
        await answer(envelope, deleted)

    async def _scheduled_pass(self) -> None:
        started = trio.current_time()
        if await self._hold_lease():
            await self._pass()
        # Slots a long pass overran are skipped rather than run back to back.
        interval = self._settings.interval
        self._next_pass = started + interval
        while self._next_pass <= trio.current_time():
            self._next_pass += interval

    async def _hold_lease(self) -> bool:
        try:
            self._leader = await self._storage.leases.acquire(
                LEASE_NAME, self._node_id, self._clock.now_ms(),
                int(self._settings.lease_duration * 1000))
        except StorageError as error:
            _log.warning("reaper.failed", step="lease", error_type=type(error).__name__,
                         error=str(error))
            self._leader = False
        return self._leader

    async def _step_down(self) -> None:
        """Hand the lease back on the way out so another node takes over now, not when it lapses."""
        if not self._leader:
            return
        self._leader = False
        await release_quietly(self._storage.leases, LEASE_NAME, self._node_id)

    # -- a pass -----------------------------------------------------------------------------------

    async def _pass(self) -> dict[str, int]:
        now = self._clock.now_ms()  # rows expiring during the pass wait for the next one
        outcomes = {table: await self._reap_table(table, now) for table in REAPED_TABLES}
        deleted = {table: outcome.deleted for table, outcome in outcomes.items()}
        log = _log.info if any(deleted.values()) else _log.debug
        # Counts sit in one mapping: the log redaction masks top-level members named "*token*".
        log("reaper.pass", deleted=deleted,
            batches={table: outcome.batches for table, outcome in outcomes.items()},
            capped=[table for table, outcome in outcomes.items() if outcome.capped])
        return deleted

    async def _reap_table(self, table: str, now: int) -> _TableOutcome:
        settings = self._settings
        deleted = batches = 0
        try:
            while batches < settings.max_batches_per_pass:
                if batches:
                    await trio.sleep(settings.pause)
                count = await self._storage.reaper.delete_expired_batch(
                    table, now, settings.batch_size)
                batches += 1
                deleted += count
                self.reaped_total[table] += count
                if count < settings.batch_size:
                    return _TableOutcome(deleted, batches, capped=False)
        except StorageError as error:
            _log.warning("reaper.failed", table=table, error_type=type(error).__name__,
                         error=str(error))
            return _TableOutcome(deleted, batches, capped=False)
        return _TableOutcome(deleted, batches, capped=True)

"""The cache invalidator actor: applies other nodes' writes to this node's entity cache.

Every write to a cached row records a change event in the same transaction (storage/changes.py).
Every `poll_interval` seconds this actor reads the events of the last `lookback` seconds and
evicts the topic of each event it has not seen before (storage/cache.py). A change made on any
node is therefore visible everywhere within about `poll_interval`.

The window, rather than a cursor, is what makes a late commit safe: an event whose id was handed
out before a smaller one committed is still inside the window when it becomes visible. Events are
remembered until they leave the window. When a poll fails, or polls were interrupted for longer
than the window (events may have been missed), the whole cache is cleared: correctness over
hit rate. Writers' clocks may differ from ours by up to `lookback - poll_interval` seconds.
"""

import structlog
import trio

from actors.mailbox import Envelope, Mailbox, answer, answer_error
from app.config import CacheSettings
from app.protocol.ports import Clock
from storage.errors import StorageError

_log = structlog.get_logger("tessera.cache")


class CacheInvalidator:
    def __init__(self, storage, settings: CacheSettings, clock: Clock) -> None:
        self.mailbox = Mailbox("cache-invalidator")
        self._storage = storage
        self._cache = storage.cache
        self._settings = settings
        self._clock = clock
        self._seen: dict[int, int] = {}  # event id -> when this node first saw it (ms)
        self._last_poll_ms: int | None = None

    async def poll_now(self) -> int:
        """Poll once now; returns the number of new events applied (tests, operators)."""
        return await self.mailbox.ask("poll")

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        next_poll = trio.current_time()
        while True:
            envelope = await self.mailbox.receive_until(next_poll)
            if envelope is not None:
                await self._serve(envelope)
                continue
            await self._poll()
            next_poll = trio.current_time() + self._settings.poll_interval

    async def _serve(self, envelope: Envelope) -> None:
        try:
            applied = await self._poll()
        except BaseException as error:  # a bug, or the actor stopping
            await answer_error(envelope, error)
            raise
        await answer(envelope, applied)

    async def _poll(self) -> int:
        now = self._clock.now_ms()
        window_ms = int(self._settings.lookback * 1000)
        if self._last_poll_ms is not None and now - self._last_poll_ms >= window_ms:
            self._forget_all("gap")
        try:
            events = await self._storage.changes.since(now - window_ms)
        except StorageError as error:
            self._forget_all("poll_failed", error=str(error))
            self._last_poll_ms = None
            return 0
        self._last_poll_ms = now
        applied = self._apply(events, now)
        self._seen = {event: seen for event, seen in self._seen.items()
                      if seen > now - 2 * window_ms}
        return applied

    def _apply(self, events: list[tuple[int, str]], now: int) -> int:
        applied = 0
        for event_id, topic in events:
            if event_id in self._seen:
                continue
            self._seen[event_id] = now
            self._cache.evict(topic)
            applied += 1
        if applied:
            _log.debug("cache.invalidated", events=applied)
        return applied

    def _forget_all(self, reason: str, **details) -> None:
        self._cache.clear()
        self._seen.clear()
        _log.warning("cache.cleared", reason=reason, **details)

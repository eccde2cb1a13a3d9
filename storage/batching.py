"""Group commit: concurrent operations of one kind share one bridge crossing and one transaction.

Under load, dozens of requests want to insert a token at the same moment. Done one by one, each
pays a bridge crossing (70-110 µs), a statement and a commit (on SQLite with synchronous=FULL an
fsync; on PostgreSQL a WAL flush and a round trip). A `Batcher` queues the operations and one
background task runs everything queued in one `run_batch(items)` call on the asyncio side. There
is no timer: the first operation runs at once, and those that arrive while it runs form the
next batch, so an idle server adds no latency and a busy one commits many rows per flush.

Guarantees: `submit()` returns only after the batch holding its item has committed (no response
leaves before its row is durable); a failing item fails alone (`run_batch` reports an outcome
per item, see `per_item`); a caller that is cancelled while waiting does not cancel the batch.
"""

from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

from storage.bridge import Bridge


class _Slot:
    __slots__ = ("done", "error", "item", "value")

    def __init__(self, item: Any) -> None:
        self.item = item
        self.done = trio.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class Batcher:
    def __init__(self, bridge: Bridge, run_batch: Callable[[list], Awaitable[Sequence]], *,
                 max_batch: int = 256) -> None:
        """`run_batch(items)` runs on the asyncio side and returns one outcome per item: its
        value, or the exception that item raised (the others must still be applied)."""
        self._bridge = bridge
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._queue: deque[_Slot] = deque()
        self._wakeup = trio.Event()
        self.batches = 0
        self.items = 0

    async def submit(self, item: Any) -> Any:
        slot = _Slot(item)
        self._queue.append(slot)
        self._wakeup.set()
        await slot.done.wait()
        if slot.error is not None:
            raise slot.error
        return slot.value

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """The writer task: runs until cancelled, then finishes nothing half-way (a batch in
        flight completes under a shield, so its callers get their answer)."""
        task_status.started()
        while True:
            await self._wakeup.wait()
            self._wakeup = trio.Event()
            while self._queue:
                batch = [self._queue.popleft()
                         for _ in range(min(self._max_batch, len(self._queue)))]
                with trio.CancelScope(shield=True):
                    await self._run(batch)

    async def _run(self, batch: list[_Slot]) -> None:
        self.batches += 1
        self.items += len(batch)
        try:
            outcomes = await self._bridge.call(self._run_batch, [slot.item for slot in batch])
        except Exception as error:  # the database is gone: every caller hears why
            outcomes = [error] * len(batch)
        for slot, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                slot.error = self._bridge.translate(outcome)
            else:
                slot.value = outcome
            slot.done.set()


async def per_item(items: list, run_all: Callable[[list], Awaitable[list]],
                   run_one: Callable[[Any], Awaitable[Any]]) -> list:
    """Outcomes for a batch: `run_all(items)` in one go; if that fails (one bad item rolls the
    transaction back), each item again on its own, so only the bad ones fail."""
    try:
        return await run_all(items)
    except Exception as error:
        if len(items) == 1:
            return [error]
    outcomes: list = []
    for item in items:
        try:
            outcomes.append(await run_one(item))
        except Exception as error:
            outcomes.append(error)
    return outcomes

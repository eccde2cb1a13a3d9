"""The change feed: which cached rows changed, for every node to evict (storage/cache.py).

A repository that writes a cached row calls `record_changes` inside the same transaction, so the
event exists exactly when the change does. Readers ask for the events of a recent time window
rather than "after the last id": on PostgreSQL ids are handed out before commit, so a later
commit can carry a smaller id, and a cursor would skip it. Events are kept for `RETENTION_MS`
and then reaped like any expired row.
"""

import time

from storage.bridge import Bridge
from storage.models import ChangeEvent

RETENTION_MS = 3_600_000


async def record_changes(*topics: str) -> None:
    """Asyncio side, inside the writer's transaction."""
    now = int(time.time() * 1000)
    await ChangeEvent.bulk_create([
        ChangeEvent(topic=topic, created_at=now, expires_at=now + RETENTION_MS)
        for topic in topics])


class ChangeRepository:
    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    async def since(self, created_from_ms: int) -> list[tuple[int, str]]:
        """(id, topic) of every event created at or after `created_from_ms`, oldest first."""
        return await self._bridge.call(_since, created_from_ms)

    async def record(self, *topics: str) -> None:
        await self._bridge.call(record_changes, *topics)


async def _since(created_from_ms: int) -> list[tuple[int, str]]:
    rows = await ChangeEvent.filter(created_at__gte=created_from_ms).order_by("id") \
        .values_list("id", "topic")
    return [(int(event_id), topic) for event_id, topic in rows]

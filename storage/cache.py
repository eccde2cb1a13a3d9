"""In-process copies of the rows every API call reads: services, clients, v3 API credentials.

A request to `/auth/token` needs its service (the caller's credentials) and its client; reading
both from the database costs two bridge crossings and two queries, more than the rest of the
request. This cache keeps them in memory, bounded in size and age, and forgets them when they
change:

* a write through this node's repositories evicts the entries it touches at once;
* every write also records a change event (table `change_events`) in its own transaction, and
  the cache invalidator actor (actors/cache_invalidator.py) polls those events and evicts here,
  so other nodes and processes see a change within `[cache] poll_interval`;
* whatever happens, an entry is dropped after `[cache] ttl` seconds.

Entries are grouped by *topic* (the change event names, e.g. "service:<api key>" and
"clients:<api key>"); eviction is by topic. A load that started before an eviction is not stored
when it completes (the generation check), so a stale read cannot outlive the change it raced with.

Cached records are shared between requests: callers treat them as read-only, as they already
must (the records are frozen dataclasses; nothing in app/ mutates a record's document).
"""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

MISSING = object()


def service_topic(api_key: int) -> str:
    return f"service:{api_key}"


def clients_topic(service_api_key: int) -> str:
    return f"clients:{service_api_key}"


def credentials_topic(owner_id: int) -> str:
    return f"credentials:{owner_id}"


@dataclass
class _Entry:
    value: Any
    topic: str
    expires_at: float


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0


@dataclass
class EntityCache:
    ttl: float = 60.0
    max_entries: int = 10_000
    clock: Callable[[], float] = monotonic
    stats: CacheStats = field(default_factory=CacheStats)
    # Bumped by every eviction; a load stores its result only if nothing was evicted meanwhile.
    generation: int = field(default=0, init=False)
    _entries: OrderedDict = field(default_factory=OrderedDict, init=False, repr=False)
    _topics: dict[str, set] = field(default_factory=dict, init=False, repr=False)

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.ttl > 0

    def get(self, key: Hashable) -> Any:
        """The cached value, or MISSING."""
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= self.clock():
            self.stats.misses += 1
            return MISSING
        self._entries.move_to_end(key)
        self.stats.hits += 1
        return entry.value

    async def through(self, key: Hashable, topic: str, load) -> Any:
        """The cached value for `key`, else `await load()` (cached unless it is None)."""
        value = self.get(key)
        if value is not MISSING:
            return value
        generation = self.generation
        value = await load()
        if value is not None:
            self.put(key, value, topic, generation)
        return value

    def put(self, key: Hashable, value: Any, topic: str, generation: int) -> None:
        """Store `value`, loaded when the generation was `generation`, unless evicted since."""
        if not self.enabled or generation != self.generation:
            return
        self._forget(key)
        self._entries[key] = _Entry(value, topic, self.clock() + self.ttl)
        self._topics.setdefault(topic, set()).add(key)
        while len(self._entries) > self.max_entries:
            self._forget(next(iter(self._entries)))

    def evict(self, topic: str) -> None:
        self.generation += 1
        for key in self._topics.pop(topic, ()):
            self._entries.pop(key, None)
            self.stats.evictions += 1

    def clear(self) -> None:
        """Forget everything (the change feed could not be read: changes may have been missed)."""
        self.generation += 1
        self.stats.evictions += len(self._entries)
        self._entries.clear()
        self._topics.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _forget(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            keys = self._topics.get(entry.topic)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._topics[entry.topic]

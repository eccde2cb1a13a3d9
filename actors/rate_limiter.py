"""Token buckets per (API credential, API group): the rate limiter actor.

Each bucket holds up to `burst` tokens and refills continuously at `rate` tokens per second; a
request takes one token or is refused. The HTTP layer turns a `Decision` into a 429 with
`Retry-After` (RFC 9110 §10.2.3) and `RateLimit-*` headers. The buckets are owned by one actor task
and reached only through its mailbox, so no two requests ever update a bucket concurrently. All
time is trio time, so `MockClock` drives refills in tests.

Memory is bounded by `max_buckets`: the least recently used bucket is evicted when a new one would
exceed it, so an attacker cycling credentials cannot grow the table without bound.
"""

import dataclasses
import math
from collections import OrderedDict
from dataclasses import dataclass

import structlog
import trio

from actors.mailbox import ActorUnavailable, Mailbox, answer
from app.config import BucketSettings, RateLimitSettings

_log = structlog.get_logger("tessera.actors")

# Trio time is a float, so `elapsed * rate` can land a hair below a whole token. Without this slack
# a client that waited exactly the `Retry-After` we gave it could be refused again.
_EPSILON = 1e-9

# The actor answers in microseconds; no answer within this long means it is down or restarting.
DEFAULT_ASK_TIMEOUT = 0.25

# While the actor is down every request would log; one line per interval (with a count) is enough.
_UNAVAILABLE_LOG_INTERVAL = 1.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # the bucket's burst
    remaining: int  # whole tokens left after this request (0 when refused)
    reset_seconds: int  # seconds until the bucket is full again (ceil, >= 0)
    retry_after: int  # when refused: whole seconds until one token is available (>= 1); else 0


@dataclass(frozen=True)
class _Take:
    """Ask the actor to take one token from the bucket of (credential, group)."""

    credential: str
    group: str


@dataclass
class _Bucket:
    tokens: float
    updated_at: float

    def refill(self, limit: BucketSettings, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.tokens = min(float(limit.burst), self.tokens + elapsed * limit.rate)
        self.updated_at = now

    def take(self) -> bool:
        if self.tokens + _EPSILON < 1.0:
            return False
        self.tokens = max(0.0, self.tokens - 1.0)
        return True

    def decision(self, limit: BucketSettings, allowed: bool) -> Decision:
        return Decision(
            allowed=allowed,
            limit=limit.burst,
            remaining=math.floor(self.tokens + _EPSILON) if allowed else 0,
            reset_seconds=_whole_seconds(limit.burst - self.tokens, limit.rate),
            retry_after=0 if allowed else max(1, _whole_seconds(1.0 - self.tokens, limit.rate)),
        )


def _whole_seconds(missing_tokens: float, rate: float) -> int:
    return max(0, math.ceil(missing_tokens / rate - _EPSILON))


class RateLimiter:
    def __init__(
        self,
        settings: RateLimitSettings,
        *,
        max_buckets: int = 100_000,
        ask_timeout: float = DEFAULT_ASK_TIMEOUT,
    ) -> None:
        if max_buckets < 1:
            raise ValueError("max_buckets must be at least 1")
        self._enabled = settings.enabled
        self._limits = _limits_by_group(settings)
        self._max_buckets = max_buckets
        self._ask_timeout = ask_timeout
        # Insertion order is recency order: every use moves a bucket to the end (LRU).
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()
        self._unavailable_logged_at = -math.inf
        self._unavailable_suppressed = 0
        self.mailbox = Mailbox("rate_limiter")

    @property
    def bucket_count(self) -> int:
        """Buckets currently held (for metrics and tests; never above `max_buckets`)."""
        return len(self._buckets)

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """The actor loop. The inbox belongs to the Mailbox, so a restart keeps queued asks."""
        task_status.started()
        async for envelope in self.mailbox.receive:
            take: _Take = envelope.message
            await answer(envelope, self._take(take.credential, take.group))

    async def check(self, credential: str, group: str) -> Decision:
        """Take one token for `credential` in API `group`; ValueError for an unknown group."""
        limit = self._limit_for(group)
        if not self._enabled:
            return _unlimited(limit)
        try:
            return await self.mailbox.ask(_Take(credential, group), timeout=self._ask_timeout)
        except ActorUnavailable:
            # Fail OPEN. The limiter is a guard against overload and abuse, not an authorization
            # check: callers are authenticated separately. Failing closed would turn a crashed or
            # restarting limiter (the supervisor backs off up to 30 s) into an outage of every
            # token, introspection and authorization call of every front-end. The actor does
            # O(1) work per ask, so it is never the bottleneck under load; a timeout means it is
            # down, and the supervisor is already restarting it.
            self._log_unavailable(group)
            return _unlimited(limit)

    def _limit_for(self, group: str) -> BucketSettings:
        try:
            return self._limits[group]
        except KeyError:
            known = ", ".join(sorted(self._limits))
            raise ValueError(f"unknown API group '{group}' (known: {known})") from None

    def _take(self, credential: str, group: str) -> Decision:
        limit = self._limits[group]
        now = trio.current_time()
        bucket = self._bucket_for((credential, group), limit, now)
        bucket.refill(limit, now)
        return bucket.decision(limit, bucket.take())

    def _bucket_for(self, key: tuple[str, str], limit: BucketSettings, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is not None:
            self._buckets.move_to_end(key)
            return bucket
        bucket = self._buckets[key] = _Bucket(tokens=float(limit.burst), updated_at=now)
        self._evict_overflow()
        return bucket

    def _evict_overflow(self) -> None:
        # The least recently used bucket has been idle longest, so normally it is full again and
        # dropping it loses nothing: a fresh bucket is full too. If it is not yet full (a flood of
        # new credentials), the hard memory bound wins; the cost is at most one burst regained by
        # that credential per `max_buckets` new keys, which a flood itself pays for in requests.
        while len(self._buckets) > self._max_buckets:
            self._buckets.popitem(last=False)

    def _log_unavailable(self, group: str) -> None:
        now = trio.current_time()
        if now - self._unavailable_logged_at < _UNAVAILABLE_LOG_INTERVAL:
            self._unavailable_suppressed += 1
            return
        _log.warning("ratelimit.unavailable", group=group, allowed=True,
                     suppressed=self._unavailable_suppressed)
        self._unavailable_logged_at = now
        self._unavailable_suppressed = 0


def _limits_by_group(settings: RateLimitSettings) -> dict[str, BucketSettings]:
    """Every `BucketSettings` field of the settings is an API group (owner, management, ...)."""
    limits = {
        spec.name: getattr(settings, spec.name)
        for spec in dataclasses.fields(settings)
        if isinstance(getattr(settings, spec.name), BucketSettings)
    }
    for group, limit in limits.items():
        # A zero rate would make Retry-After infinite and a zero burst refuse everything.
        if limit.rate <= 0 or limit.burst < 1:
            raise ValueError(f"rate_limit.{group} needs rate > 0 and burst >= 1")
    return limits


def _unlimited(limit: BucketSettings) -> Decision:
    """What an unlimited answer looks like: a full bucket (disabled, or the actor unavailable)."""
    return Decision(allowed=True, limit=limit.burst, remaining=limit.burst,
                    reset_seconds=0, retry_after=0)

"""The rate limiter actor: token buckets per (API credential, API group), driven by trio time."""

from contextlib import asynccontextmanager

import pytest
import trio
from structlog.testing import capture_logs

from actors.rate_limiter import DEFAULT_ASK_TIMEOUT, Decision, RateLimiter
from app.config import BucketSettings, RateLimitSettings

pytestmark = pytest.mark.trio

# Small, distinct limits so every number below can be worked out by hand:
# owner refills one token every 2 s; management one every 0.5 s.
SETTINGS = RateLimitSettings(
    enabled=True,
    owner=BucketSettings(rate=0.5, burst=3),
    management=BucketSettings(rate=2.0, burst=4),
    auth=BucketSettings(rate=10.0, burst=20),
    misc=BucketSettings(rate=1.0, burst=1),
)


@asynccontextmanager
async def running(settings=SETTINGS, **options):
    limiter = RateLimiter(settings, **options)
    async with trio.open_nursery() as nursery:
        await nursery.start(limiter.run)
        yield limiter
        nursery.cancel_scope.cancel()


async def take_all(limiter: RateLimiter, credential: str, group: str, count: int) -> None:
    for _ in range(count):
        assert (await limiter.check(credential, group)).allowed


async def test_burst_then_refusal(autojump_clock):
    async with running() as limiter:
        decisions = [await limiter.check("key-a", "owner") for _ in range(4)]
    assert decisions == [
        Decision(allowed=True, limit=3, remaining=2, reset_seconds=2, retry_after=0),
        Decision(allowed=True, limit=3, remaining=1, reset_seconds=4, retry_after=0),
        Decision(allowed=True, limit=3, remaining=0, reset_seconds=6, retry_after=0),
        Decision(allowed=False, limit=3, remaining=0, reset_seconds=6, retry_after=2),
    ]


async def test_refusal_does_not_consume_a_token(autojump_clock):
    async with running() as limiter:
        await take_all(limiter, "key-a", "owner", 3)
        for _ in range(5):
            assert not (await limiter.check("key-a", "owner")).allowed
        await trio.sleep(2)
        assert (await limiter.check("key-a", "owner")).allowed


async def test_refill_over_time(autojump_clock):
    async with running() as limiter:
        await take_all(limiter, "key-a", "owner", 3)
        await trio.sleep(2)  # one token back at 0.5/s
        assert await limiter.check("key-a", "owner") == Decision(True, 3, 0, 6, 0)
        await trio.sleep(1)  # half a token
        assert await limiter.check("key-a", "owner") == Decision(False, 3, 0, 5, 1)
        await trio.sleep(1)
        assert await limiter.check("key-a", "owner") == Decision(True, 3, 0, 6, 0)
        await trio.sleep(100)  # refill stops at the burst
        assert await limiter.check("key-a", "owner") == Decision(True, 3, 2, 2, 0)


@pytest.mark.parametrize("rate", [0.1, 0.3, 3.0, 7.0], ids=lambda rate: f"rate-{rate}")
async def test_waiting_retry_after_is_enough(autojump_clock, rate):
    settings = RateLimitSettings(misc=BucketSettings(rate=rate, burst=1))
    async with running(settings) as limiter:
        await take_all(limiter, "key-a", "misc", 1)
        refused = await limiter.check("key-a", "misc")
        await trio.sleep(refused.retry_after)
        assert (await limiter.check("key-a", "misc")).allowed


async def test_a_token_returns_after_exactly_one_over_rate_seconds(autojump_clock):
    # At these clock values (t1 - t0) * 3 is 0.9999999999999998 in floating point.
    settings = RateLimitSettings(misc=BucketSettings(rate=3.0, burst=1))
    async with running(settings) as limiter:
        await trio.sleep(1)
        await take_all(limiter, "key-a", "misc", 1)
        await trio.sleep(1 / 3)
        assert await limiter.check("key-a", "misc") == Decision(True, 1, 0, 1, 0)


async def test_buckets_are_independent_per_credential_and_group(autojump_clock):
    async with running() as limiter:
        await take_all(limiter, "key-a", "owner", 3)
        assert not (await limiter.check("key-a", "owner")).allowed
        assert await limiter.check("key-b", "owner") == Decision(True, 3, 2, 2, 0)
        assert await limiter.check("key-a", "management") == Decision(True, 4, 3, 1, 0)


async def test_disabled_is_always_allowed(autojump_clock):
    settings = RateLimitSettings(enabled=False, owner=BucketSettings(rate=0.5, burst=3))
    async with running(settings) as limiter:
        decisions = {await limiter.check("key-a", "owner") for _ in range(50)}
        assert decisions == {Decision(True, 3, 3, 0, 0)}
        assert limiter.bucket_count == 0


async def test_eviction_keeps_buckets_within_max(autojump_clock):
    async with running(max_buckets=5) as limiter:
        for serial in range(50):
            await limiter.check(f"key-{serial}", "auth")
            assert limiter.bucket_count <= 5
        assert limiter.bucket_count == 5


async def test_eviction_drops_the_least_recently_used(autojump_clock):
    async with running(max_buckets=2) as limiter:
        await limiter.check("key-a", "owner")
        await limiter.check("key-b", "owner")
        await limiter.check("key-a", "owner")  # key-a is now the most recently used
        await limiter.check("key-c", "owner")  # evicts key-b
        assert await limiter.check("key-a", "owner") == Decision(True, 3, 0, 6, 0)
        assert await limiter.check("key-b", "owner") == Decision(True, 3, 2, 2, 0)


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "disabled"])
async def test_unknown_group_raises(enabled):
    settings = RateLimitSettings(enabled=enabled)
    async with running(settings) as limiter:
        with pytest.raises(ValueError, match="unknown API group 'token'"):
            await limiter.check("key-a", "token")


@pytest.mark.parametrize("bucket", [BucketSettings(0.0, 3), BucketSettings(1.0, 0)],
                         ids=["zero-rate", "zero-burst"])
async def test_unusable_limits_are_rejected(bucket):
    with pytest.raises(ValueError, match=r"rate_limit\.owner"):
        RateLimiter(RateLimitSettings(owner=bucket))


async def test_unavailable_actor_fails_open_and_logs(autojump_clock):
    limiter = RateLimiter(SETTINGS)
    async with trio.open_nursery() as nursery:
        await nursery.start(limiter.run)
        nursery.cancel_scope.cancel()  # the actor is down, as between a crash and its restart
    with capture_logs() as logs:
        before = trio.current_time()
        first = await limiter.check("key-a", "owner")
        second = await limiter.check("key-a", "owner")  # within the log interval: counted only
        await trio.sleep(1)
        third = await limiter.check("key-a", "owner")
    assert first == second == third == Decision(True, 3, 3, 0, 0)
    assert trio.current_time() - before == pytest.approx(3 * DEFAULT_ASK_TIMEOUT + 1)
    assert [(log["event"], log["suppressed"]) for log in logs] == [
        ("ratelimit.unavailable", 0),
        ("ratelimit.unavailable", 1),
    ]

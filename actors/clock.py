"""Wall-clock milliseconds that advance with trio's clock.

Actors take their epoch-millisecond timestamps (key publication, lease expiry) from the same clock
that drives their deadlines, so a test running under `trio.testing.MockClock` moves both together:
a rotation due in 30 days happens after 30 mock days, and the rows it writes say so.
"""

import time

import trio


class TrioClock:
    """`now_ms()` = `origin_ms` plus the trio time elapsed since construction.

    Construct it inside `trio.run` (it reads `trio.current_time()`); `origin_ms` defaults to the
    system's wall clock at construction.
    """

    def __init__(self, origin_ms: int | None = None) -> None:
        self._origin_ms = time.time_ns() // 1_000_000 if origin_ms is None else origin_ms
        self._origin_trio = trio.current_time()

    def now_ms(self) -> int:
        elapsed = trio.current_time() - self._origin_trio
        # Truncating (elapsed is never negative) means a deadline computed from now_ms() is never
        # reported as reached before trio's clock actually reaches it.
        return self._origin_ms + int(elapsed * 1000)

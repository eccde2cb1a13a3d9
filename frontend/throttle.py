"""Slowing down password guessing (RFC 9700 §4.4 / OWASP: limit failed logins per account).

After `max_failures` wrong passwords for one key within `window` seconds, further attempts for
that key are refused until the oldest failure leaves the window — whether or not the username
exists, so the refusal reveals nothing. The views key it by username and client address: one
address cannot lock a user out everywhere, at the price of more guesses for an attacker with
many addresses. Per process and in memory: several processes multiply the allowance.
"""

import hashlib
import time
from collections import deque


class LoginThrottle:
    def __init__(self, max_failures: int = 5, window: float = 300.0, clock=time.monotonic,
                 max_tracked: int = 100_000):
        self._max, self._window, self._clock = max_failures, window, clock
        self._max_tracked = max_tracked
        self._failures: dict[bytes, deque[float]] = {}

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may try now."""
        recent = self._recent(_digest(key))
        if len(recent) < self._max:
            return 0
        return max(1, int(recent[0] + self._window - self._clock()) + 1)

    def failed(self, key: str) -> None:
        key = _digest(key)
        failures = self._failures.get(key)
        if failures is None:
            if len(self._failures) >= self._max_tracked:
                self._failures.pop(next(iter(self._failures)))   # forget the oldest key
            failures = self._failures[key] = deque(maxlen=self._max)
        failures.append(self._clock())

    def succeeded(self, key: str) -> None:
        self._failures.pop(_digest(key), None)

    def _recent(self, key: bytes) -> tuple[float, ...]:
        failures = self._failures.get(key)
        if not failures:
            return ()
        while failures and failures[0] <= self._clock() - self._window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return tuple(failures)


def _digest(key: str) -> bytes:
    """Keys are kept as fixed-size digests: memory does not grow with what callers send."""
    return hashlib.sha256(key.casefold().encode()).digest()

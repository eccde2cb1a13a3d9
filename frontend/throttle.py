"""Slowing down password guessing (RFC 9700 §4.4 / OWASP: limit failed logins per account).

After `max_failures` wrong passwords for one username within `window` seconds, further attempts
for that username are refused until the oldest failure leaves the window — whether or not the
username exists, so the refusal reveals nothing. Per process and in memory: a front-end with
several processes multiplies the allowance by their number.
"""

import time
from collections import deque


class LoginThrottle:
    def __init__(self, max_failures: int = 5, window: float = 300.0, clock=time.monotonic,
                 max_tracked: int = 100_000):
        self._max, self._window, self._clock = max_failures, window, clock
        self._max_tracked = max_tracked
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, username: str) -> int:
        """Seconds until `username` may try again; 0 when it may try now."""
        recent = self._recent(username.casefold())
        if len(recent) < self._max:
            return 0
        return max(1, int(recent[0] + self._window - self._clock()) + 1)

    def failed(self, username: str) -> None:
        key = username.casefold()
        if key not in self._failures and len(self._failures) >= self._max_tracked:
            self._forget_oldest()
        self._recent(key).append(self._clock())

    def succeeded(self, username: str) -> None:
        self._failures.pop(username.casefold(), None)

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.setdefault(key, deque(maxlen=self._max))
        while failures and failures[0] <= self._clock() - self._window:
            failures.popleft()
        return failures

    def _forget_oldest(self) -> None:
        self._failures.pop(next(iter(self._failures)))

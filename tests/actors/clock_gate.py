"""Mock time that stands still while real work (a database call, a worker thread) is in flight.

`MockClock(autojump_threshold=0)` advances mock time whenever every task is waiting, and a task
waiting for the database counts as waiting: a 2 ms query would let the clock leap to the next
deadline (an ask timeout, the test's fail_after, an actor's next pass) that no real system would
reach during that query. Everything a test routes through the gate pauses autojump until it returns.
"""

import dataclasses
import math
from contextlib import contextmanager

import trio


class ClockGate:
    def __init__(self, clock: trio.testing.MockClock) -> None:
        self._clock = clock
        self._in_flight = 0

    @contextmanager
    def paused(self):
        self._in_flight += 1
        self._clock.autojump_threshold = math.inf
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._clock.autojump_threshold = 0

    def wrap(self, function):
        """`function` (a coroutine function) with autojump paused while it runs."""
        async def paused_call(*args, **kwargs):
            with self.paused():
                return await function(*args, **kwargs)
        return paused_call

    def pausing(self, target):
        """A view of `target` (a repository, a bridge) whose methods run with autojump paused."""
        return _Pausing(target, self)

    def storage(self, storage):
        """A copy of a `Storage` whose every repository is seen through `pausing`."""
        repositories = {spec.name: self.pausing(getattr(storage, spec.name))
                        for spec in dataclasses.fields(storage)}
        return dataclasses.replace(storage, **repositories)


class _Pausing:
    def __init__(self, target, gate: ClockGate) -> None:
        self._target = target
        self._gate = gate

    def __getattr__(self, name: str):
        return self._gate.wrap(getattr(self._target, name))

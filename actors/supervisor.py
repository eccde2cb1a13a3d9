"""Starts the actors, restarts one that crashes (with exponential backoff), cancels all on exit.

An actor is an async callable `run(task_status)` that calls `task_status.started()` once it is
ready. A crash before that is a start-up failure and propagates to `start`; a crash afterwards is
logged as `actor.crashed` and the actor is run again after a backoff that doubles up to a cap.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
import trio

_log = structlog.get_logger("tessera.actors")

ActorRun = Callable[..., Awaitable[None]]


class _ReadyStatus:
    """Forwards `started()` to the supervisor's caller the first time only."""

    def __init__(self, outer) -> None:
        self._outer = outer
        self.ready = False

    def started(self, value=None) -> None:
        if not self.ready:
            self.ready = True
            if self._outer is not None:
                self._outer.started(value)


@dataclass
class Supervisor:
    nursery: trio.Nursery
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    restarts: dict[str, int] = field(default_factory=dict)

    async def start(self, name: str, run: ActorRun) -> None:
        """Start the actor and return once it reports ready."""
        await self.nursery.start(self._supervise, name, run)

    async def _supervise(self, name: str, run: ActorRun, task_status=trio.TASK_STATUS_IGNORED):
        status = _ReadyStatus(task_status)
        backoff = self.initial_backoff
        while True:
            try:
                await run(task_status=status)
                _log.info("actor.stopped", actor=name)
                return
            except Exception as error:
                if not status.ready:
                    raise
                _log.error("actor.crashed", actor=name, error_type=type(error).__name__,
                           error=str(error), restart_in=backoff)
            self.restarts[name] = self.restarts.get(name, 0) + 1
            await trio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)
            _log.info("actor.restarted", actor=name, restarts=self.restarts[name])

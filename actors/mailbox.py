"""The actor pattern: a task that owns its state and is reached only through a bounded inbox.

`tell` delivers a message without waiting for an answer; `ask` sends the message with a one-shot
reply channel and waits, bounded by a deadline, for the actor's answer. An actor's `run` receives
from the inbox; because the inbox belongs to the Mailbox, not to one run, messages survive a restart
by the supervisor.
"""

from dataclasses import dataclass
from typing import Any

import trio


class ActorUnavailable(Exception):
    """The actor did not answer in time, or its inbox is closed."""


class Reply:
    """The one-shot answer slot of an `ask`: cheaper than a memory channel per ask (an event
    and a value), and the first answer wins."""

    __slots__ = ("_event", "value")

    def __init__(self) -> None:
        self._event = trio.Event()
        self.value: Any = None

    def set(self, value: Any) -> None:
        if not self._event.is_set():
            self.value = value
            self._event.set()

    async def wait(self) -> Any:
        await self._event.wait()
        return self.value


@dataclass
class Envelope:
    message: Any
    reply: Reply | None


class Mailbox:
    def __init__(self, name: str, capacity: int = 256) -> None:
        self.name = name
        self._send, self.receive = trio.open_memory_channel[Envelope](capacity)

    async def tell(self, message: Any) -> None:
        await self._send.send(Envelope(message, None))

    def tell_nowait(self, message: Any) -> bool:
        """Deliver without blocking; False when the inbox is full (the message is dropped)."""
        try:
            self._send.send_nowait(Envelope(message, None))
        except trio.WouldBlock:
            return False
        return True

    async def receive_until(self, deadline: float) -> Envelope | None:
        """The next message, or None once trio time reaches `deadline` (a deadline already
        past returns at once, so an actor's due work is never starved by its inbox)."""
        with trio.move_on_at(deadline):
            return await self.receive.receive()
        return None

    async def ask(self, message: Any, timeout: float = 5.0) -> Any:
        reply = Reply()
        try:
            with trio.fail_after(timeout):
                await self._send.send(Envelope(message, reply))
                outcome = await reply.wait()
        except (trio.TooSlowError, trio.ClosedResourceError, trio.BrokenResourceError):
            raise ActorUnavailable(
                f"actor '{self.name}' did not answer within {timeout}s") from None
        if isinstance(outcome, _Failure):
            raise outcome.error
        return outcome


@dataclass
class _Failure:
    error: BaseException


async def answer(envelope: Envelope, value: Any) -> None:
    """Reply to an `ask`; a caller that gave up waiting is not an error."""
    if envelope.reply is not None:
        envelope.reply.set(value)


async def answer_error(envelope: Envelope, error: BaseException) -> None:
    """Make the pending `ask` raise `error` in the caller. An actor stopped mid-answer
    (cancelled, interrupted) makes it raise ActorUnavailable at once, rather than leave the
    caller waiting out its whole timeout; the actor's own cancellation never crosses over."""
    if not isinstance(error, Exception):
        error = ActorUnavailable("the actor stopped before it answered")
    await answer(envelope, _Failure(error))

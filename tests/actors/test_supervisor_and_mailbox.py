"""The actor pattern (actors/mailbox.py) and its supervisor (actors/supervisor.py), on MockClock.

Every test takes `autojump_clock`: trio time jumps to the next deadline as soon as every task is
waiting, so backoffs and timeouts are asserted to the exact trio second without real sleeping.
"""

import itertools

import pytest
import trio
from structlog.testing import capture_logs

from actors.mailbox import ActorUnavailable, Mailbox, answer, answer_error
from actors.supervisor import Supervisor

pytestmark = pytest.mark.trio


# -- mailbox --------------------------------------------------------------------------------------

class Doubler:
    """A minimal actor: answers a number with its double, an error message with that error."""

    def __init__(self) -> None:
        self.mailbox = Mailbox("doubler", capacity=4)
        self.told: list = []

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        async for envelope in self.mailbox.receive:
            if isinstance(envelope.message, Exception):
                await answer_error(envelope, envelope.message)
            elif envelope.reply is None:
                self.told.append(envelope.message)
            else:
                await answer(envelope, envelope.message * 2)


async def test_ask_returns_the_actors_answer(autojump_clock):
    doubler = Doubler()
    async with trio.open_nursery() as nursery:
        await nursery.start(doubler.run)
        started = trio.current_time()

        assert await doubler.mailbox.ask(21) == 42
        assert await doubler.mailbox.ask(-4) == -8

        assert trio.current_time() == started  # answered without any trio time passing
        nursery.cancel_scope.cancel()


async def test_tell_delivers_in_order_without_reply(autojump_clock):
    doubler = Doubler()
    async with trio.open_nursery() as nursery:
        await nursery.start(doubler.run)

        await doubler.mailbox.tell("first")
        assert doubler.mailbox.tell_nowait("second") is True
        assert await doubler.mailbox.ask(1) == 2  # the inbox is in order: both tells were read

        assert doubler.told == ["first", "second"]
        nursery.cancel_scope.cancel()


async def test_answer_error_makes_ask_raise_that_error(autojump_clock):
    doubler = Doubler()
    refusal = LookupError("no key for service 1001")
    async with trio.open_nursery() as nursery:
        await nursery.start(doubler.run)

        with pytest.raises(LookupError) as raised:
            await doubler.mailbox.ask(refusal)

        assert raised.value is refusal
        assert await doubler.mailbox.ask(5) == 10  # the actor carries on
        nursery.cancel_scope.cancel()


async def test_ask_times_out_when_nobody_reads_the_inbox(autojump_clock):
    mailbox = Mailbox("absent")
    started = trio.current_time()

    with pytest.raises(ActorUnavailable) as raised:
        await mailbox.ask("ping", timeout=2.5)

    assert trio.current_time() - started == 2.5
    assert str(raised.value) == "actor 'absent' did not answer within 2.5s"


async def test_ask_times_out_when_the_actor_never_answers(autojump_clock):
    mailbox = Mailbox("silent")
    received = []

    async def silent() -> None:
        async for envelope in mailbox.receive:
            received.append(envelope.message)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(silent)
        started = trio.current_time()

        with pytest.raises(ActorUnavailable):
            await mailbox.ask("ping")

        assert trio.current_time() - started == 5.0  # the default timeout
        assert received == ["ping"]
        nursery.cancel_scope.cancel()


async def test_ask_times_out_while_the_inbox_stays_full(autojump_clock):
    mailbox = Mailbox("busy", capacity=1)
    assert mailbox.tell_nowait("queued") is True
    started = trio.current_time()

    with pytest.raises(ActorUnavailable):
        await mailbox.ask("ping", timeout=1.0)

    assert trio.current_time() - started == 1.0


async def test_ask_fails_at_once_when_the_inbox_is_closed(autojump_clock):
    mailbox = Mailbox("closed")
    await mailbox.receive.aclose()
    started = trio.current_time()

    with pytest.raises(ActorUnavailable):
        await mailbox.ask("ping")

    assert trio.current_time() == started


async def test_answering_a_caller_that_gave_up_is_not_an_error(autojump_clock):
    mailbox = Mailbox("late")
    with pytest.raises(ActorUnavailable):
        await mailbox.ask("ping", timeout=1.0)
    envelope = mailbox.receive.receive_nowait()

    await answer(envelope, "pong")
    await answer(envelope, "pong again")  # the one-shot reply slot is already full
    await answer_error(envelope, RuntimeError("too late"))

    assert envelope.message == "ping"


async def test_tell_nowait_is_refused_when_the_inbox_is_full(autojump_clock):
    mailbox = Mailbox("small", capacity=2)

    assert [mailbox.tell_nowait(n) for n in (1, 2, 3)] == [True, True, False]

    assert mailbox.receive.receive_nowait().message == 1
    assert mailbox.receive.receive_nowait().message == 2
    with pytest.raises(trio.WouldBlock):  # the refused message was dropped
        mailbox.receive.receive_nowait()
    assert mailbox.tell_nowait(4) is True


# -- supervisor -----------------------------------------------------------------------------------

class CrashingActor:
    """Reports ready, then crashes on each of its first `crashes` runs; records when each run
    began (in trio time)."""

    def __init__(self, crashes: int) -> None:
        self.crashes = crashes
        self.runs: list[float] = []

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        self.runs.append(trio.current_time())
        task_status.started()
        if len(self.runs) <= self.crashes:
            raise RuntimeError(f"crash {len(self.runs)}")
        await trio.sleep_forever()


async def supervise(actor: CrashingActor, observe_for: float, **backoff) -> Supervisor:
    async with trio.open_nursery() as nursery:
        supervisor = Supervisor(nursery, **backoff)
        await supervisor.start("flaky", actor.run)
        await trio.sleep(observe_for)
        nursery.cancel_scope.cancel()
    return supervisor


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


async def test_a_crashed_actor_is_restarted_with_doubling_backoff_up_to_the_cap(autojump_clock):
    actor = CrashingActor(crashes=9)

    supervisor = await supervise(actor, observe_for=200)

    assert gaps(actor.runs) == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert supervisor.restarts == {"flaky": 9}


async def test_restart_times_follow_the_configured_backoff(autojump_clock):
    actor = CrashingActor(crashes=5)
    origin = trio.current_time()

    supervisor = await supervise(actor, observe_for=60, initial_backoff=2, max_backoff=5)

    assert [run - origin for run in actor.runs] == [0, 2, 6, 11, 16, 21]
    assert supervisor.restarts == {"flaky": 5}


async def test_start_returns_once_the_actor_is_ready(autojump_clock):
    async def slow_to_start(task_status=trio.TASK_STATUS_IGNORED) -> None:
        await trio.sleep(7)
        task_status.started()
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        started = trio.current_time()
        await Supervisor(nursery).start("slow", slow_to_start)

        assert trio.current_time() - started == 7
        nursery.cancel_scope.cancel()


async def test_a_crash_before_ready_propagates_out_of_start(autojump_clock):
    attempts = []

    async def broken(task_status=trio.TASK_STATUS_IGNORED) -> None:
        attempts.append(trio.current_time())
        raise ValueError("bad [keys] algorithms")

    async with trio.open_nursery() as nursery:
        supervisor = Supervisor(nursery)
        with capture_logs() as logs, pytest.raises(ValueError, match="bad \\[keys\\] algorithms"):
            await supervisor.start("broken", broken)
        await trio.sleep(60)  # no restart is scheduled

    assert len(attempts) == 1
    assert supervisor.restarts == {}
    assert [entry["event"] for entry in logs] == []


async def test_a_crash_is_logged_as_actor_crashed(autojump_clock):
    actor = CrashingActor(crashes=2)

    with capture_logs() as logs:
        await supervise(actor, observe_for=10)

    assert logs == [
        {"event": "actor.crashed", "log_level": "error", "actor": "flaky",
         "error_type": "RuntimeError", "error": "crash 1", "restart_in": 0.5},
        {"event": "actor.restarted", "log_level": "info", "actor": "flaky", "restarts": 1},
        {"event": "actor.crashed", "log_level": "error", "actor": "flaky",
         "error_type": "RuntimeError", "error": "crash 2", "restart_in": 1.0},
        {"event": "actor.restarted", "log_level": "info", "actor": "flaky", "restarts": 2},
    ]


async def test_an_actor_that_returns_is_not_restarted(autojump_clock):
    runs = []

    async def one_shot(task_status=trio.TASK_STATUS_IGNORED) -> None:
        runs.append(trio.current_time())
        task_status.started()

    async with trio.open_nursery() as nursery:
        supervisor = Supervisor(nursery)
        with capture_logs() as logs:
            await supervisor.start("one-shot", one_shot)
            await trio.sleep(60)

    assert len(runs) == 1
    assert supervisor.restarts == {}
    assert logs == [{"event": "actor.stopped", "log_level": "info", "actor": "one-shot"}]


async def test_cancelling_the_nursery_cancels_every_actor(autojump_clock):
    cancelled: list[str] = []
    runs: list[str] = []

    def actor(name: str, crash: bool):
        async def run(task_status=trio.TASK_STATUS_IGNORED) -> None:
            runs.append(name)
            task_status.started()
            try:
                if crash:
                    raise RuntimeError("crash")  # leaves the supervisor in its backoff sleep
                await trio.sleep_forever()
            finally:
                cancelled.append(name)
        return run

    with capture_logs() as logs:
        async with trio.open_nursery() as nursery:
            supervisor = Supervisor(nursery, initial_backoff=100)
            for name in ("key_manager", "rate_limiter"):
                await supervisor.start(name, actor(name, crash=False))
            await supervisor.start("notifier", actor("notifier", crash=True))
            await trio.testing.wait_all_tasks_blocked()
            cancelled_at = trio.current_time()
            nursery.cancel_scope.cancel()

    assert trio.current_time() == cancelled_at
    assert sorted(cancelled) == ["key_manager", "notifier", "rate_limiter"]
    assert sorted(runs) == ["key_manager", "notifier", "rate_limiter"]  # no rerun after cancel
    assert [entry["event"] for entry in logs] == ["actor.crashed"]


async def test_the_inbox_outlives_a_restart(autojump_clock):
    mailbox = Mailbox("echo")

    async def echo(task_status=trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        async for envelope in mailbox.receive:
            if envelope.message == "crash":
                raise RuntimeError("asked to crash")
            await answer(envelope, f"echo {envelope.message}")

    async with trio.open_nursery() as nursery:
        supervisor = Supervisor(nursery)
        await supervisor.start("echo", echo)
        assert mailbox.tell_nowait("crash") is True
        await trio.testing.wait_all_tasks_blocked()
        asked_at = trio.current_time()

        # Asked during the 0.5 s backoff: the message waits in the inbox for the next run.
        assert await mailbox.ask("hello") == "echo hello"

        assert trio.current_time() - asked_at == 0.5
        assert supervisor.restarts == {"echo": 1}
        nursery.cancel_scope.cancel()


async def test_an_actor_stopped_mid_answer_fails_the_ask_at_once(autojump_clock):
    """The caller of `ask` learns at once that the actor stopped, instead of waiting out its
    timeout; the actor's cancellation itself stays with the actor."""
    mailbox = Mailbox("stopping")

    async def slow_actor(task_status=trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        envelope = await mailbox.receive.receive()
        try:
            await trio.sleep_forever()
        except BaseException as error:
            await answer_error(envelope, error)
            raise

    async with trio.open_nursery() as outer:
        actor_scope = trio.CancelScope()

        async def run_actor(task_status=trio.TASK_STATUS_IGNORED):
            with actor_scope:
                await slow_actor(task_status=task_status)

        await outer.start(run_actor)
        started = trio.current_time()
        outer.start_soon(_cancel_after, actor_scope, 1.0)
        with pytest.raises(ActorUnavailable, match="stopped before it answered"):
            await mailbox.ask("work", timeout=30)
        assert trio.current_time() - started == 1.0


async def _cancel_after(scope: trio.CancelScope, seconds: float) -> None:
    await trio.sleep(seconds)
    scope.cancel()

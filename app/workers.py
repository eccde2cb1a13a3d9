"""Several server processes on one port (`[server] workers` > 1).

One Python process serves one core (the GIL), so a machine's other cores need other processes.
The parent started by `tessera serve` does no HTTP itself: it starts `workers` node processes
(`tessera serve --worker I/N`), each a complete node (storage, actors, HTTP) binding the same
address with SO_REUSEPORT, so the kernel spreads connections across them. They cooperate like
nodes of a cluster on one database: leases elect the key rotator and the reaper, and the change
feed keeps their caches coherent (storage/cache.py).

Start-up is ordered: worker 0 starts alone (it applies migrations and creates the owner and the
demo service), reports its address (the real port when the configured one is 0), and only then
the others start with migrations off. A worker that dies is restarted with a growing delay. On
SIGTERM or SIGINT the parent passes SIGTERM on and waits for every worker's graceful stop.

Each worker's rate-limit buckets get 1/N of the configured rate and burst, so the node as a whole
keeps the configured limits (connections are spread evenly by the kernel's port hash).
"""

import dataclasses
import math
import os
import signal
import subprocess
import sys
from dataclasses import dataclass

import structlog
import trio

from app.config import BucketSettings, RateLimitSettings

_log = structlog.get_logger("tessera.workers")

BANNER_PREFIX = "Tessera API: http://"
START_TIMEOUT = 60.0
RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
HEALTHY_AFTER = 60.0  # a worker that ran this long restarts without delay if it dies


@dataclass(frozen=True)
class WorkerRole:
    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "WorkerRole":
        """`I/N`, as passed by the parent on the command line."""
        index, _, count = text.partition("/")
        role = cls(int(index), int(count))
        if not 0 <= role.index < role.count:
            raise ValueError(f"worker {text}: the index must be below the count")
        return role


SINGLE = WorkerRole(0, 1)


def rate_limit_share(settings: RateLimitSettings, workers: int) -> RateLimitSettings:
    """Each worker's share of the node's limits."""
    def share(bucket: BucketSettings) -> BucketSettings:
        return BucketSettings(rate=bucket.rate / workers,
                              burst=max(1, math.ceil(bucket.burst / workers)))
    return dataclasses.replace(settings, owner=share(settings.owner),
                               management=share(settings.management), auth=share(settings.auth),
                               misc=share(settings.misc))


async def run_workers(config_path: str, count: int, bind: str, grace_period: float) -> None:
    """Start `count` worker processes and keep them running until SIGTERM/SIGINT."""
    stopping = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(set_on_signal, stopping, "workers.stopping")
        address = await nursery.start(_keep_worker, config_path, WorkerRole(0, count), bind,
                                      stopping, grace_period)
        for index in range(1, count):
            await nursery.start(_keep_worker, config_path, WorkerRole(index, count), address,
                                stopping, grace_period)
        print(f"Tessera: {count} worker processes serving http://{address}/api", flush=True)
        _log.info("workers.started", count=count, address=address)
        await stopping.wait()
    _log.info("workers.stopped", count=count)


def worker_command(config_path: str, role: WorkerRole) -> list[str]:
    return [sys.executable, "-m", "app", "--config", config_path, "serve",
            "--worker", f"{role.index}/{role.count}"]


def worker_environment(role: WorkerRole, bind: str) -> dict[str, str]:
    environment = {**os.environ, "TESSERA__SERVER__BIND": bind}
    if role.index > 0:
        environment["TESSERA__DATABASE__MIGRATE_ON_START"] = "false"
    return environment


async def _keep_worker(config_path: str, role: WorkerRole, bind: str, stopping: trio.Event,
                       grace_period: float, task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Run one worker; restart it when it dies. Reports its address once first ready; a first
    start that fails stops the parent (a configuration error), a restart that fails is retried."""
    failures = 0
    first = True
    while not stopping.is_set():
        started_at = trio.current_time()
        try:
            code = await _run_worker(config_path, role, bind, stopping, grace_period,
                                     task_status if first else trio.TASK_STATUS_IGNORED, first)
        except RuntimeError as error:
            if first:
                raise
            code = f"did not start: {error}"
        first = False
        if stopping.is_set():
            return
        failures = 0 if trio.current_time() - started_at > HEALTHY_AFTER else failures + 1
        delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS)) - 1] if failures else 0.0
        _log.error("worker.exited", worker=role.index, code=code, restart_in=delay)
        with trio.move_on_after(delay):
            await stopping.wait()


async def _run_worker(config_path: str, role: WorkerRole, bind: str, stopping: trio.Event,
                      grace_period: float, task_status, first: bool) -> int:
    """Run one worker process until it exits. Only the first start of worker 0 shows the
    node's start-up banner; the others' banners would repeat it."""
    show_banner = first and role.index == 0
    process = await trio.lowlevel.open_process(
        worker_command(config_path, role), env=worker_environment(role, bind),
        stdout=subprocess.PIPE)
    try:
        lines = _Lines(process.stdout)
        with trio.move_on_after(START_TIMEOUT) as waiting:
            address = await _read_address(lines, show_banner)
        if waiting.cancelled_caught:
            raise RuntimeError(f"worker {role.index} did not start within {START_TIMEOUT:.0f}s")
        task_status.started(address)
        if not first:
            _log.warning("worker.restarted", worker=role.index, pid=process.pid)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_forward, lines, not show_banner)
            nursery.start_soon(_stop_when, stopping, process, grace_period)
            code = await process.wait()
            nursery.cancel_scope.cancel()
            return code
    finally:
        if process.returncode is None:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()


async def _read_address(lines: "_Lines", show_banner: bool) -> str:
    async for line in lines:
        if line.startswith(BANNER_PREFIX):
            if show_banner:
                _echo(line)
            return line[len(BANNER_PREFIX):].strip().removesuffix("/api")
        _echo(line)
    raise RuntimeError("a worker exited before it started serving")


async def _forward(lines: "_Lines", skip_banner_rest: bool) -> None:
    """Echo the worker's output; the banner's indented lines follow its first line at once."""
    async for line in lines:
        if skip_banner_rest and line.startswith("  "):
            continue
        skip_banner_rest = False
        _echo(line)


def _echo(line: str) -> None:
    sys.stdout.write(line)
    sys.stdout.flush()


async def _stop_when(stopping: trio.Event, process: trio.Process, grace_period: float) -> None:
    await stopping.wait()
    process.send_signal(signal.SIGTERM)
    with trio.move_on_after(grace_period + 10.0):
        await process.wait()
        return
    _log.error("worker.killed", pid=process.pid, reason="did not stop after the grace period")
    process.kill()


async def set_on_signal(event: trio.Event, log_event: str) -> None:
    """Set `event` at the first SIGTERM or SIGINT, logged as `log_event`. Outside the main
    thread (tests run nodes in-process) there is no signal handling."""
    try:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for signum in signals:
                _log.info(log_event, signal=signal.Signals(signum).name)
                event.set()
                return
    except ValueError:
        return


class _Lines:
    """Text lines from a trio receive stream."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self._buffer = b""

    def __aiter__(self) -> "_Lines":
        return self

    async def __anext__(self) -> str:
        while b"\n" not in self._buffer:
            chunk = await self._stream.receive_some(65536)
            if not chunk:
                if self._buffer:
                    line, self._buffer = self._buffer, b""
                    return line.decode(errors="replace")
                raise StopAsyncIteration
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode(errors="replace") + "\n"


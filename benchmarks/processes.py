"""Child processes and what /proc says about them: start, stop, CPU time, memory, CPU affinity.

Every command the benchmarks run goes through `run` or `spawn`: the argument lists are built
here from fixed program names and values the driver generated, never from a shell string.
"""

import contextlib
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ProcessFailed(RuntimeError):
    """A server did not start, or a command failed; the message carries its output."""


def program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ProcessFailed(f"'{name}' is not installed (not found on PATH)")
    return path


def run(argv: list[str], *, env: dict | None = None, cwd: Path | None = None,
        timeout: float = 120.0, check: bool = True) -> subprocess.CompletedProcess:
    completed = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,  # noqa: S603
                               timeout=timeout, check=False)
    if check and completed.returncode != 0:
        raise ProcessFailed(f"{' '.join(argv)} exited with {completed.returncode}:\n"
                            f"{completed.stdout}{completed.stderr}")
    return completed


def spawn(argv: list[str], *, log_path: Path, cpus: str, env: dict | None = None,
          cwd: Path | None = None) -> subprocess.Popen:
    """Start `argv` on the CPUs `cpus` (taskset list, e.g. "0" or "0-1"), in its own session so
    that it and its children can be stopped as one group; stdout and stderr go to `log_path`."""
    with log_path.open("w") as log:
        return subprocess.Popen([program("taskset"), "-c", cpus, *argv],  # noqa: S603
                                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)


def stop(process: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM to the process group, SIGKILL after `grace` seconds."""
    if process.poll() is not None:
        return
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait(timeout=5)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    # start_new_session=True made the child the leader of a group whose id is its pid.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def wait_for_output(process: subprocess.Popen, log_path: Path, pattern: str,
                    timeout: float) -> re.Match:
    """Wait until the log shows `pattern`; ProcessFailed (with the log) if the process ends or
    the time is up first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, log_path.read_text(errors="replace"))
        if match:
            return match
        if process.poll() is not None:
            raise ProcessFailed(f"exited with {process.returncode} before it was ready:\n"
                                f"{tail(log_path)}")
        time.sleep(0.1)
    raise ProcessFailed(f"not ready within {timeout:.0f} s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 25) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- /proc -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    comm: str
    cpu_ticks: int      # utime + stime of the process itself (all its threads)
    reaped_ticks: int   # cutime + cstime: children it has waited for


def proc_stat(pid: int) -> ProcStat | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # proc(5): the command name is in parentheses and may itself contain spaces or ')'.
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return ProcStat(pid, int(fields[1]), comm, int(fields[11]) + int(fields[12]),
                    int(fields[13]) + int(fields[14]))


def all_processes() -> list[ProcStat]:
    stats = (proc_stat(int(entry.name)) for entry in os.scandir("/proc") if entry.name.isdigit())
    return [stat for stat in stats if stat is not None]


def process_tree(root: int) -> list[ProcStat]:
    """`root` and all its live descendants."""
    everyone = all_processes()
    children: dict[int, list[ProcStat]] = {}
    for stat in everyone:
        children.setdefault(stat.ppid, []).append(stat)
    tree = [stat for stat in everyone if stat.pid == root]
    for stat in tree:
        tree.extend(children.get(stat.pid, []))
    return tree


def tree_cpu_seconds(root: int) -> float:
    """CPU time of the live tree plus what the root reaped: the difference of two readings is
    the tree's CPU time in between, also for children that ended in between."""
    tree = process_tree(root)
    ticks = sum(stat.cpu_ticks for stat in tree)
    ticks += sum(stat.reaped_ticks for stat in tree if stat.pid == root)
    return ticks / CLOCK_TICKS


def memory_kib(pid: int, key: str) -> int:
    """A `/proc/<pid>/status` figure in KiB (VmRSS, VmHWM); 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def tree_memory_kib(root: int, key: str) -> int:
    return sum(memory_kib(stat.pid, key) for stat in process_tree(root))


def machine_cpu_seconds() -> tuple[float, float]:
    """CPU time all CPUs spent busy, and the time the hypervisor took from them (steal)."""
    # proc(5) /proc/stat "cpu": user nice system idle iowait irq softirq steal (guest time is
    # already counted in user).
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
    return busy / CLOCK_TICKS, ticks[7] / CLOCK_TICKS


def own_cpu_seconds() -> float:
    """This driver and the children it has waited for (wrk runs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), \
        resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class TreeSampler:
    """CPU seconds of some process trees between `start` and `stop`, and the peak of the summed
    resident memory of the first group, sampled every `interval` seconds in a thread. Also what
    the rest of the machine did meanwhile (`other_cpu_pct`: neither the trees, nor the driver
    and its wrk; `steal_pct`: taken by the hypervisor): noise in the figures."""

    server_roots: list[int]
    store_roots: list[int] = field(default_factory=list)
    interval: float = 0.5
    peak_rss_kib: int = 0
    _before: tuple[float, ...] = ()
    _started: float = 0.0
    _done: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._before = self._cpu()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> dict:
        """Call after wrk was waited for, so that its CPU time counts as the driver's."""
        server, store, own, busy, steal = (
            after - before for after, before in zip(self._cpu(), self._before, strict=True))
        wall = time.monotonic() - self._started
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        self._take_rss()
        return {"wall_s": wall, "server_cpu_s": server, "store_cpu_s": store,
                "server_cpu_pct": 100 * server / wall, "store_cpu_pct": 100 * store / wall,
                "wrk_and_driver_cpu_pct": 100 * own / wall,
                "other_cpu_pct": 100 * max(0.0, busy - server - store - own) / wall,
                "steal_pct": 100 * steal / wall,
                "server_rss_peak_mib": self.peak_rss_kib / 1024,
                "server_hwm_mib": sum(tree_memory_kib(root, "VmHWM")
                                      for root in self.server_roots) / 1024}

    def _cpu(self) -> tuple[float, ...]:
        return (sum(tree_cpu_seconds(root) for root in self.server_roots),
                sum(tree_cpu_seconds(root) for root in self.store_roots),
                own_cpu_seconds(), *machine_cpu_seconds())

    def _sample(self) -> None:
        while not self._done.wait(self.interval):
            self._take_rss()

    def _take_rss(self) -> None:
        rss = sum(tree_memory_kib(root, "VmRSS") for root in self.server_roots)
        self.peak_rss_kib = max(self.peak_rss_kib, rss)


def wait_until_idle(roots: list[int], *, below: float = 0.15, window: float = 0.2,
                    timeout: float = 15.0) -> None:
    """Wait until the trees under `roots` together use less than `below` of a core, e.g. until
    a server has finished the requests a previous wrk run left in flight."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(tree_cpu_seconds(root) for root in roots)
        time.sleep(window)
        if sum(tree_cpu_seconds(root) for root in roots) - before < below * window:
            return


# --- CPU affinity --------------------------------------------------------------------------------

def parse_cpus(cpus: str) -> set[int]:
    """A taskset list ("0", "0-1", "0,2-3") as a set of CPU numbers."""
    chosen: set[int] = set()
    for part in cpus.split(","):
        low, _, high = part.partition("-")
        chosen.update(range(int(low), int(high or low) + 1))
    return chosen


def set_process_affinity(pid: int, cpus: set[int]) -> None:
    """Like `taskset -a -p`: every thread of the process."""
    try:
        tasks = [int(task) for task in os.listdir(f"/proc/{pid}/task")]
    except FileNotFoundError:
        return
    for task in tasks:
        # A thread that ended meanwhile, or one not ours to move: the report states the
        # intended pinning.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.sched_setaffinity(task, cpus)

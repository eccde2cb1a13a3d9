"""Driving load with wrk and reading its report."""

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.processes import ProcessFailed, TreeSampler, program, run, wait_until_idle

LUA_DIR = Path(__file__).resolve().parent / "lua"
# A request slower than this counts as a wrk timeout error.
REQUEST_TIMEOUT = "5s"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}  # to milliseconds


@dataclass(frozen=True)
class LoadSpec:
    """One wrk workload: a script from lua/ and the environment that configures it."""

    script: str
    base_url: str
    env: dict[str, str] = field(default_factory=dict)
    # What one "completed" unit is when it is not one request (e.g. "code exchanges").
    unit: str | None = None


def wrk_argv(spec: LoadSpec, connections: int, seconds: float) -> list[str]:
    """One wrk thread: with -t1 all connections share one Lua state (lua/flow.lua needs it)."""
    return [program("wrk"), "-t1", f"-c{connections}", f"-d{seconds:g}s",
            f"--timeout={REQUEST_TIMEOUT}", "--latency", "-s", str(LUA_DIR / spec.script),
            spec.base_url]


def wrk_env(spec: LoadSpec) -> dict[str, str]:
    return {**os.environ, "BENCH_LUA_DIR": str(LUA_DIR), **spec.env}


def run_wrk(spec: LoadSpec, connections: int, seconds: float, cpus: str) -> dict:
    argv = [program("taskset"), "-c", cpus, *wrk_argv(spec, connections, seconds)]
    completed = run(argv, env=wrk_env(spec), timeout=seconds + 60)
    return parse_wrk(completed.stdout)


def measure(spec: LoadSpec, *, connections: int, seconds: float, warmup: float, cpus: str,
            sampler: TreeSampler) -> dict:
    """An unrecorded warm-up run, then the measured run with the servers' CPU and memory."""
    if warmup > 0:
        run_wrk(spec, connections, warmup, cpus)
    # Requests still in flight when wrk stopped would otherwise run into the measurement.
    # (Not the store: other databases of a shared PostgreSQL may keep it busy.)
    wait_until_idle(sampler.server_roots)
    sampler.start()
    try:
        figures = run_wrk(spec, connections, seconds, cpus)
    finally:
        resources = sampler.stop()
    figures.update(resources)
    requests = figures["requests"]
    if not requests:
        raise ProcessFailed(f"no request completed in the {seconds:g} s run (one takes longer "
                            "than that, or the server stalled): try a longer --duration")
    cpu = figures["server_cpu_s"] + figures["store_cpu_s"]
    figures["cpu_us_per_request"] = 1e6 * cpu / requests
    if spec.unit:
        figures["unit"] = spec.unit
        figures["units_per_s"] = figures["completed"] / figures["duration_s"]
    return figures


# --- wrk's report ------------------------------------------------------------------------------

def parse_wrk(text: str) -> dict:
    """requests/s, latency percentiles (ms), errors and the script's counters from wrk's
    output with --latency and a script that prints BENCH_RESULT (lua/summary.lua)."""
    totals = _search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    socket = _search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                     text, required=False)
    non_2xx = _search(r"Non-2xx or 3xx responses: (\d+)", text, required=False)
    counters = json.loads(_search(r"BENCH_RESULT (\{.*\})", text).group(1))
    socket_errors = sum(int(value) for value in socket.groups()) if socket else 0
    figures = {
        "requests_per_s": float(_search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "requests": int(totals.group(1)),
        "duration_s": _milliseconds(totals.group(2), totals.group(3)) / 1e3,
        "socket_errors": socket_errors,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "bad_answers": counters["bad"],
        # Every answer that is not a 2xx carrying the expected body is a bad answer.
        "errors": socket_errors + counters["bad"],
        "completed": counters["completed"],
        "counters": counters,
    }
    for percentile, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$",
                                              text, re.MULTILINE):
        figures[f"p{percentile}_ms"] = _milliseconds(value, unit)
    return figures


def _search(pattern: str, text: str, required: bool = True) -> re.Match | None:
    match = re.search(pattern, text)
    if match is None and required:
        raise ValueError(f"wrk's output has no match for {pattern!r}:\n{text}")
    return match


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]

"""Where a request's time goes: `benchmarks/run profile --scenario token-opaque --db sqlite`.

Starts one Tessera process on CPU 0, drives the scenario with wrk from CPU 1, samples the server
with py-spy (the sampling profiler; installed into the venv on first use) while the GIL is held,
and prints the share of samples per package, by the frame that was running (self time) and by
every frame on the stack (inclusive time), plus the heaviest functions of Tessera's own code.
"""

import sys
import threading
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from benchmarks import scenarios, stores, tessera_node
from benchmarks.load import run_wrk
from benchmarks.processes import run, stop

PY_SPY = "py-spy==0.4.3"
OWN_PACKAGES = ("app", "actors", "storage")


def run_profile(options, workdir: Path) -> str:
    _ensure_py_spy()
    with ExitStack() as cleanup:
        pinning = stores.StorePinning()
        cleanup.callback(pinning.restore)
        if options.database == "postgres":
            name = stores.scratch_name("tessera_profile")
            database_url = stores.create_database(name)
            cleanup.callback(stores.drop_database, name)
            pinning.pin("postgres", {0})
        else:
            database_url = f"sqlite://{workdir}/profile.sqlite3"
        node = tessera_node.start_node(workdir / "node", database_url=database_url, workers=1,
                                       cpus="0", master=tessera_node.master_key())
        cleanup.callback(stop, node.process)
        tessera_node.seed(node, [scenarios.TOKEN_FORMAT[options.scenario]])
        spec = scenarios.tessera_load(options.scenario, node, workdir, tokens=500)
        run_wrk(spec, options.connections, 2.0, "1")  # warm-up
        samples = workdir / "samples.txt"
        load = threading.Thread(target=run_wrk, args=(spec, options.connections,
                                                      options.seconds + 2.0, "1"))
        load.start()
        _record(node.process.pid, samples, options.seconds)
        load.join()
    return summary(samples.read_text(), options)


def _ensure_py_spy() -> None:
    if not (Path(sys.executable).parent / "py-spy").exists():
        run([sys.executable, "-m", "pip", "install", "--quiet", PY_SPY], timeout=300)


def _record(pid: int, output: Path, seconds: float) -> None:
    run([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
         "--duration", f"{seconds:g}", "--rate", "250", "--gil", "--format", "raw",
         "--output", str(output), "--nonblocking"], timeout=seconds + 60)


def _package(frame: str) -> str:
    """`function (path/to/module.py:line)` → the top-level package or module of the path."""
    location = frame.rpartition("(")[2].rstrip(")")
    path = location.rpartition(":")[0]
    if "site-packages/" in path:
        path = path.rpartition("site-packages/")[2]
    elif "/work/" in path or path.startswith("/"):
        path = path.rpartition("/main/")[2] if "/main/" in path else path.rsplit("/", 1)[-1]
    return path.split("/", 1)[0].removesuffix(".py")


def summary(raw: str, options) -> str:
    own, inclusive, functions = Counter(), Counter(), Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames, weight = stack.split(";"), int(count)
        total += weight
        own[_package(frames[-1])] += weight
        for package in {_package(frame) for frame in frames}:
            inclusive[package] += weight
        for frame in {frame.rpartition(":")[0] for frame in frames
                      if _package(frame) in OWN_PACKAGES}:
            functions[frame] += weight
    lines = [f"## Profile: {options.scenario} on {options.database}, c={options.connections}, "
             f"{options.seconds:g} s, {total} samples (py-spy --gil)", "",
             "| package | self | inclusive |", "| --- | ---: | ---: |"]
    for package, weight in own.most_common(15):
        lines.append(f"| {package} | {weight / total:.1%} | {inclusive[package] / total:.1%} |")
    lines += ["", "| Tessera function (inclusive) | share |", "| --- | ---: |"]
    for function, weight in functions.most_common(15):
        lines.append(f"| `{function})` | {weight / total:.1%} |")
    return "\n".join(lines)


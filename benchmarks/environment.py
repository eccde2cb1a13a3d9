"""What a result depends on: software versions, the machine, the date, the command."""

import os
import platform
import shlex
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from benchmarks import peer_node, stores
from benchmarks.processes import ProcessFailed, program, run

ROOT = Path(__file__).resolve().parent.parent
PYTHON_PACKAGES = ("trio", "hypercorn", "h11", "quart", "quart-trio", "trio-asyncio",
                   "tortoise-orm", "asyncpg", "joserfc", "cryptography")


def describe(argv: list[str], *, with_peer: bool, stores_used: set[str]) -> dict:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "benchmarks/run " + shlex.join(argv),
        "git": _git_revision(),
        "machine": machine(),
        "versions": versions(with_peer=with_peer, stores_used=stores_used),
        "tessera_environment": {name: value for name, value in os.environ.items()
                                if name.startswith("TESSERA__")},
    }


def machine() -> dict:
    return {"nproc": os.cpu_count(), "cpu": _cpu_model(), "kernel": platform.release(),
            "os": _os_name(), "memory_gib": round(_memory_kib() / 2**20, 1)}


def versions(*, with_peer: bool, stores_used: set[str]) -> dict:
    # `wrk -v`: "wrk <version> [epoll] Copyright ...".
    wrk = _first_line([program("wrk"), "-v"]).split()
    found = {"python": platform.python_version(), "wrk": wrk[1] if len(wrk) > 1 else "unknown"}
    for package in PYTHON_PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    if with_peer:
        found["node"] = _first_line([program("node"), "--version"])
        found["oidc-provider"] = peer_node.oidc_provider_version()
    if "postgres" in stores_used:
        found["postgresql"] = stores.postgres_version()
    if "redis" in stores_used:
        found["redis"] = stores.redis_version()
    return found


def _first_line(argv: list[str]) -> str:
    # `wrk -v` prints its version and then its usage, and exits with 1.
    completed = run(argv, check=False)
    lines = (completed.stdout + completed.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


def _git_revision() -> str:
    try:
        head = run([program("git"), "rev-parse", "--short", "HEAD"], cwd=ROOT).stdout.strip()
        dirty = run([program("git"), "status", "--porcelain"], cwd=ROOT).stdout.strip()
    except (ProcessFailed, FileNotFoundError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except FileNotFoundError:
        pass
    return sys.platform


def _memory_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0

"""The comparison run: Tessera and the peer, scenario by scenario, measured side by side.

For each database (SQLite, PostgreSQL) every system under test is started first: Tessera with
each process count, and the peer on its matching store (Redis, PostgreSQL). Then the
measurements interleave at the finest grain: for each scenario and concurrency, one run of
each system in turn, so a noisy neighbour on the VM hits them alike. Idle servers stay up
meanwhile; they use next to no CPU.
"""

import itertools
import os
import secrets
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks import peer_node, scenarios, stores, tessera_node
from benchmarks.load import LoadSpec, measure
from benchmarks.processes import ProcessFailed, TreeSampler, parse_cpus, stop

# Like against like: the durable store with the durable store, the fast one with the fast one.
PEER_STORE_FOR = {"sqlite": "redis", "postgres": "postgres"}
MEMORY_STORE_TOKENS = 500
MEASUREMENT_ERRORS = (ProcessFailed, ValueError, subprocess.TimeoutExpired, httpx.HTTPError,
                      OSError)


@dataclass
class Subject:
    """One system in one configuration, with its running servers (one per token format)."""

    system: str
    store: str
    workers: int
    scenarios: list[str]
    servers: dict[str, tessera_node.TesseraNode | peer_node.PeerNode] = field(
        default_factory=dict)
    failure: str | None = None
    _loads: dict[str, LoadSpec] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.system == "peer":
            return f"peer {self.store}"
        return f"Tessera {self.store} {self.workers}p"

    @property
    def server_cpus(self) -> str:
        # One process: the server and its store on core 0, wrk on core 1. Several: all
        # processes, the store and wrk share every core (2 processes against 1, same machine).
        return "0" if self.workers == 1 else _all_cpus()

    @property
    def wrk_cpus(self) -> str:
        return "1" if self.workers == 1 else _all_cpus()

    def server_for(self, scenario: str):
        return self.servers[scenarios.TOKEN_FORMAT[scenario]]

    def load(self, scenario: str, workdir: Path, tokens: int) -> LoadSpec:
        if self.store == "memory":
            # The provider's in-memory store is an LRU of 1,000 entries: older tokens vanish.
            tokens = min(tokens, MEMORY_STORE_TOKENS)
        if scenario not in self._loads:
            server = self.server_for(scenario)
            build = scenarios.peer_load if self.system == "peer" else scenarios.tessera_load
            self._loads[scenario] = build(scenario, server, workdir, tokens)
        return self._loads[scenario]

    def describe(self) -> dict:
        return {"label": self.label, "system": self.system, "store": self.store,
                "workers": self.workers, "server_cpus": self.server_cpus,
                "wrk_cpus": self.wrk_cpus}


def _all_cpus() -> str:
    return f"0-{max(1, (os.cpu_count() or 2) - 1)}"


def run_comparison(options, workdir: Path, results: list[dict], notes: list[str]) -> None:
    """Append every measurement to `results` as it is taken, and to `notes` what could not be
    measured (so an interrupted run still has what was done)."""
    with ExitStack() as cleanup:
        pinning = stores.StorePinning()
        cleanup.callback(pinning.restore)
        master = tessera_node.master_key() if options.tessera else ""
        if options.peer:
            peer_node.install()
        for database in options.databases:
            with ExitStack() as group:
                subjects = start_subjects(database, options, workdir, group, notes, master)
                measure_subjects(subjects, options, workdir, pinning, results, notes)


# --- Starting ----------------------------------------------------------------------------------

def start_subjects(database: str, options, workdir: Path, group: ExitStack, notes: list[str],
                   master: str) -> list[Subject]:
    subjects = []
    if options.tessera:
        for workers in options.workers:
            subject = Subject("tessera", database, workers, list(options.scenarios))
            if _started(subject, notes, lambda s=subject: start_tessera(
                    s, workdir / s.label.replace(" ", "-"), group, master)):
                subjects.append(subject)
    peer_scenarios = [name for name in options.scenarios if name in scenarios.PEER_SCENARIOS]
    peer_stores = [PEER_STORE_FOR[database]]
    if options.peer_memory and database == options.databases[0]:
        peer_stores.append("memory")
    for store in peer_stores if options.peer and peer_scenarios else ():
        subject = Subject("peer", store, 1, peer_scenarios)
        if _started(subject, notes, lambda s=subject: start_peers(s, workdir, group)):
            subjects.append(subject)
    return subjects


def _started(subject: Subject, notes: list[str], start) -> bool:
    progress(f"starting {subject.label} (server on CPUs {subject.server_cpus})")
    try:
        start()
    except MEASUREMENT_ERRORS as error:
        note = f"{subject.label} did not start, not measured: {_first_lines(error)}"
        notes.append(note)
        progress("NOTE: " + note)
        return False
    return True


def start_tessera(subject: Subject, workdir: Path, group: ExitStack, master: str) -> None:
    if subject.store == "postgres":
        name = stores.scratch_name(f"tessera_{subject.workers}p")
        url = stores.create_database(name)
        group.callback(stores.drop_database, name)
    else:
        url = f"sqlite://{workdir}/bench.sqlite3"
    node = tessera_node.start_node(workdir, database_url=url, workers=subject.workers,
                                   cpus=subject.server_cpus, master=master)
    group.callback(stop, node.process)
    formats = sorted({scenarios.TOKEN_FORMAT[name] for name in subject.scenarios})
    tessera_node.seed(node, formats)
    subject.servers = dict.fromkeys(formats, node)


def start_peers(subject: Subject, workdir: Path, group: ExitStack) -> None:
    """One peer process per access-token format (the format is fixed at start-up)."""
    for token_format in sorted({scenarios.TOKEN_FORMAT[name] for name in subject.scenarios}):
        env = _peer_store_env(subject.store, token_format, group)
        peer = peer_node.start_peer(workdir, token_format=token_format, store=subject.store,
                                    cpus=subject.server_cpus, store_env=env)
        group.callback(stop, peer.process)
        subject.servers[token_format] = peer


def _peer_store_env(store: str, token_format: str, group: ExitStack) -> dict[str, str]:
    if store == "postgres":
        name = stores.scratch_name(f"peer_{token_format.replace('-', '_')}")
        url = stores.create_database(name)
        group.callback(stores.drop_database, name)
        return {"PEER_PG_URL": url}
    if store == "redis":
        prefix = f"tessera-bench-{secrets.token_hex(4)}-{token_format}:"
        group.callback(stores.delete_redis_prefix, prefix)
        return {"PEER_REDIS_URL": stores.redis_url(), "PEER_REDIS_PREFIX": prefix}
    return {}


# --- Measuring ---------------------------------------------------------------------------------

def measure_subjects(subjects: list[Subject], options, workdir: Path,
                     pinning: stores.StorePinning, results: list[dict], notes: list[str]) -> None:
    # Subjects innermost: the systems take turns at each scenario and concurrency.
    for scenario, connections, subject in itertools.product(options.scenarios,
                                                            options.concurrency, subjects):
        if scenario not in subject.scenarios or subject.failure is not None:
            continue
        record = measure_one(subject, scenario, connections, options, workdir, pinning)
        results.append(record)
        progress(summary_line(record))
        if "failure" in record:
            notes.append(f"{record['label']} {scenario} c={connections}: {record['failure']}")


def measure_one(subject: Subject, scenario: str, connections: int, options, workdir: Path,
                pinning: stores.StorePinning) -> dict:
    record = {**subject.describe(), "scenario": scenario, "concurrency": connections}
    server = subject.server_for(scenario)
    try:
        spec = subject.load(scenario, workdir, options.tokens)
        if subject.store in stores.STORE_PROCESS_NAMES:
            pinning.pin(subject.store, parse_cpus(subject.server_cpus))
        sampler = TreeSampler([server.pid], stores.store_root_pids(subject.store))
        record |= measure(spec, connections=connections, seconds=options.duration,
                          warmup=options.warmup, cpus=subject.wrk_cpus, sampler=sampler)
    except MEASUREMENT_ERRORS as error:
        record["failure"] = _first_lines(error)
    if server.process.poll() is not None:
        subject.failure = f"the server exited with {server.process.returncode}"
        record.setdefault("failure", subject.failure)
    return record


def summary_line(record: dict) -> str:
    head = f"{record['label']:<22} {record['scenario']:<14} c={record['concurrency']:<3}"
    if "failure" in record:
        return f"{head} FAILED: {record['failure']}"
    line = (f"{head} {record['requests_per_s']:9.1f} req/s  p50 {record.get('p50_ms', 0):7.2f} ms"
            f"  p99 {record.get('p99_ms', 0):7.2f} ms  errors {record['errors']}"
            f"  CPU {record['server_cpu_pct']:.0f}%+{record['store_cpu_pct']:.0f}%"
            f" (others {record['other_cpu_pct']:.0f}%)")
    if record.get("unit"):
        line += f"  {record['units_per_s']:.1f} {record['unit']}/s"
    return line


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _first_lines(error: BaseException, count: int = 6) -> str:
    return " | ".join(str(error).strip().splitlines()[:count]) or type(error).__name__

"""Soak mode: mixed load for minutes with short token lifetimes and a busy token reaper, sampling
the server's memory and the tables' sizes, then a verdict on whether both stay bounded."""

import sqlite3
import subprocess
import time
from contextlib import ExitStack, closing
from pathlib import Path

from benchmarks import stores, tessera_node
from benchmarks.compare import progress
from benchmarks.load import LoadSpec, parse_wrk, wrk_argv, wrk_env
from benchmarks.processes import (
    ProcessFailed,
    spawn,
    stop,
    tail,
    tree_cpu_seconds,
    tree_memory_kib,
)
from benchmarks.scenarios import flow_env

# The tables the reaper keeps bounded (storage/reaping.py); the others hold configuration
# (services, clients, keys) or one row per client and subject (granted_scopes).
REAPED_TABLES = ("authorization_tickets", "authorization_codes", "access_tokens",
                 "refresh_tokens", "replay_records", "change_events")
# Verdict thresholds: growth over the second half of the run.
RSS_GROWTH_LIMIT = 0.10
ROWS_GROWTH_LIMIT = 0.25
ROWS_SLACK = 50


def run_soak(options, workdir: Path) -> dict:
    with ExitStack() as cleanup:
        pinning = stores.StorePinning()
        cleanup.callback(pinning.restore)
        count_rows, url = _database(options.database, workdir, cleanup)
        node = tessera_node.start_node(workdir, database_url=url, workers=1, cpus="0",
                                       master=tessera_node.master_key(),
                                       reaper_interval=options.reaper_interval)
        cleanup.callback(stop, node.process)
        lifetime = options.token_lifetime
        tessera_node.seed(node, ["opaque"], lifetimes={
            "accessTokenDuration": lifetime, "refreshTokenDuration": lifetime,
            "idTokenDuration": lifetime, "authorizationCodeDuration": lifetime})
        if options.database == "postgres":
            pinning.pin("postgres", {0})
        spec = LoadSpec("flow.lua", node.base_url,
                        {"BENCH_FLOW": "mixed", **flow_env(node.services["opaque"])})
        samples, wrk_output = _drive(node, spec, options, workdir, count_rows, cleanup)
    figures = parse_wrk(wrk_output)
    return {"samples": samples, "load": figures, "verdict": verdict(samples, figures)}


def _database(database: str, workdir: Path, cleanup: ExitStack):
    if database == "postgres":
        name = stores.scratch_name("soak")
        url = stores.create_database(name)
        cleanup.callback(stores.drop_database, name)
        return (lambda: postgres_row_counts(name)), url
    path = workdir / "bench.sqlite3"
    return (lambda: sqlite_row_counts(path)), f"sqlite://{path}"


def _drive(node, spec: LoadSpec, options, workdir: Path, count_rows, cleanup: ExitStack):
    seconds = options.minutes * 60
    log_path = workdir / "wrk-soak.log"
    wrk = spawn(wrk_argv(spec, options.connections, seconds), log_path=log_path, cpus="1",
                env=wrk_env(spec))
    cleanup.callback(stop, wrk)
    started = time.monotonic()
    samples = [_sample(node.pid, 0.0, count_rows, None)]
    finished = False
    while not finished:
        try:
            wrk.wait(timeout=options.sample_interval)
            finished = True
        except subprocess.TimeoutExpired:
            pass
        samples.append(_sample(node.pid, time.monotonic() - started, count_rows, samples[-1]))
        progress(_sample_line(samples[-1]))
        if node.process.poll() is not None:
            raise ProcessFailed(f"the node exited during the soak:\n{tail(node.log_path)}")
        if time.monotonic() - started > seconds + 60:
            raise ProcessFailed(f"wrk did not end after {seconds} s:\n{tail(log_path)}")
    return samples, log_path.read_text()


def _sample(pid: int, elapsed: float, count_rows, previous: dict | None) -> dict:
    cpu = tree_cpu_seconds(pid)
    sample = {"t_s": round(elapsed, 1), "rss_mib": tree_memory_kib(pid, "VmRSS") / 1024,
              "cpu_s": cpu, "rows": count_rows()}
    if previous is not None and elapsed > previous["t_s"]:
        sample["cpu_pct"] = 100 * (cpu - previous["cpu_s"]) / (elapsed - previous["t_s"])
    return sample


def _sample_line(sample: dict) -> str:
    rows = ", ".join(f"{table} {count}" for table, count in sample["rows"].items()
                     if table in REAPED_TABLES)
    return (f"soak t={sample['t_s']:6.0f} s  RSS {sample['rss_mib']:6.1f} MiB  "
            f"CPU {sample.get('cpu_pct', 0):3.0f} %  {rows}")


# --- Row counts --------------------------------------------------------------------------------

def sqlite_row_counts(path: Path) -> dict[str, int]:
    # Read-only: the node is the only writer; a WAL reader never blocks it.
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as database:
        tables = [row[0] for row in database.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        # The names come from sqlite_master itself.
        return {table: database.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
                .fetchone()[0] for table in tables}


def postgres_row_counts(database: str) -> dict[str, int]:
    tables = stores.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                         "ORDER BY tablename", database).split()
    if not tables:
        return {}
    # The names come from pg_tables itself.
    query = " UNION ALL ".join(f"SELECT '{table}', count(*) FROM \"{table}\""  # noqa: S608
                               for table in tables)
    counts = {}
    for line in stores.psql(query, database).splitlines():
        table, count = line.split("|")
        counts[table] = int(count)
    return counts


# --- Verdict -----------------------------------------------------------------------------------

def verdict(samples: list[dict], load: dict) -> dict:
    """RSS and reaped tables over the second half of the run: growth from the sample nearest
    the middle to the last one."""
    last = samples[-1]
    middle = min(samples, key=lambda sample: abs(sample["t_s"] - last["t_s"] / 2))
    rss_growth = (last["rss_mib"] - middle["rss_mib"]) / middle["rss_mib"]
    tables = {}
    for table in REAPED_TABLES:
        if table in last["rows"]:
            mid_rows, end_rows = middle["rows"].get(table, 0), last["rows"][table]
            bounded = end_rows <= mid_rows * (1 + ROWS_GROWTH_LIMIT) + ROWS_SLACK
            tables[table] = {"middle": mid_rows, "end": end_rows,
                             "peak": max(sample["rows"].get(table, 0) for sample in samples),
                             "bounded": bounded}
    counters = load["counters"]
    issued = counters["issued"] + counters["exchanged"] + counters["refreshed"]
    return {
        "middle_t_s": middle["t_s"], "end_t_s": last["t_s"],
        "rss_mib": {"middle": middle["rss_mib"], "end": last["rss_mib"],
                    "growth_pct": 100 * rss_growth, "ok": rss_growth <= RSS_GROWTH_LIMIT},
        "tables": tables,
        "access_tokens_issued": issued,
        # More tokens issued than rows left: the reaper deleted expired ones.
        "reaper_deleted_rows": issued > last["rows"].get("access_tokens", 0),
        "ok": rss_growth <= RSS_GROWTH_LIMIT and all(t["bounded"] for t in tables.values())
              and load["errors"] == 0,
    }


def markdown(run: dict) -> str:
    soak, settings = run["soak"], run["settings"]
    tables = [table for table in REAPED_TABLES if table in soak["samples"][-1]["rows"]]
    head = ["t s", "RSS MiB", "server CPU", *tables]
    rows = [[f"{sample['t_s']:.0f}", f"{sample['rss_mib']:.1f}",
             f"{sample.get('cpu_pct', 0):.0f} %", *(str(sample["rows"].get(table, 0))
                                                   for table in tables)]
            for sample in soak["samples"]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    load, verdict_ = soak["load"], soak["verdict"]
    summary = [
        f"## Soak {run['environment']['date']}",
        "",
        f"- command: `{run['environment']['command']}` (git {run['environment']['git']})",
        f"- {settings['minutes']:g} min of mixed load at c={settings['connections']} "
        f"({settings['database']}): code flow + refresh + introspection, and client "
        "credentials + introspection; token lifetimes "
        f"{settings['token_lifetime']} s, reaper every {settings['reaper_interval']:g} s",
        f"- load: {load['requests_per_s']:,.0f} requests/s, p50 {load.get('p50_ms', 0):.1f} ms, "
        f"p99 {load.get('p99_ms', 0):.1f} ms, errors {load['errors']}, "
        f"{verdict_['access_tokens_issued']} access tokens issued",
        f"- RSS from t={verdict_['middle_t_s']:.0f} s to the end: "
        f"{verdict_['rss_mib']['middle']:.1f} → {verdict_['rss_mib']['end']:.1f} MiB "
        f"({verdict_['rss_mib']['growth_pct']:+.1f} %, limit +{100 * RSS_GROWTH_LIMIT:.0f} %)",
        "- tables (middle → end, peak): " + "; ".join(
            f"{name} {t['middle']} → {t['end']} ({t['peak']}) "
            f"{'bounded' if t['bounded'] else 'GROWING'}"
            for name, t in verdict_["tables"].items()),
        f"- the reaper deleted rows: {'yes' if verdict_['reaper_deleted_rows'] else 'NO'}",
        f"- verdict: **{'OK' if verdict_['ok'] else 'NOT OK'}**",
    ]
    return "\n".join(summary) + "\n\n" + "\n".join(lines) + "\n"

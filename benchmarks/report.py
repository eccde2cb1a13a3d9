"""Tables and ratios in Markdown, and the results files."""

import json
from datetime import datetime
from pathlib import Path

from benchmarks.scenarios import SCENARIOS

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# (numerator, denominator) subject labels of each like-for-like ratio, by a readable name.
COMPARISONS = (
    ("Tessera PostgreSQL / peer PostgreSQL (durable)", "Tessera postgres 1p", "peer postgres"),
    ("Tessera SQLite / peer Redis", "Tessera sqlite 1p", "peer redis"),
    ("Tessera PostgreSQL 2 processes / 1", "Tessera postgres 2p", "Tessera postgres 1p"),
    ("Tessera SQLite 2 processes / 1", "Tessera sqlite 2p", "Tessera sqlite 1p"),
)


def markdown(run: dict) -> str:
    parts = [_header(run)]
    for scenario in dict.fromkeys(record["scenario"] for record in run["results"]):
        records = [record for record in run["results"] if record["scenario"] == scenario]
        parts.append(f"### {scenario}: {SCENARIOS[scenario]}\n\n{_table(records)}")
    ratios = ratio_rows(run["results"])
    if ratios:
        parts.append("### Ratios (requests/s; CPU per request, lower is better)\n\n"
                     + _ratio_table(ratios))
    if run["notes"]:
        parts.append("### Not measured\n\n" + "\n".join(f"- {note}" for note in run["notes"]))
    return "\n\n".join(parts) + "\n"


def _header(run: dict) -> str:
    env, machine, versions = run["environment"], run["environment"]["machine"], \
        run["environment"]["versions"]
    settings = run["settings"]
    lines = [
        f"## Benchmark {env['date']}",
        "",
        f"- command: `{env['command']}` (git {env['git']})",
        f"- machine: {machine['nproc']} CPUs, {machine['cpu']}, {machine['memory_gib']} GiB, "
        f"{machine['os']}, kernel {machine['kernel']}",
        "- versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()),
        f"- each figure: one wrk run of {settings['duration']:g} s (wrk -t1) after "
        f"{settings['warmup']:g} s of unrecorded warm-up; {settings['tokens']} tokens for "
        "introspection" + (" (at most 500 for the peer's in-memory store, an LRU of 1,000 "
                           "entries)" if settings.get("peer_memory") else ""),
        "- pinning: a 1-process server and its store (PostgreSQL, Redis) on CPU 0, wrk on "
        "CPU 1; a 2-process Tessera, its store and wrk all share CPUs 0-1",
        "- errors: socket errors + answers that are not 2xx with the expected body "
        "(Tessera: `\"action\":\"OK\"`; peer: `access_token` / `\"active\":true`)",
        "- CPU: % of one core over the run (server processes, store processes); "
        "µs/req: both together per request; RSS: peak summed resident memory of the server "
        "processes; other CPU: what the rest of the machine used meanwhile (neither the "
        "servers, their stores, nor wrk): noise, large values make the row suspect",
    ]
    if env["tessera_environment"]:
        lines.append(f"- Tessera environment overrides: {env['tessera_environment']}")
    return "\n".join(lines)


def _table(records: list[dict]) -> str:
    with_units = any(record.get("unit") for record in records)
    head = ["system", "c", "CPUs srv/wrk", "req/s", *(["round trips/s"] if with_units else []),
            "p50 ms", "p99 ms", "errors", "server CPU", "store CPU", "CPU µs/req", "RSS MiB",
            "other CPU"]
    rows = [_row(record, with_units, len(head)) for record in
            sorted(records, key=lambda record: (record["concurrency"], _order(record)))]
    return _markdown_table(head, rows)


def _order(record: dict) -> tuple:
    return (record["system"] != "tessera", record["store"], record["workers"])


def _row(record: dict, with_units: bool, width: int) -> list[str]:
    cells = [record["label"], str(record["concurrency"]),
             f"{record['server_cpus']}/{record['wrk_cpus']}"]
    if "failure" in record:
        cells.append("failed: " + record["failure"][:80].replace("|", "/"))
        return cells + [""] * (width - len(cells))
    cells.append(f"{record['requests_per_s']:,.0f}")
    if with_units:
        cells.append(f"{record['units_per_s']:,.1f}" if record.get("unit") else "")
    cells += [f"{record.get('p50_ms', 0):.2f}", f"{record.get('p99_ms', 0):.2f}",
              str(record["errors"]), f"{record['server_cpu_pct']:.0f} %",
              f"{record['store_cpu_pct']:.0f} %", _number(record["cpu_us_per_request"]),
              f"{record['server_rss_peak_mib']:.0f}", f"{record['other_cpu_pct']:.0f} %"]
    return cells


def ratio_rows(results: list[dict]) -> list[list[str]]:
    measured = {(record["label"], record["scenario"], record["concurrency"]): record
                for record in results if "failure" not in record}
    rows = []
    for name, numerator, denominator in COMPARISONS:
        for (label, scenario, connections), top in measured.items():
            bottom = measured.get((denominator, scenario, connections))
            if label != numerator or bottom is None:
                continue
            rows.append([name, scenario, str(connections), f"{top['requests_per_s']:,.0f}",
                         f"{bottom['requests_per_s']:,.0f}",
                         _ratio(top["requests_per_s"], bottom["requests_per_s"]),
                         _ratio(top["cpu_us_per_request"], bottom["cpu_us_per_request"])])
    return rows


def _ratio_table(rows: list[list[str]]) -> str:
    return _markdown_table(["comparison", "scenario", "c", "A req/s", "B req/s",
                            "A/B req/s", "A/B CPU per req"], rows)


def _ratio(top: float | None, bottom: float | None) -> str:
    return f"{top / bottom:.2f}x" if top and bottom else "-"


def _number(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"


def _markdown_table(head: list[str], rows: list[list[str]]) -> str:
    numeric = [index for index, name in enumerate(head) if index > 0]
    separator = ["---:" if index in numeric else "---" for index in range(len(head))]
    lines = [head, separator, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def write_results(run: dict, text: str, prefix: str = "") -> list[Path]:
    """results/<prefix><timestamp>.json, and latest copies of the JSON and the Markdown."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    data = json.dumps(run, indent=2) + "\n"
    paths = [RESULTS_DIR / f"{prefix}{stamp}.json", RESULTS_DIR / f"{prefix}latest.json",
             RESULTS_DIR / f"{prefix}latest.md"]
    paths[0].write_text(data)
    paths[1].write_text(data)
    paths[2].write_text(text)
    return paths

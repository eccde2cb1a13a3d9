"""benchmarks/run [flags]: Tessera against the peer.  benchmarks/run soak [flags]: soak test.
benchmarks/run profile [flags]: where one scenario's time goes, by package.

See benchmarks/README.md for what each scenario does and what the figures mean.
"""

import argparse
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from benchmarks import compare, environment, profile, report, soak
from benchmarks.compare import progress
from benchmarks.scenarios import SCENARIOS


def main(argv: list[str]) -> int:
    # Clean up on SIGTERM as on Ctrl-C, and on Ctrl-C even when started with SIGINT ignored
    # (as a shell does for background jobs).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if argv[:1] == ["soak"]:
        options = _soak_parser().parse_args(argv[1:])
        run_mode, name = _soak, "soak"
    elif argv[:1] == ["profile"]:
        options = _profile_parser().parse_args(argv[1:])
        run_mode, name = _profile, "profile"
    else:
        options = _compare_options(_compare_parser().parse_args(argv))
        run_mode, name = _compare, "compare"
    workdir = Path(tempfile.mkdtemp(prefix=f"tessera-bench-{name}-"))
    try:
        return run_mode(options, argv, workdir)
    except KeyboardInterrupt:
        progress("interrupted; servers stopped, scratch databases dropped, affinity restored")
        return 130
    finally:
        if options.keep_workdir:
            progress(f"configuration and server logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


# --- The comparison ----------------------------------------------------------------------------

def _compare_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks/run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--tessera-only", action="store_true", help="do not measure the peer")
    only.add_argument("--peer-only", action="store_true", help="do not measure Tessera")
    parser.add_argument("--peer-memory", action="store_true",
                        help="also measure the peer with its in-memory store (no I/O, an LRU "
                             "of 1,000 entries: a ceiling, not a like-for-like comparison)")
    parser.add_argument("--db", default="sqlite,postgres",
                        help="Tessera's databases; the peer runs on Redis for sqlite and on "
                             "PostgreSQL for postgres (default: %(default)s)")
    parser.add_argument("--workers", default="1,2",
                        help="Tessera server processes, [server] workers (default: %(default)s)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated, from: %(default)s")
    parser.add_argument("--concurrency", default="16,64",
                        help="wrk connections (default: %(default)s)")
    parser.add_argument("--duration", type=float, help="seconds per measurement (default 10)")
    parser.add_argument("--warmup", type=float,
                        help="seconds of unrecorded load before each measurement (default 2)")
    parser.add_argument("--tokens", type=int,
                        help="tokens issued beforehand for introspection (default 2000)")
    parser.add_argument("--quick", action="store_true",
                        help="3 s runs, 1 s warm-up, 500 tokens (explicit flags still win)")
    parser.add_argument("--keep-workdir", action="store_true",
                        help="keep the generated configuration and server logs")
    return parser


def _compare_options(options: argparse.Namespace) -> argparse.Namespace:
    defaults = {"duration": 3.0, "warmup": 1.0, "tokens": 500} if options.quick else \
        {"duration": 10.0, "warmup": 2.0, "tokens": 2000}
    for name, value in defaults.items():
        if getattr(options, name) is None:
            setattr(options, name, value)
    options.tessera, options.peer = not options.peer_only, not options.tessera_only
    options.databases = _choices(options.db, ("sqlite", "postgres"), "--db")
    options.scenarios = _choices(options.scenarios, tuple(SCENARIOS), "--scenarios")
    options.workers = [int(value) for value in options.workers.split(",")]
    options.concurrency = [int(value) for value in options.concurrency.split(",")]
    return options


def _choices(text: str, allowed: tuple[str, ...], flag: str) -> list[str]:
    chosen = [value.strip() for value in text.split(",") if value.strip()]
    unknown = [value for value in chosen if value not in allowed]
    if unknown or not chosen:
        raise SystemExit(f"{flag}: expected a comma-separated list from {', '.join(allowed)}")
    return chosen


def _compare(options, argv: list[str], workdir: Path) -> int:
    stores_used = set(options.databases) if options.tessera else set()
    if options.peer:
        stores_used |= {compare.PEER_STORE_FOR[database] for database in options.databases}
    described = environment.describe(argv, with_peer=options.peer, stores_used=stores_used)
    run = {"environment": described, "settings": _settings(options), "results": [],
           "notes": []}
    try:
        compare.run_comparison(options, workdir, run["results"], run["notes"])
    except KeyboardInterrupt:
        run["notes"].append("interrupted: the results are incomplete")
        _report(run)
        raise
    _report(run)
    failed = [record for record in run["results"] if "failure" in record or record["errors"]]
    return 1 if failed or not run["results"] else 0


def _report(run: dict) -> None:
    text = report.markdown(run)
    paths = report.write_results(run, text)
    print(text, flush=True)
    progress("wrote " + ", ".join(str(path) for path in paths))


def _settings(options) -> dict:
    return {name: getattr(options, name) for name in (
        "databases", "workers", "scenarios", "concurrency", "duration", "warmup", "tokens",
        "tessera", "peer", "peer_memory")}


# --- Soak --------------------------------------------------------------------------------------

def _soak_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks/run soak", description=soak.__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--db", dest="database", choices=("sqlite", "postgres"),
                        default="sqlite")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--sample-interval", type=float, default=10.0, help="seconds")
    parser.add_argument("--reaper-interval", type=float, default=5.0, help="[reaper] interval")
    parser.add_argument("--token-lifetime", type=int, default=30,
                        help="seconds; access and refresh tokens, codes, ID tokens")
    parser.add_argument("--keep-workdir", action="store_true")
    return parser


def _soak(options, argv: list[str], workdir: Path) -> int:
    described = environment.describe(argv, with_peer=False, stores_used={options.database})
    run = {"environment": described, "settings": vars(options),
           "soak": soak.run_soak(options, workdir)}
    text = soak.markdown(run)
    paths = report.write_results(run, text, prefix="soak-")
    print(text, flush=True)
    progress("wrote " + ", ".join(str(path) for path in paths))
    return 0 if run["soak"]["verdict"]["ok"] else 1


# --- Profile -----------------------------------------------------------------------------------

def _profile_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks/run profile", description=profile.__doc__)
    parser.add_argument("--scenario", choices=tuple(SCENARIOS), default="token-opaque")
    parser.add_argument("--db", dest="database", choices=("sqlite", "postgres"),
                        default="sqlite")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds sampled")
    parser.add_argument("--keep-workdir", action="store_true")
    return parser


def _profile(options, argv: list[str], workdir: Path) -> int:
    text = profile.run_profile(options, workdir)
    path = report.RESULTS_DIR / f"profile-{options.scenario}-{options.database}.md"
    path.write_text(text + "\n")
    print(text, flush=True)
    progress(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

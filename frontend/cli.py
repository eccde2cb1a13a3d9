"""`python -m frontend …`: serve, demo, hash-password."""

import argparse
import getpass
import logging
import sys
from pathlib import Path

import structlog
import trio

from frontend import demo
from frontend.config import ConfigError, load
from frontend.passwords import hash_password
from frontend.server import serve_until_signal


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    failure, interrupted = None, False
    try:
        args.command(args)
    except* ConfigError as group:
        failure = f"frontend: configuration: {_leaves(group)[0]}"
    except* KeyboardInterrupt:
        interrupted = True   # Ctrl-C before the signal handlers were in place
    except* (RuntimeError, OSError) as group:  # Tessera died, a port is taken, provisioning
        failure = "frontend: " + "; ".join(str(error) for error in _leaves(group))
    if failure:
        sys.exit(failure)
    if interrupted:
        sys.exit(130)


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, as trio nurseries raise them."""
    leaves = []
    for error in group.exceptions:
        leaves.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return leaves


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m frontend",
                                     description="Tessera's reference front-end")
    commands = parser.add_subparsers(required=True)
    serve = commands.add_parser("serve", help="serve the front-end from a frontend.toml")
    serve.add_argument("--config", type=Path, default=Path("frontend.toml"))
    serve.set_defaults(command=_serve)
    run_demo = commands.add_parser("demo", help="Tessera + front-end on SQLite, demo data")
    run_demo.add_argument("--port", type=int, default=8000, help="the front-end's port")
    run_demo.add_argument("--tessera-port", type=int, default=8080)
    run_demo.add_argument("--state-dir", type=Path, default=Path(".tessera/demo"))
    run_demo.add_argument("--database-url", help="instead of SQLite in the state folder")
    run_demo.set_defaults(command=_demo)
    hashing = commands.add_parser("hash-password",
                                  help="print a password hash for frontend.toml")
    hashing.set_defaults(command=_hash_password)
    return parser


def _serve(args) -> None:
    settings = load(args.config)
    _configure_logging(settings.log_level)
    trio.run(serve_until_signal, settings)


def _demo(args) -> None:
    _configure_logging("warning")
    trio.run(demo.main, args.port, args.tessera_port, args.state_dir.resolve(),
             args.database_url)


def _hash_password(args) -> None:
    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline()
    print(hash_password(password.rstrip("\n")))


def _configure_logging(level: str) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(
        logging.getLevelNamesMapping()[level.upper()]))  # config.py allows known levels only
    logging.basicConfig(level=logging.WARNING)

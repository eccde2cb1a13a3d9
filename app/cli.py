"""Operator commands: `python -m app <command>` or the `tessera` console script.

  serve          start a node                     migrate        apply database migrations
  owner show     print the service-owner credentials
  service create create a service (prints its API key and secret)
  token create   issue a v3 service access token (shown once; only its digest is stored)
  keys rotate    rotate a service's signing keys now, through the running node's API
  master-key     print a fresh master key for [security] master_key_env
"""

import argparse
import base64
import json
import sys
from contextlib import asynccontextmanager
from functools import partial
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

import trio

from app import bootstrap
from app.config import ConfigError, Settings, load_settings
from app.logs import configure_logging
from app.node import make_sealer, run_node, start_banner, storage_config
from app.protocol import management
from app.protocol.ports import SystemClock
from app.workers import SINGLE, WorkerRole, run_workers
from storage import MasterKeyError, generate_master_key, open_storage, run_migrations


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "master-key":
        print(generate_master_key())
        return 0
    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        print(f"tessera: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log)
    try:
        return args.handler(settings, args)
    except MasterKeyError as error:
        print(f"tessera: master key error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tessera", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="config.toml", help="path of config.toml")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = _add(commands, "serve", _serve)
    serve.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # I/N: app/workers.py
    _add(commands, "migrate", _migrate)
    _add(commands, "master-key", None)
    owner = commands.add_parser("owner").add_subparsers(dest="action", required=True)
    _add(owner, "show", _owner_show)
    service = commands.add_parser("service").add_subparsers(dest="action", required=True)
    create = _add(service, "create", _service_create)
    create.add_argument("--name", required=True)
    create.add_argument("--issuer", default=None)
    token = commands.add_parser("token").add_subparsers(dest="action", required=True)
    token_create = _add(token, "create", _token_create)
    token_create.add_argument("--service", type=int, default=None,
                              help="service API key; omit for an owner-wide token")
    token_create.add_argument("--description", default="")
    keys = commands.add_parser("keys").add_subparsers(dest="action", required=True)
    rotate = _add(keys, "rotate", _keys_rotate)
    rotate.add_argument("--service", type=int, required=True)
    rotate.add_argument("--url", default=None, help="node base URL (default: [server] bind)")
    return parser


def _add(commands, name: str, handler):
    sub = commands.add_parser(name)
    sub.add_argument("--config", default=argparse.SUPPRESS, help="path of config.toml")
    sub.set_defaults(handler=handler)
    return sub


def _serve(settings: Settings, args) -> int:
    server = settings.server
    if server.workers > 1 and args.worker is None:
        failures: list[BaseException] = []
        try:
            trio.run(run_workers, args.config, server.workers, server.bind, server.grace_period)
        except* RuntimeError as failed:  # the first worker did not start (its log says why)
            failures.extend(failed.exceptions)
            print(f"tessera: {failed.exceptions[0]}", file=sys.stderr)
        return 1 if failures else 0
    role = WorkerRole.parse(args.worker) if args.worker else SINGLE

    async def run() -> None:
        async with trio.open_nursery() as nursery:
            started = await nursery.start(partial(run_node, settings, role=role))
            print(start_banner(started), flush=True)
    trio.run(run)
    return 0


def _migrate(settings: Settings, args) -> int:
    trio.run(run_migrations, storage_config(settings))
    print("migrations applied")
    return 0


@asynccontextmanager
async def _storage(settings: Settings):
    async with open_storage(storage_config(settings), make_sealer(settings),
                            migrate_first=settings.database.migrate_on_start) as storage:
        yield storage


def _owner_show(settings: Settings, args) -> int:
    async def run() -> None:
        async with _storage(settings) as storage:
            owner = await bootstrap.ensure_owner(storage, settings, SystemClock().now_ms())
            print(json.dumps({"apiKey": owner.api_key, "apiSecret": owner.api_secret}))
    trio.run(run)
    return 0


def _service_create(settings: Settings, args) -> int:
    async def run() -> None:
        async with _storage(settings) as storage:
            now = SystemClock().now_ms()
            owner = await bootstrap.ensure_owner(storage, settings, now)
            body = {"serviceName": args.name, **({"issuer": args.issuer} if args.issuer else {})}
            document = management.service_document(body, settings.keys.algorithms,
                                                    creating=True)
            service = await storage.services.create(owner.id, management.new_identifier(),
                                                    management.new_secret(), document, now)
            # A running node's key manager creates the keys of new services on its next check.
            print(json.dumps({"apiKey": service.api_key, "apiSecret": service.api_secret}))
    trio.run(run)
    return 0


def _token_create(settings: Settings, args) -> int:
    async def run() -> None:
        async with _storage(settings) as storage:
            now = SystemClock().now_ms()
            owner = await bootstrap.ensure_owner(storage, settings, now)
            if args.service is not None:
                service = await storage.services.get(args.service)
                if service is None or service.owner_id != owner.id:
                    raise SystemExit(f"tessera: no service {args.service} of this owner")
            token = await bootstrap.issue_access_token(storage, owner.id, args.service,
                                                       args.description, now)
            print(json.dumps({"accessToken": token, "serviceId": args.service}))
    trio.run(run)
    return 0


def _keys_rotate(settings: Settings, args) -> int:
    async def owner_credentials():
        async with _storage(settings) as storage:
            return await bootstrap.ensure_owner(storage, settings, SystemClock().now_ms())
    owner = trio.run(owner_credentials)
    base = args.url or f"http://{settings.server.bind}"
    request = Request(f"{base}/api/service/keys/rotate/{args.service}", method="POST",  # noqa: S310
                      headers={"Authorization": _basic(owner.api_key, owner.api_secret)})
    try:
        with urlopen(request, timeout=30) as response:  # noqa: S310 - the operator gives the URL
            print(response.read().decode())
            return 0
    except HTTPError as error:
        print(error.read().decode(), file=sys.stderr)
    except URLError as error:
        print(f"tessera: cannot reach the node at {base}: {error.reason}", file=sys.stderr)
    return 1


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

"""`python -m frontend demo`: Tessera and this front-end together, on SQLite, ready to try.

Starts a Tessera node as a child process (its own SQLite file and owner credentials in the
state folder), creates the demo service, clients and users through Tessera's API on the first
run (later runs reuse them), then serves the front-end in this process and prints everything
needed to try a flow. Ctrl-C (or SIGTERM) stops both.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import trio
from joserfc.jwk import RSAKey

from frontend.config import from_dict
from frontend.passwords import hash_password
from frontend.provision import Provisioner, client_document, service_document
from frontend.server import run, set_on_signal

ROOT = Path(__file__).resolve().parent.parent
SERVICE_NAME = "Tessera demo"
DEMO_USERS = {
    "alice": {"name": "Alice Example", "given_name": "Alice", "family_name": "Example",
              "preferred_username": "alice", "email": "alice@example.com",
              "email_verified": True, "locale": "en-GB"},
    "bob": {"name": "Bob Example", "given_name": "Bob", "family_name": "Example",
            "preferred_username": "bob", "email": "bob@example.com", "email_verified": False},
}
_BANNER = re.compile(r"Tessera API: (http://\S+)/api")


async def main(port: int, tessera_port: int, state_dir: Path, database_url: str | None) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    state = _load_state(state_dir)
    issuer = f"http://localhost:{port}"
    stopping, shutdown = trio.Event(), trio.Event()
    async with trio.open_nursery() as nursery:
        # Ctrl-C or SIGTERM: during start-up, abandon it; once serving, stop gracefully.
        startup = trio.CancelScope()
        nursery.start_soon(_on_signal, shutdown, startup)
        tessera = None
        try:
            with startup:
                tessera, tessera_url = await nursery.start(
                    _run_tessera, state, state_dir, tessera_port, database_url, stopping)
                await _provision(state, tessera_url, issuer, state_dir)
                _save_state(state_dir, state)
            if not startup.cancelled_caught:
                settings = from_dict(_frontend_config(state, issuer, tessera_url, port))
                await _serve(settings, state, issuer, state_dir, shutdown)
        finally:
            stopping.set()
            with trio.CancelScope(shield=True):
                if tessera is not None:
                    await _stop(tessera)
            nursery.cancel_scope.cancel()


async def _on_signal(shutdown: trio.Event, startup: trio.CancelScope) -> None:
    await set_on_signal(shutdown)
    startup.cancel()   # no effect once start-up is over


async def _serve(settings, state: dict, issuer: str, state_dir: Path,
                 shutdown: trio.Event) -> None:
    async with trio.open_nursery() as nursery:
        await nursery.start(run, settings, shutdown, SERVICE_NAME)
        print(_summary(state, issuer, state_dir), flush=True)
        await shutdown.wait()
        print("Stopping the front-end and Tessera …", flush=True)


# --- Tessera as a child process ------------------------------------------------------------

async def _run_tessera(state: dict, state_dir: Path, port: int, database_url: str | None,
                       stopping: trio.Event, task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Run Tessera until `stopping`; if it dies before, fail, which stops the front-end."""
    _check_free(port, "Tessera's port; pass --tessera-port")
    env = {**os.environ,
           "TESSERA__SERVER__BIND": f"127.0.0.1:{port}",
           "TESSERA__DATABASE__URL": database_url or f"sqlite://{state_dir}/tessera.sqlite3",
           "TESSERA__SECURITY__DEV_KEY_FILE": str(state_dir / "master.key"),
           "TESSERA__OWNER__API_KEY": state["owner"]["key"],
           "TESSERA__OWNER__API_SECRET": state["owner"]["secret"],
           "TESSERA__DEMO__ENABLED": "false", "TESSERA__LOG__LEVEL": "warning"}
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "app", "--config", str(ROOT / "config.toml"), "serve"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)   # our Ctrl-C must not reach it before we stop it in order
    try:
        await _forward_output(process, task_status)
        code = await process.wait()
        if not stopping.is_set():
            raise RuntimeError(f"Tessera exited unexpectedly with {code}; its output is above")
    finally:
        with trio.CancelScope(shield=True):
            await _stop(process)


def _check_free(port: int, hint: str) -> None:
    """Name a taken port plainly, before a child process fails on it with a traceback."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise RuntimeError(f"cannot listen on 127.0.0.1:{port} ({hint}): "
                               f"{error.strerror}") from error


async def _forward_output(process, task_status) -> None:
    """Print Tessera's output, but for its start-up banner, which our summary replaces; report
    its API address through task_status when the banner appears."""
    started = in_banner = False
    async for line in _lines(process.stdout):
        match = _BANNER.search(line)
        if match and not started:
            started = in_banner = True
            task_status.started((process, match.group(1)))
        elif not (in_banner and line.startswith("  ")):
            in_banner = False
            print(f"[tessera] {line}", flush=True)


async def _lines(stream):
    pending = b""
    async for chunk in stream:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line.decode(errors="replace")


async def _stop(process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    with trio.move_on_after(15):
        await process.wait()
        return
    process.kill()
    await process.wait()


# --- the service, clients and users ----------------------------------------------------------

async def _provision(state: dict, tessera_url: str, issuer: str, state_dir: Path) -> None:
    owner = state["owner"]
    async with Provisioner(tessera_url, owner["key"], owner["secret"]) as api:
        document = service_document(issuer, SERVICE_NAME)
        service = state.get("service")
        if service and await api.service_exists(service["apiKey"]):
            # A restart on another port moves the issuer, the endpoints and the redirect URIs.
            await api.update_service(service["apiKey"], document)
            await _update_clients(api, state, issuer)
            return
        created = await api.create_service(document)
        state["service"] = {"apiKey": str(created["apiKey"]), "apiSecret": created["apiSecret"]}
        state["clients"] = await _create_clients(api, state["service"], issuer, state_dir)


def _client_plans(issuer: str, public_jwk: dict) -> dict[str, dict]:
    redirect_uris = [f"{issuer}/demo/callback"]
    logo = f"{issuer}/static/demo-client.svg"
    return {
        "confidential": client_document("Demo web app", "CLIENT_SECRET_BASIC", redirect_uris,
                                        logo_uri=logo),
        "public": client_document("Demo single-page app", "NONE", redirect_uris, logo_uri=logo),
        "private_key_jwt": client_document(
            "Demo backend (private_key_jwt)", "PRIVATE_KEY_JWT", redirect_uris,
            jwks={"keys": [public_jwk]}, logo_uri=logo),
    }


async def _create_clients(api: Provisioner, service: dict, issuer: str,
                          state_dir: Path) -> dict:
    credentials = (service["apiKey"], service["apiSecret"])
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True)
    key.ensure_kid()
    key_file = state_dir / "private_key_jwt-client.jwk.json"
    _write_private(key_file, json.dumps(key.as_dict(private=True)))
    clients = {}
    for name, document in _client_plans(issuer, key.as_dict(private=False)).items():
        created = await api.create_client(credentials, document)
        clients[name] = {"clientId": str(created["clientId"]),
                         "clientSecret": created.get("clientSecret") if name == "confidential"
                         else None,
                         "tokenAuthMethod": document["tokenAuthMethod"],
                         "redirectUri": document["redirectUris"][0]}
    clients["private_key_jwt"]["privateKeyFile"] = str(key_file)
    return clients


async def _update_clients(api: Provisioner, state: dict, issuer: str) -> None:
    credentials = (state["service"]["apiKey"], state["service"]["apiSecret"])
    clients = state["clients"]
    key = RSAKey.import_key(json.loads(Path(clients["private_key_jwt"]["privateKeyFile"])
                                       .read_text()))
    for name, document in _client_plans(issuer, key.as_dict(private=False)).items():
        await api.update_client(credentials, clients[name]["clientId"], document)
        clients[name]["redirectUri"] = document["redirectUris"][0]


def _load_state(state_dir: Path) -> dict:
    path = state_dir / "demo.json"
    if path.exists():
        return json.loads(path.read_text())
    return {
        "owner": {"key": str(secrets.randbelow(9 * 10**11) + 10**11),
                  "secret": secrets.token_urlsafe(32)},
        "sessionSecret": secrets.token_urlsafe(48),
        "users": {name: secrets.token_urlsafe(9) for name in DEMO_USERS},
        "resourceServer": {"clientId": "demo-resource-server",
                           "clientSecret": secrets.token_urlsafe(24)},
    }


def _save_state(state_dir: Path, state: dict) -> None:
    _write_private(state_dir / "demo.json", json.dumps(state, indent=2))


def _write_private(path: Path, text: str) -> None:
    """Create the file readable by its owner only from the start (it holds secrets)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


def _frontend_config(state: dict, issuer: str, tessera_url: str, port: int) -> dict:
    if "hashes" not in state:  # hashing is slow on purpose; do it once per state folder
        state["hashes"] = {name: hash_password(password)
                           for name, password in state["users"].items()}
        state["hashes"]["resource-server"] = hash_password(
            state["resourceServer"]["clientSecret"])
    return {
        "server": {"bind": f"127.0.0.1:{port}", "public_url": issuer},
        "tessera": {"url": tessera_url, "api_key": state["service"]["apiKey"],
                    "api_secret": state["service"]["apiSecret"]},
        "session": {"secret": state["sessionSecret"]},
        "users": [{"username": name, "password_hash": state["hashes"][name], "subject": name,
                   "claims": claims} for name, claims in DEMO_USERS.items()],
        "resource_servers": [{"client_id": state["resourceServer"]["clientId"],
                              "secret_hash": state["hashes"]["resource-server"]}],
        "demo": {"callback": True},
    }


def _summary(state: dict, issuer: str, state_dir: Path) -> str:
    clients = state["clients"]
    confidential = clients["confidential"]
    query = urlencode({"response_type": "code", "client_id": confidential["clientId"],
                       "redirect_uri": confidential["redirectUri"],
                       "scope": "openid profile email", "state": secrets.token_urlsafe(8),
                       "nonce": secrets.token_urlsafe(8)})
    lines = [
        "",
        f"Issuer (front-end):   {issuer}",
        f"Discovery:            {issuer}/.well-known/openid-configuration",
        "Demo users:           " + ", ".join(f"{name} / {password}"
                                             for name, password in state["users"].items()),
        f"Resource server:      {state['resourceServer']['clientId']} / "
        f"{state['resourceServer']['clientSecret']} (for {issuer}/introspect)",
    ]
    for name, client in clients.items():
        secret = client.get("clientSecret") or client.get("privateKeyFile") or "(none, PKCE)"
        lines.append(f"Client {name + ':':<17}{client['clientId']}  "
                     f"{client['tokenAuthMethod']}  {secret}")
    lines += [f"Redirect URI:         {confidential['redirectUri']}",
              f"State (all secrets):  {state_dir / 'demo.json'}",
              "",
              "Open this URL in a browser to sign in as a demo user:",
              f"{issuer}/authorize?{query}",
              "",
              "Ready. Ctrl-C stops the front-end and Tessera."]
    return "\n".join(lines)

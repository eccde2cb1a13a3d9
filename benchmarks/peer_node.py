"""The peer: node-oidc-provider from benchmarks/peer/ (see its README for its interface)."""

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.processes import (
    ProcessFailed,
    free_port,
    program,
    run,
    spawn,
    stop,
    wait_for_output,
)

PEER_DIR = Path(__file__).resolve().parent / "peer"
CLIENT = ("bench-client", "bench-secret")
# The token endpoint issues, the introspection endpoint (RFC 7662) checks.
ISSUE_PATH = "/token"
INTROSPECT_PATH = "/token/introspection"
START_TIMEOUT = 60.0


@dataclass
class PeerNode:
    base_url: str
    process: subprocess.Popen
    log_path: Path
    token_format: str

    @property
    def pid(self) -> int:
        return self.process.pid


def install() -> None:
    """`npm ci` once: the lock file pins oidc-provider and the store clients."""
    if not (PEER_DIR / "server.mjs").exists():
        raise ProcessFailed(f"the peer is missing: {PEER_DIR}/server.mjs does not exist")
    if not (PEER_DIR / "node_modules" / "oidc-provider").is_dir():
        run([program("npm"), "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, timeout=600)


def oidc_provider_version() -> str:
    manifest = PEER_DIR / "node_modules" / "oidc-provider" / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (FileNotFoundError, KeyError, ValueError):
        return "not installed"


def start_peer(workdir: Path, *, token_format: str, store: str, cpus: str,
               store_env: dict[str, str]) -> PeerNode:
    """`node server.mjs` with the given store (`store_env`: PEER_PG_URL or PEER_REDIS_*)."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"peer-{store}-{token_format}.log"
    env = {**os.environ, "PEER_PORT": str(free_port()), "PEER_STORE": store,
           "PEER_ACCESS_TOKEN_FORMAT": token_format, **store_env}
    process = spawn([program("node"), "server.mjs"], log_path=log_path, cpus=cpus,
                    cwd=PEER_DIR, env=env)
    try:
        ready = wait_for_output(process, log_path, r"READY (http://\S+)", START_TIMEOUT)
    except ProcessFailed:
        stop(process)
        raise
    return PeerNode(ready.group(1), process, log_path, token_format)


def token_form(scope: str = "api:read") -> str:
    return f"grant_type=client_credentials&scope={scope}"


def issue_token(http: httpx.Client) -> str:
    response = http.post(ISSUE_PATH, auth=CLIENT, content=token_form(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    if response.status_code != 200 or "access_token" not in response.text:
        raise ProcessFailed(f"the peer's {ISSUE_PATH} did not issue a token: "
                            f"{response.status_code} {response.text}")
    return response.json()["access_token"]

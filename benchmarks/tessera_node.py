"""A Tessera node as a real process (`python -m app serve`), and its seeding through the API."""

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.processes import (
    ProcessFailed,
    free_port,
    run,
    spawn,
    stop,
    wait_for_output,
)

ROOT = Path(__file__).resolve().parent.parent
ISSUER = "https://as.bench.example"
REDIRECT_URI = "https://rp.bench.example/cb"
GRANT_TYPES = ["AUTHORIZATION_CODE", "REFRESH_TOKEN", "CLIENT_CREDENTIALS"]
# Access-token formats: the service member that selects each (None: opaque).
TOKEN_FORMATS = {"opaque": None, "jwt-es256": "ES256", "jwt-rs256": "RS256"}
START_TIMEOUT = 90.0


def master_key() -> str:
    """A fresh master key from Tessera's own command, as an operator would make one."""
    return run([sys.executable, "-m", "app", "master-key"], cwd=ROOT).stdout.strip()


@dataclass(frozen=True)
class Credentials:
    key: str
    secret: str

    @property
    def basic(self) -> tuple[str, str]:
        return (self.key, self.secret)


@dataclass(frozen=True)
class SeededService:
    """One service (one access-token format) and its confidential client."""

    service: Credentials
    client: Credentials


@dataclass
class TesseraNode:
    base_url: str
    process: subprocess.Popen
    log_path: Path
    owner: Credentials
    services: dict[str, SeededService] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid


def node_sections(*, port: int, database_url: str, workers: int, workdir: Path,
                  owner: Credentials, reaper_interval: float | None = None) -> dict:
    """The settings the benchmarks give a node; every other key keeps config.toml's default."""
    sections = {
        "server": {"bind": f"127.0.0.1:{port}", "workers": workers, "grace_period": 3.0},
        "database": {"url": database_url},
        "security": {"master_key_env": "TESSERA_MASTER_KEY", "allow_dev_key": False,
                     "dev_key_file": str(workdir / "master.key")},
        "owner": {"api_key": owner.key, "api_secret": owner.secret},
        "keys": {"algorithms": ["RS256", "ES256"]},
        # The limiter would answer 429 long before the load is reached; it is not measured.
        "rate_limit": {"enabled": False},
        "log": {"level": "warning"},
        "demo": {"enabled": False},
    }
    if reaper_interval is not None:
        sections["reaper"] = {"interval": reaper_interval}
    return sections


def write_config(path: Path, sections: dict) -> Path:
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return repr(value)


def new_owner() -> Credentials:
    return Credentials(str(secrets.randbelow(9 * 10**9) + 10**9), secrets.token_urlsafe(32))


def start_node(workdir: Path, *, database_url: str, workers: int, cpus: str, master: str,
               reaper_interval: float | None = None) -> TesseraNode:
    """Start `python -m app serve` on a free loopback port and wait until it answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    owner = new_owner()
    config = write_config(workdir / "config.toml", node_sections(
        port=free_port(), database_url=database_url, workers=workers, workdir=workdir,
        owner=owner, reaper_interval=reaper_interval))
    log_path = workdir / "node.log"
    process = spawn([sys.executable, "-m", "app", "--config", str(config), "serve"],
                    log_path=log_path, cpus=cpus, cwd=ROOT,
                    env={**os.environ, "TESSERA_MASTER_KEY": master})
    try:
        banner = wait_for_output(process, log_path, r"Tessera API: (http://\S+)/api",
                                 START_TIMEOUT)
        base_url = banner.group(1)
        _wait_healthy(base_url)
    except (ProcessFailed, httpx.HTTPError):
        stop(process)
        raise
    return TesseraNode(base_url, process, log_path, owner)


def _wait_healthy(base_url: str) -> None:
    # With several serving processes the banner may come before every one of them listens;
    # a few health probes over fresh connections make sure the port answers.
    for _ in range(5):
        response = httpx.get(f"{base_url}/health", timeout=10)
        if response.status_code != 200:
            raise ProcessFailed(f"GET /health answered {response.status_code}: {response.text}")


# --- Seeding -----------------------------------------------------------------------------------

def service_body(token_format: str, lifetimes: dict | None = None) -> dict:
    body = {
        "serviceName": f"bench {token_format}", "issuer": ISSUER,
        "authorizationEndpoint": f"{ISSUER}/authorize", "tokenEndpoint": f"{ISSUER}/token",
        "introspectionEndpoint": f"{ISSUER}/introspect",
        "supportedGrantTypes": GRANT_TYPES, "supportedResponseTypes": ["CODE"],
        "supportedScopes": [{"name": "api:read"}, {"name": "api:write"}, {"name": "openid"}],
        "supportedTokenAuthMethods": ["CLIENT_SECRET_BASIC"],
        **(lifetimes or {}),
    }
    if TOKEN_FORMATS[token_format]:
        body["accessTokenSignAlg"] = TOKEN_FORMATS[token_format]
    return body


CLIENT_BODY = {
    "clientName": "bench client", "clientType": "CONFIDENTIAL",
    "tokenAuthMethod": "CLIENT_SECRET_BASIC", "grantTypes": GRANT_TYPES,
    "responseTypes": ["CODE"], "redirectUris": [REDIRECT_URI],
}


def seed(node: TesseraNode, token_formats: list[str], lifetimes: dict | None = None) -> None:
    """One service per access-token format, each with one confidential client."""
    with httpx.Client(base_url=node.base_url, timeout=30) as http:
        for token_format in token_formats:
            service = _created(http.post("/api/service/create", auth=node.owner.basic,
                                         json=service_body(token_format, lifetimes)))
            service_credentials = Credentials(str(service["apiKey"]), service["apiSecret"])
            client = _created(http.post("/api/client/create", auth=service_credentials.basic,
                                        json=CLIENT_BODY))
            node.services[token_format] = SeededService(
                service_credentials, Credentials(str(client["clientId"]), client["clientSecret"]))


def _created(response: httpx.Response) -> dict:
    if response.status_code != 200:
        raise ProcessFailed(f"{response.request.method} {response.request.url.path} answered "
                            f"{response.status_code}: {response.text}")
    return response.json()


def client_credentials_body(seeded: SeededService, scope: str = "api:read") -> dict:
    return {"parameters": f"grant_type=client_credentials&scope={scope}",
            "clientId": seeded.client.key, "clientSecret": seeded.client.secret}


def issue_token(http: httpx.Client, seeded: SeededService) -> str:
    answer = http.post("/api/auth/token", auth=seeded.service.basic,
                       json=client_credentials_body(seeded)).json()
    if answer.get("action") != "OK":
        raise ProcessFailed(f"/api/auth/token did not issue a token: {answer}")
    return answer["accessToken"]

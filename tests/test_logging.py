"""Logs of a real node process: one JSON object per line, request ids, and never a secret.

A client-management flow runs over HTTP against a node with JSON logs at debug level; afterwards
every secret the flow saw (and the private signing keys, read back from the database with the
node's master key) is searched for in everything the process wrote.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from app.config import load_settings
from app.node import make_sealer, storage_config
from storage import open_storage
from tests.support import OWNER, OWNER_SECRET, ROOT, basic, bearer, start_node_process, write_config

BANNER_PREFIXES = ("Tessera API: ", "  service owner ", "  demo credentials: ")
PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")
CHOSEN_CLIENT_SECRET = "chosen-client-secret-that-must-not-be-logged-0123456789"
GUESSED_SECRET = "guessed-secret-that-must-not-be-logged-42"
CUSTOM_REQUEST_ID = "trace-logging-test-0001"


def clean_environment() -> dict:
    return {name: value for name, value in os.environ.items()
            if not name.startswith("TESSERA__") and name != "TESSERA_MASTER_KEY"}


class Recorder:
    """Collects every secret the flow sees and every X-Request-Id the node answers with."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {"owner apiSecret": OWNER_SECRET,
                                        "guessed secret": GUESSED_SECRET}
        self.request_ids: list[str] = []

    def secret(self, name: str, value: str) -> str:
        assert isinstance(value, str) and len(value) >= 16, (name, value)
        self.secrets[name] = value
        return value

    def response(self, response: httpx.Response, status: int = 200) -> dict:
        assert response.status_code == status, response.text
        self.request_ids.append(response.headers["X-Request-Id"])
        return response.json() if response.content else {}


def issue_token_with_the_cli(config: Path, service_id: int, recorder: Recorder) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "app", "--config", str(config), "token", "create", "--service",
         str(service_id)], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=clean_environment())
    assert result.returncode == 0, result.stderr
    token = json.loads(result.stdout.strip().splitlines()[-1])["accessToken"]
    assert token not in result.stderr  # the CLI's own log lines
    return recorder.secret("v3 access token", token)


async def client_management_flow(base_url: str, config: Path, recorder: Recorder) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        service = recorder.response(await http.post(
            "/api/service/create", json={"serviceName": "Logged", "clientIdAliasEnabled": True},
            headers=OWNER))
        recorder.secret("service apiSecret", service["apiSecret"])
        auth = basic(service["apiKey"], service["apiSecret"])

        client = recorder.response(await http.post(
            "/api/client/create", headers=auth,
            json={"clientName": "Logged", "redirectUris": ["https://rp.example.com/cb"]}))
        client_id = client["clientId"]
        recorder.secret("created clientSecret", client["clientSecret"])

        refreshed = recorder.response(await http.get(f"/api/client/secret/refresh/{client_id}",
                                                     headers=auth))
        recorder.secret("refreshed clientSecret", refreshed["newClientSecret"])
        updated = recorder.response(await http.post(
            f"/api/client/secret/update/{client_id}", json={"clientSecret": CHOSEN_CLIENT_SECRET},
            headers=auth))
        recorder.secret("updated clientSecret", updated["newClientSecret"])

        got = recorder.response(await http.get(f"/api/client/get/{client_id}", headers=auth))
        assert got["clientSecret"] == CHOSEN_CLIENT_SECRET
        recorder.response(await http.get("/api/service/jwks/get?pretty=False", headers=auth))
        recorder.response(await http.get("/api/service/jwks/get?includePrivateKeys=True",
                                         headers=auth), 403)
        recorder.response(await http.post(f"/api/service/keys/rotate/{service['apiKey']}",
                                          headers=OWNER))

        # Failed authentication must not log what was presented either.
        recorder.response(await http.get("/api/client/get/list",
                                         headers=basic(service["apiKey"], GUESSED_SECRET)), 401)
        recorder.response(await http.get("/api/service/get/list",
                                         headers=basic("7700112233", GUESSED_SECRET)), 401)
        recorder.response(await http.get("/api/client/get/list",
                                         headers=bearer(GUESSED_SECRET)), 401)

        token = issue_token_with_the_cli(config, service["apiKey"], recorder)
        prefix = f"/api/{service['apiKey']}"
        recorder.response(await http.get(f"{prefix}/client/get/{client_id}",
                                         headers=bearer(token)))
        recorder.response(await http.post(f"{prefix}/service/configuration",
                                          json={"pretty": True, "patch": None},
                                          headers=bearer(token)))

        traced = await http.get("/api/info", headers={"X-Request-Id": CUSTOM_REQUEST_ID})
        assert traced.headers["X-Request-Id"] == CUSTOM_REQUEST_ID
        recorder.response(traced)


async def private_key_material(config: Path) -> dict[str, str]:
    """Private JWK members of every signing key, read with the same master key as the node."""
    settings = load_settings(config, {})
    async with open_storage(storage_config(settings), make_sealer(settings),
                            migrate_first=False) as storage:
        keys = await storage.signing_keys.all()
    assert keys, "the flow should have created signing keys"
    assert keys[0].private_jwk["d"]
    return {f"private '{member}' of {key.kid}": key.private_jwk[member]
            for key in keys for member in PRIVATE_JWK_MEMBERS if member in key.private_jwk}


def log_records(output: str) -> list[dict]:
    records = []
    for line in output.splitlines():
        if not line.strip() or line.startswith(BANNER_PREFIXES):
            continue  # the start-up banner is the serve command's stdout, not a log line
        try:
            record = json.loads(line)
        except ValueError:
            raise AssertionError(f"log line is not JSON: {line!r}") from None
        assert isinstance(record, dict), line
        assert isinstance(record.get("event"), str) and record["event"], line
        assert record.get("level") in ("debug", "info", "warning", "error", "critical"), line
        records.append(record)
    return records


async def test_json_logs_carry_request_ids_and_no_secrets(tmp_path):
    config = write_config(tmp_path / "config.toml", f"sqlite://{tmp_path}/tessera.sqlite3",
                          log={"format": "json", "level": "debug"})
    recorder = Recorder()
    node = start_node_process(config, tmp_path / "node.log", env=clean_environment())
    try:
        await client_management_flow(node.base_url, config, recorder)
    finally:
        exit_code = node.stop()
    output = node.output()
    assert exit_code == 0, output

    secrets = {**recorder.secrets, **await private_key_material(config)}
    assert len(secrets) >= 10
    leaked = [name for name, value in secrets.items() if value in output]
    assert not leaked, f"secrets in the node's output: {leaked}"

    records = log_records(output)
    requests = [record for record in records if record["event"] == "api.request"]
    assert len(requests) >= len(recorder.request_ids)
    assert all(record.get("request_id") for record in requests)
    logged_ids = {record["request_id"] for record in requests}
    assert set(recorder.request_ids) <= logged_ids
    assert CUSTOM_REQUEST_ID in logged_ids
    assert len(set(recorder.request_ids)) == len(recorder.request_ids)  # one id per request
    events = {record["event"] for record in records}
    assert {"node.started", "node.stopped", "key.created"} <= events

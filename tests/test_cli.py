"""Operator commands (`python -m app ...`) as real processes on a real SQLite file."""

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import (
    OWNER_KEY,
    OWNER_SECRET,
    ROOT,
    NodeProcess,
    basic,
    bearer,
    start_node_process,
    write_config,
)

CLI_TIMEOUT = 120


def clean_environment(**extra: str) -> dict:
    """The test runner's environment without settings overrides, plus `extra`."""
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith("TESSERA__") and name != "TESSERA_MASTER_KEY"}
    return {**environ, **extra}


def run_cli(config: Path | None, *args: str) -> subprocess.CompletedProcess:
    prefix = ["--config", str(config)] if config is not None else []
    return subprocess.run([sys.executable, "-m", "app", *prefix, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT,
                          env=clean_environment())


def cli_json(config: Path, *args: str) -> dict:
    result = run_cli(config, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def config(tmp_path) -> Path:
    return write_config(tmp_path / "config.toml", f"sqlite://{tmp_path}/tessera.sqlite3")


@pytest.fixture
def running(config, tmp_path):
    process = start_node_process(config, tmp_path / "node.log", env=clean_environment())
    yield process
    assert process.stop() == 0, process.output()


def test_migrate_then_owner_show_prints_the_configured_credentials(config):
    migrated = run_cli(config, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "migrations applied" in migrated.stdout
    assert cli_json(config, "owner", "show") == {"apiKey": OWNER_KEY, "apiSecret": OWNER_SECRET}


def test_owner_show_generates_credentials_once(tmp_path):
    config = write_config(tmp_path / "config.toml", f"sqlite://{tmp_path}/tessera.sqlite3",
                          owner={"api_key": "", "api_secret": ""})
    first = cli_json(config, "owner", "show")
    assert first["apiKey"] and len(first["apiSecret"]) >= 32
    assert first["apiKey"] != OWNER_KEY
    assert cli_json(config, "owner", "show") == first


def test_created_service_credentials_work_against_a_running_node(config, running):
    service = cli_json(config, "service", "create", "--name", "From the CLI")
    assert isinstance(service["apiKey"], int) and len(service["apiSecret"]) >= 32
    with httpx.Client(base_url=running.base_url, timeout=30) as http:
        listed = http.get("/api/client/get/list",
                          headers=basic(service["apiKey"], service["apiSecret"]))
        assert listed.status_code == 200, listed.text
        assert listed.json()["totalCount"] == 0
        wrong = http.get("/api/client/get/list", headers=basic(service["apiKey"], "nope"))
        assert wrong.status_code == 401 and wrong.json()["resultCode"] == "A003204"
        got = http.get(f"/api/service/get/{service['apiKey']}",
                       headers=basic(OWNER_KEY, OWNER_SECRET))
        assert got.status_code == 200 and got.json()["serviceName"] == "From the CLI"


def test_service_token_works_for_its_service_only(config, running):
    mine = cli_json(config, "service", "create", "--name", "Mine")
    other = cli_json(config, "service", "create", "--name", "Other")
    token = cli_json(config, "token", "create", "--service", str(mine["apiKey"]))
    assert token["serviceId"] == mine["apiKey"] and len(token["accessToken"]) >= 43
    other_token = cli_json(config, "token", "create", "--service", str(other["apiKey"]))
    with httpx.Client(base_url=running.base_url, timeout=30) as http:
        path = f"/api/{mine['apiKey']}/client/get/list"
        allowed = http.get(path, headers=bearer(token["accessToken"]))
        assert allowed.status_code == 200, allowed.text
        refused = http.get(path, headers=bearer(other_token["accessToken"]))
        assert refused.status_code == 403
        assert refused.json()["resultCode"] == "A001206"
        assert str(mine["apiKey"]) in refused.json()["resultMessage"]


def test_token_create_for_an_unknown_service_fails(config):
    result = run_cli(config, "token", "create", "--service", "12345")
    assert result.returncode != 0
    assert "no service 12345" in result.stderr


def test_keys_rotate_through_the_running_node(config, running):
    service = cli_json(config, "service", "create", "--name", "Rotating")
    result = run_cli(config, "keys", "rotate", "--service", str(service["apiKey"]),
                     "--url", running.base_url)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["resultCode"] == "A900001"
    # The next keys were only just published: lead_time (1 day) defers both rotations.
    assert body["rotated"] == []
    assert set(body["pending"]) == {"RS256", "ES256"}
    now_ms = time.time() * 1000
    assert all(at > now_ms for at in body["pending"].values())
    assert "pending RS256, ES256" in body["resultMessage"]
    assert str(service["apiKey"]) in body["resultMessage"]


def test_keys_rotate_for_an_unknown_service_reports_the_error(config, running):
    result = run_cli(config, "keys", "rotate", "--service", "999", "--url", running.base_url)
    assert result.returncode == 1
    assert json.loads(result.stderr.strip().splitlines()[-1])["resultCode"] == "A035201"


def test_master_key_is_32_random_bytes_in_base64url():
    first, second = run_cli(None, "master-key"), run_cli(None, "master-key")
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", key), key
    assert len(base64.urlsafe_b64decode(key + "=")) == 32
    assert second.stdout.strip() != key


def test_readme_demo_path(tmp_path):
    """`python -m app --config config.toml serve` with the demo on, configured by environment."""
    grace_period = 3.0
    env = clean_environment(
        TESSERA__DEMO__ENABLED="true",
        TESSERA__SERVER__BIND="127.0.0.1:0",
        TESSERA__SERVER__GRACE_PERIOD=str(grace_period),
        TESSERA__DATABASE__URL=f"sqlite://{tmp_path}/d.sqlite3",
        TESSERA__DEMO__CREDENTIALS_FILE=str(tmp_path / "demo.json"),
        TESSERA__SECURITY__DEV_KEY_FILE=str(tmp_path / "master.key"),
    )
    node = _start_by_hand(["--config", "config.toml", "serve"], env, tmp_path / "demo.log")
    try:
        banner = node.output()
        demo = json.loads(re.search(r"demo credentials: (\{.*\})", banner).group(1))
        owner = re.search(r"service owner  api_key=(\d+) ", banner)
        assert owner, banner
        saved = json.loads((tmp_path / "demo.json").read_text())
        assert saved == demo
        assert (tmp_path / "demo.json").stat().st_mode & 0o777 == 0o600
        _check_demo_client(node.base_url, demo)
        node.process.send_signal(signal.SIGTERM)
        assert node.process.wait(timeout=grace_period + 10) == 0, node.output()
        # The generated owner credentials are printed on demand, never in the banner.
        shown = subprocess.run([sys.executable, "-m", "app", "--config", "config.toml", "owner",
                                "show"], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=CLI_TIMEOUT)
        owner_credentials = json.loads(shown.stdout.strip().splitlines()[-1])
        assert owner_credentials["apiKey"] == owner.group(1)
        assert owner_credentials["apiSecret"] not in node.output()
    finally:
        if node.process.poll() is None:
            node.process.kill()
            node.process.wait()


def _check_demo_client(base_url: str, demo: dict) -> None:
    service, client = demo["service_api_key"], demo["client_id"]
    with httpx.Client(base_url=base_url, timeout=30) as http:
        v2 = http.get(f"/api/client/get/{client}",
                      headers=basic(service, demo["service_api_secret"]))
        assert v2.status_code == 200, v2.text
        assert v2.json()["clientId"] == client
        assert v2.json()["clientSecret"] == demo["client_secret"]
        v3 = http.get(f"/api/{service}/client/get/{client}",
                      headers=bearer(demo["service_access_token"]))
        assert v3.status_code == 200, v3.text
        assert v3.json() == v2.json()
        alias = http.get(f"/api/{service}/client/get/demo-client",
                         headers=bearer(demo["service_access_token"]))
        assert alias.status_code == 200 and alias.json()["clientId"] == client


def _start_by_hand(args: list[str], env: dict, log_path: Path) -> NodeProcess:
    output = log_path.open("w")
    process = subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, env=env,
                               stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        match = re.search(r"Tessera API: (http://\S+)/api", text)
        if match and "demo credentials: " in text:
            return NodeProcess(process, match.group(1), log_path)
        if process.poll() is not None:
            raise AssertionError(f"node exited with {process.returncode}:\n{text}")
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"node did not start:\n{log_path.read_text()}")

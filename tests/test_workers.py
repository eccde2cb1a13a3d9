"""Several worker processes on one port (`[server] workers`), as real processes on SQLite."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.config import BucketSettings, RateLimitSettings
from app.workers import WorkerRole, rate_limit_share
from tests.support import OWNER, ROOT, basic, start_node_process, write_config


def children(pid: int) -> list[int]:
    """Child processes, whichever of the parent's threads started them."""
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def wait_until(condition, timeout: float = 20.0, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{message} not met within {timeout}s")


@pytest.fixture
def two_workers(tmp_path):
    config = write_config(tmp_path / "config.toml", f"sqlite://{tmp_path}/tessera.sqlite3",
                          server={"workers": 2}, cache={"poll_interval": 0.2},
                          log={"format": "json", "level": "warning"})
    node = start_node_process(config, tmp_path / "node.log")
    try:
        wait_until(lambda: "2 worker processes serving" in node.output(), message="both ready")
        yield node
    finally:
        node.stop()


def seed(base_url: str) -> tuple[dict, dict]:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        service = http.post("/api/service/create", headers=OWNER, json={
            "serviceName": "workers", "supportedGrantTypes": ["CLIENT_CREDENTIALS"],
            "supportedScopes": [{"name": "api:read"}]}).json()
        credentials = basic(service["apiKey"], service["apiSecret"])
        client = http.post("/api/client/create", headers=credentials, json={
            "clientName": "c", "grantTypes": ["CLIENT_CREDENTIALS"]}).json()
    return credentials, client


def token_request(base_url: str, credentials: dict, client: dict) -> dict:
    # A new connection each time, so that the kernel spreads requests across the workers.
    with httpx.Client(base_url=base_url, timeout=10) as http:
        return http.post("/api/auth/token", headers=credentials, json={
            "parameters": "grant_type=client_credentials&scope=api:read",
            "clientId": str(client["clientId"]), "clientSecret": client["clientSecret"]}).json()


def test_two_workers_share_the_port_and_both_serve(two_workers):
    workers = children(two_workers.process.pid)
    assert len(workers) == 2
    credentials, client = seed(two_workers.base_url)
    before = {pid: cpu_ticks(pid) for pid in workers}
    answers = [token_request(two_workers.base_url, credentials, client) for _ in range(150)]
    assert {answer["action"] for answer in answers} == {"OK"}
    busy = [pid for pid in workers if cpu_ticks(pid) > before[pid]]
    assert sorted(busy) == sorted(workers)


def test_the_start_up_banner_is_shown_once(two_workers):
    output = two_workers.output()
    assert output.count("Tessera API:") == 1
    assert output.count("  service owner") == 1
    assert "2 worker processes serving" in output


def test_a_change_made_through_one_worker_is_seen_by_every_worker(two_workers):
    credentials, client = seed(two_workers.base_url)
    for _ in range(20):  # both workers now hold the client in their caches
        assert token_request(two_workers.base_url, credentials, client)["action"] == "OK"
    with httpx.Client(base_url=two_workers.base_url, timeout=10) as http:
        locked = http.post(f"/api/client/lock_flag/update/{client['clientId']}",
                           headers=credentials, json={"clientLocked": True})
        assert locked.status_code == 200, locked.text
    time.sleep(1.0)  # > poll_interval: the change feed has reached the other worker
    answers = [token_request(two_workers.base_url, credentials, client) for _ in range(30)]
    assert {answer["action"] for answer in answers} == {"INVALID_CLIENT"}


def test_a_worker_that_dies_is_restarted(two_workers):
    first, second = children(two_workers.process.pid)
    os.kill(second, signal.SIGKILL)
    wait_until(lambda: len(children(two_workers.process.pid)) == 2
               and second not in children(two_workers.process.pid), message="a new worker")
    assert first in children(two_workers.process.pid)
    wait_until(lambda: '"event": "worker.restarted"' in two_workers.output(),
               message="it serves again")
    assert two_workers.output().count("Tessera API:") == 1   # no second banner


def test_sigterm_stops_every_worker_and_the_parent(two_workers):
    workers = children(two_workers.process.pid)
    two_workers.process.send_signal(signal.SIGTERM)
    assert two_workers.process.wait(timeout=30) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def test_each_worker_gets_its_share_of_the_rate_limits():
    settings = RateLimitSettings(auth=BucketSettings(rate=1000.0, burst=2001))
    share = rate_limit_share(settings, 2)
    assert (share.auth.rate, share.auth.burst) == (500.0, 1001)
    assert rate_limit_share(settings, 1) == settings


@pytest.mark.parametrize(("text", "valid"), [("0/2", True), ("1/2", True), ("2/2", False),
                                             ("-1/2", False)])
def test_worker_roles_are_checked(text, valid):
    if valid:
        assert WorkerRole.parse(text).count == 2
    else:
        with pytest.raises(ValueError, match="below the count"):
            WorkerRole.parse(text)


def test_a_first_worker_that_cannot_start_stops_the_parent_with_a_message(tmp_path):
    # Nothing listens on port 1: the first worker cannot open its database.
    config = write_config(tmp_path / "config.toml", "postgres://postgres@127.0.0.1:1/none",
                          server={"workers": 2})
    result = subprocess.run([sys.executable, "-m", "app", "--config", str(config), "serve"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "tessera: a worker exited before it started serving")

"""The README's one command, `python -m frontend demo`, as a user runs it: what it prints,
Ctrl-C, running it again on the same state folder; and `python -m frontend serve` refusing a
bad configuration.

Each test starts its own stack (not the session fixture): they stop and restart it.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client

from tests.e2e.agent import UserAgent, page_kind
from tests.e2e.stack import Stack, free_port, start_stack
from tests.support import ROOT

# --- helpers -------------------------------------------------------------------------------


@contextmanager
def demo(state_dir: Path, log_path: Path):
    """A running demo; Ctrl-C'd on the way out if the test has not stopped it."""
    stack = start_stack(state_dir, log_path)
    try:
        yield stack
    finally:
        if stack.process.poll() is None:
            stack.interrupt()


def summary_field(output: str, label: str) -> str:
    """The value printed after `label` on its own line of the summary."""
    found = re.search(rf"^{re.escape(label)}\s+(.+?)\s*$", output, re.MULTILINE)
    assert found, f"no {label!r} line in:\n{output}"
    return found.group(1)


def port_of(url: str) -> int:
    return urlsplit(url).port


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return True
    except ConnectionRefusedError:
        return False


def tessera_children(stack: Stack) -> list[int]:
    """Running `python -m app` processes that the demo process started."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == stack.process.pid and b"app" in cmdline and b"-m" in cmdline:
            found.append(int(proc.name))
    return found


def processes_using(state_dir: Path) -> list[int]:
    """Live processes whose command line or environment names the state folder.

    Tessera's command line does not name it (`python -m app --config config.toml serve`): the
    demo hands it the folder through TESSERA__DATABASE__URL and friends, so the environment is
    where it shows."""
    needle = str(state_dir).encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if _zombie(proc):
                continue
            if needle in (proc / "cmdline").read_bytes() or needle in (
                    proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _zombie(proc: Path) -> bool:
    return (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


def alive(pid: int) -> bool:
    proc = Path(f"/proc/{pid}")
    try:
        return not _zombie(proc)
    except OSError:
        return False


def summary_url(stack: Stack) -> str:
    """The ready-to-open authorization URL the summary prints."""
    return next(line for line in stack.output().splitlines()
                if line.startswith(f"{stack.issuer}/authorize?"))


def client_credentials_token(issuer: str, client: dict) -> dict:
    with OAuth2Client(client["clientId"], client["clientSecret"],
                      token_endpoint_auth_method="client_secret_basic") as session:
        return session.fetch_token(f"{issuer}/token", grant_type="client_credentials",
                                   scope="api.read")


# --- tests ---------------------------------------------------------------------------------

def test_the_summary_has_everything_needed_to_try_a_flow(tmp_path):
    with demo(tmp_path / "state", tmp_path / "log") as stack:
        output, state = stack.output(), stack.state
        issuer = stack.issuer

        assert output.rstrip().endswith("Ready. Ctrl-C stops the front-end and Tessera.")
        assert summary_field(output, "Issuer (front-end):") == issuer
        discovery_url = summary_field(output, "Discovery:")
        assert discovery_url == f"{issuer}/.well-known/openid-configuration"
        discovery = httpx.get(discovery_url, timeout=30)
        assert discovery.status_code == 200, discovery.text
        assert discovery.json()["issuer"] == issuer
        assert discovery.json()["authorization_endpoint"] == f"{issuer}/authorize"

        users = dict(entry.split(" / ") for entry in
                     summary_field(output, "Demo users:").split(", "))
        assert users == state["users"]
        assert set(users) == {"alice", "bob"}
        assert all(users.values())

        clients = state["clients"]
        expected = {
            "confidential": ("CLIENT_SECRET_BASIC", clients["confidential"]["clientSecret"]),
            "public": ("NONE", "(none, PKCE)"),
            "private_key_jwt": ("PRIVATE_KEY_JWT", clients["private_key_jwt"]["privateKeyFile"]),
        }
        for name, (method, credential) in expected.items():
            printed = summary_field(output, f"Client {name}:").split(None, 2)
            assert printed == [clients[name]["clientId"], method, credential], name
        assert clients["confidential"]["clientSecret"]
        key_file = Path(clients["private_key_jwt"]["privateKeyFile"])
        assert key_file.parent == stack.state_dir
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert "d" in json.loads(key_file.read_text())   # the private key, for the client

        assert summary_field(output, "State (all secrets):") == str(stack.state_dir /
                                                                    "demo.json")
        urls = [line for line in output.splitlines()
                if line.startswith(f"{issuer}/authorize?")]
        assert len(urls) == 1, output
        query = parse_qs(urlsplit(urls[0]).query)
        assert query["client_id"] == [clients["confidential"]["clientId"]]
        assert query["redirect_uri"] == [clients["confidential"]["redirectUri"]]
        agent = UserAgent(issuer)
        try:
            page = agent.open(urls[0])
        finally:
            agent.close()
        assert page.status_code == 200, page.text
        assert page_kind(page) == "login"
        assert "Demo web app" in page.text


def test_ctrl_c_stops_the_front_end_and_tessera(tmp_path):
    state_dir = tmp_path / "state"
    with demo(state_dir, tmp_path / "log") as stack:
        ports = {"front-end": port_of(stack.issuer), "Tessera": port_of(stack.tessera_url)}
        for name, port in ports.items():
            assert accepts_connections(port), name
        children = tessera_children(stack)
        assert len(children) == 1, children
        assert children[0] in processes_using(state_dir)

        assert stack.interrupt(timeout=30) == 0, stack.output()

    output = stack.output()
    assert "Stopping the front-end and Tessera" in output
    assert "Traceback" not in output, output
    for name, port in ports.items():
        assert not accepts_connections(port), f"the {name} port {port} is still open"
    assert not alive(children[0]), f"Tessera (pid {children[0]}) is still running"
    assert processes_using(state_dir) == []


def test_a_restart_reuses_the_service_and_clients(tmp_path):
    state_dir = tmp_path / "state"
    with demo(state_dir, tmp_path / "first.log") as first:
        before = first.state
        assert first.interrupt() == 0, first.output()

    with demo(state_dir, tmp_path / "second.log") as second:
        after = second.state
        assert after["service"] == before["service"]
        assert {name: client["clientId"] for name, client in after["clients"].items()} == {
            name: client["clientId"] for name, client in before["clients"].items()}
        assert {name: client["redirectUri"] for name, client in after["clients"].items()} == {
            name: f"{second.issuer}/demo/callback" for name in before["clients"]}
        assert after["users"] == before["users"]
        for name, client in before["clients"].items():
            assert summary_field(second.output(), f"Client {name}:").split()[0] == \
                client["clientId"]

        # the front-end's port may differ (start_stack picks free ports): the service follows
        discovery = httpx.get(f"{second.issuer}/.well-known/openid-configuration",
                              timeout=30).json()
        assert discovery["issuer"] == second.issuer
        token = client_credentials_token(second.issuer, before["clients"]["confidential"])
        assert token["token_type"] == "Bearer"
        assert token["scope"] == "api.read"
        # the printed authorization URL leads back to the new port's callback
        agent = UserAgent(second.issuer)
        page = agent.sign_in(agent.open(summary_url(second)), "alice", second.password("alice"))
        answer = agent.decide(page, "approve")
        assert answer.headers["Location"].startswith(f"{second.issuer}/demo/callback?code=")
        agent.close()
        assert second.interrupt() == 0, second.output()


@pytest.mark.parametrize("session_section", ['secret = "too-short"', ""],
                         ids=["short", "missing"])
def test_serve_refuses_a_bad_session_secret(tmp_path, session_section):
    config = tmp_path / "frontend.toml"
    config.write_text(f"""
[server]
bind = "127.0.0.1:0"
public_url = "http://localhost:9"

[tessera]
url = "http://127.0.0.1:9"
api_key = "1"
api_secret = "not-used"

[session]
{session_section}
""")
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("TESSERA_FRONTEND_")}
    result = subprocess.run([sys.executable, "-m", "frontend", "serve", "--config", str(config)],
                            cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    message = result.stderr.strip()
    assert message.startswith("frontend: configuration: session.secret"), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_password_guessing_is_throttled_per_username(tmp_path):
    """After five wrong passwords, even the right one is refused for a while: on the login
    page with 429 and Retry-After, and at the token endpoint (password grant) as invalid_grant.
    A fresh stack, so that locking alice does not disturb other tests."""
    with demo(tmp_path / "state", tmp_path / "log") as stack:
        agent = UserAgent(stack.issuer)
        page = agent.open(summary_url(stack))
        for _ in range(5):
            page = agent.sign_in(page, "alice", "wrong")
            assert page.status_code == 400
        locked = agent.sign_in(page, "alice", stack.password("alice"))
        agent.close()
        assert locked.status_code == 429
        assert 1 <= int(locked.headers["Retry-After"]) <= 300
        assert "Too many failed attempts" in locked.text
        client = stack.client("confidential")
        response = httpx.post(f"{stack.issuer}/token", auth=(client["clientId"],
                                                             client["clientSecret"]),
                              data={"grant_type": "password", "username": "alice",
                                    "password": stack.password("alice")}, timeout=30)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
        assert stack.interrupt() == 0, stack.output()


def test_when_tessera_dies_the_demo_stops_and_says_so(tmp_path):
    with demo(tmp_path / "state", tmp_path / "log") as stack:
        [child] = tessera_children(stack)
        os.kill(child, signal.SIGKILL)
        assert stack.process.wait(timeout=30) == 1
        output = stack.output()
    assert "Tessera exited unexpectedly with -9" in output
    assert "Traceback" not in output
    assert not accepts_connections(port_of(stack.issuer))


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM],
                         ids=["ctrl-c", "sigterm"])
def test_a_stop_while_tessera_starts_leaves_nothing_behind(tmp_path, signal_number):
    state_dir = tmp_path / "state"
    process = subprocess.Popen(
        [sys.executable, "-m", "frontend", "demo", "--port", str(free_port()),
         "--tessera-port", str(free_port()), "--state-dir", str(state_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while not (state_dir / "master.key").exists() and time.monotonic() < deadline:
        time.sleep(0.02)   # Tessera writes its development master key early in its start-up
    assert (state_dir / "master.key").exists()
    process.send_signal(signal_number)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert processes_using(state_dir) == []


@pytest.mark.parametrize("which", ["--port", "--tessera-port"])
def test_a_taken_port_is_named(tmp_path, which):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {"--port": str(free_port()), "--tessera-port": str(free_port()),
                 which: str(port)}
        result = subprocess.run(
            [sys.executable, "-m", "frontend", "demo", *(x for pair in ports.items()
                                                         for x in pair),
             "--state-dir", str(tmp_path / "state")],
            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert processes_using(tmp_path / "state") == []

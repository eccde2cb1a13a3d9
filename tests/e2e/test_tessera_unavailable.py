"""The front-end when Tessera is down or does not answer: a calm page for people, an OAuth
`server_error` for programs, never a hang or a traceback, and the process stays up."""

import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from frontend.passwords import hash_password
from tests.e2e.stack import free_port
from tests.support import ROOT


def _config(path, tessera_url: str) -> None:
    path.write_text(f"""
[server]
bind = "127.0.0.1:{free_port()}"
public_url = "http://localhost:9"
[tessera]
url = "{tessera_url}"
api_key = "1"
api_secret = "not-used"
timeout = 1.0
[session]
secret = "{'s' * 40}"
[[users]]
username = "alice"
password_hash = "{hash_password('pw')}"
""")


@pytest.fixture(params=["refused", "silent"])
def frontend_url(request, tmp_path):
    """A front-end whose Tessera refuses connections, or accepts them and never answers."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    port = silent.getsockname()[1] if request.param == "silent" else free_port()
    _config(tmp_path / "frontend.toml", f"http://127.0.0.1:{port}")
    log = tmp_path / "frontend.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "frontend", "serve", "--config",
             str(tmp_path / "frontend.toml")], cwd=ROOT, stdout=output,
            stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        yield _wait_for_banner(process, log)
        assert process.poll() is None, log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=15)
        silent.close()


def _wait_for_banner(process, log) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"Tessera front-end: (http://\S+)", log.read_text())
        if found:
            return found.group(1)
        assert process.poll() is None, log.read_text()
        time.sleep(0.1)
    raise AssertionError(log.read_text())


def test_a_person_gets_a_page(frontend_url):
    response = httpx.get(f"{frontend_url}/authorize?response_type=code&client_id=1",
                         timeout=30)
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "not available right now" in response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/token"), ("POST", "/revoke"), ("GET", "/jwks"), ("POST", "/userinfo"),
    ("GET", "/.well-known/openid-configuration"),
])
def test_a_program_gets_server_error(frontend_url, method, path):
    response = httpx.request(method, f"{frontend_url}{path}", timeout=30,
                             data={"grant_type": "client_credentials", "token": "t"},
                             headers={"Authorization": "Bearer t"} if path == "/userinfo"
                             else {})
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
    assert response.headers["Cache-Control"] == "no-store"

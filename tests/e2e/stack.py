"""The demo stack as the README starts it: `python -m frontend demo`, which runs Tessera as a
child process and the front-end in its own process, on SQLite, with the demo data."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from frontend.provision import client_document
from tests.support import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Stack:
    issuer: str
    tessera_url: str
    state_dir: Path
    process: subprocess.Popen
    log_path: Path

    @property
    def state(self) -> dict:
        return json.loads((self.state_dir / "demo.json").read_text())

    def client(self, name: str) -> dict:
        return self.state["clients"][name]

    def password(self, username: str) -> str:
        return self.state["users"][username]

    @property
    def resource_server(self) -> tuple[str, str]:
        server = self.state["resourceServer"]
        return server["clientId"], server["clientSecret"]

    @property
    def service_credentials(self) -> tuple[str, str]:
        service = self.state["service"]
        return service["apiKey"], service["apiSecret"]

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def add_client(self, name: str, method: str, jwks: dict | None = None) -> dict:
        """A further client, registered through Tessera's API like the demo ones."""
        document = client_document(name, method, [f"{self.issuer}/demo/callback"], jwks=jwks)
        response = httpx.post(f"{self.tessera_url}/api/client/create", json=document,
                              auth=self.service_credentials, timeout=30)
        response.raise_for_status()
        created = response.json()
        return {"clientId": str(created["clientId"]), "clientSecret": created.get("clientSecret"),
                "redirectUri": f"{self.issuer}/demo/callback"}

    def interrupt(self, timeout: float = 30) -> int:
        """Ctrl-C, as a terminal sends it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            raise


def start_stack(state_dir: Path, log_path: Path, timeout: float = 120,
                database_url: str | None = None) -> Stack:
    port, tessera_port = free_port(), free_port()
    output = log_path.open("w")
    database = ["--database-url", database_url] if database_url else []
    process = subprocess.Popen(
        [sys.executable, "-m", "frontend", "demo", "--port", str(port),
         "--tessera-port", str(tessera_port), "--state-dir", str(state_dir), *database],
        cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, env=dict(os.environ))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "Ready." in log_path.read_text(errors="replace"):
            return Stack(f"http://localhost:{port}", f"http://127.0.0.1:{tessera_port}",
                         state_dir, process, log_path)
        if process.poll() is not None:
            raise RuntimeError(f"the demo exited with {process.returncode}:\n"
                               f"{log_path.read_text()}")
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the demo was not ready within {timeout}s:\n{log_path.read_text()}")

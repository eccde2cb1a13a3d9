"""Helpers for tests that talk to a real node: in-process (trio) or as a separate process."""

import base64
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from app.config import (
    DatabaseSettings,
    DemoSettings,
    KeySettings,
    LogSettings,
    OwnerSettings,
    SecuritySettings,
    ServerSettings,
    Settings,
)

ROOT = Path(__file__).resolve().parent.parent
OWNER_KEY = "7700112233"
OWNER_SECRET = "owner-secret-for-tests-0123456789abcdef"


def node_settings(database_url: str, tmp_path: Path, **sections) -> Settings:
    """Settings for an in-process node on a free loopback port, quiet logs, fast keys."""
    base = Settings(
        server=ServerSettings(bind="127.0.0.1:0", keep_alive_timeout=5.0, grace_period=2.0),
        database=DatabaseSettings(url=database_url),
        security=SecuritySettings(dev_key_file=str(tmp_path / "master.key")),
        owner=OwnerSettings(api_key=OWNER_KEY, api_secret=OWNER_SECRET),
        keys=KeySettings(algorithms=["RS256", "ES256"]),
        log=LogSettings(level="warning"),
        demo=DemoSettings(enabled=False),
    )
    return Settings(**{**base.__dict__, **sections})


def basic(user: str | int, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


OWNER = basic(OWNER_KEY, OWNER_SECRET)


@dataclass
class NodeProcess:
    process: subprocess.Popen
    base_url: str
    output_path: Path

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=5)


def write_config(path: Path, database_url: str, **extra_sections: dict) -> Path:
    """A config.toml for a node process: loopback port 0, given owner credentials."""
    sections = {
        "server": {"bind": "127.0.0.1:0", "grace_period": 2.0},
        "database": {"url": database_url},
        "security": {"dev_key_file": str(path.parent / "master.key")},
        "owner": {"api_key": OWNER_KEY, "api_secret": OWNER_SECRET},
        "keys": {"algorithms": ["RS256", "ES256"]},
        "log": {"format": "json", "level": "info"},
    }
    for name, values in extra_sections.items():
        sections.setdefault(name, {}).update(values)
    path.write_text("\n".join(_toml_section(name, values) for name, values in sections.items()))
    return path


def _toml_section(name: str, values: dict) -> str:
    lines = [f"[{name}]"]
    for key, value in values.items():
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return repr(value)


def start_node_process(config: Path, log_path: Path, env: dict | None = None,
                       timeout: float = 60.0) -> NodeProcess:
    """Run `python -m app serve` and wait for its start-up banner."""
    output = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--config", str(config), "serve"], cwd=ROOT,
        stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"Tessera API: (http://\S+)/api", log_path.read_text(errors="replace"))
        if match:
            return NodeProcess(process, match.group(1), log_path)
        if process.poll() is not None:
            raise RuntimeError(f"node exited with {process.returncode}:\n{log_path.read_text()}")
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"node did not start within {timeout}s:\n{log_path.read_text()}")

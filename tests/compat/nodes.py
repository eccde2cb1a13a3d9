"""The node process a compatibility module talks to."""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support import ROOT, NodeProcess


@dataclass
class TesseraNode:
    process: NodeProcess
    config: Path

    @property
    def base_url(self) -> str:
        return self.process.base_url

    def issue_service_token(self, api_key: int) -> str:
        """`python -m app token create --service <apiKey>`: the operator's way to get a v3 token."""
        completed = subprocess.run(
            [sys.executable, "-m", "app", "--config", str(self.config), "token", "create",
             "--service", str(api_key)],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
        assert completed.returncode == 0, completed.stderr
        issued = json.loads(completed.stdout)
        assert issued["serviceId"] == api_key
        return issued["accessToken"]

"""The monitoring suite: Prometheus rules and configuration (promtool), Alertmanager
routing (amtool), the Grafana dashboard, the CloudWatch agent's scrape configuration and
the delivery workflows (actionlint), all checked against the metric catalogue.

Run by scripts/test-monitoring.sh (make test), which installs promtool and amtool
(Debian's prometheus and prometheus-alertmanager packages). No eventlet, no servers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} not found: scripts/test-monitoring.sh installs it"
    return path


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, check=False)


@pytest.fixture(scope="session")
def promtool() -> str:
    return tool("promtool")


@pytest.fixture(scope="session")
def amtool() -> str:
    return tool("amtool")

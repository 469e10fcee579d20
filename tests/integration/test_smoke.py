"""scripts/smoke.sh, the smoke test the delivery pipeline runs after each deploy, against
the real stack: it passes on a healthy system and fails, naming the step, when a part
it checks is missing."""

from __future__ import annotations

import subprocess

import pytest

from services.kit.config import PROJECT_ROOT
from tests.support.ports import free_port

SMOKE = PROJECT_ROOT / "scripts" / "smoke.sh"


def smoke(url: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SMOKE), url], capture_output=True, text=True, timeout=120,
                          check=False)


def test_smoke_passes_against_the_running_stack(stack):
    result = smoke(stack.address)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = [line.split("  ")[0] for line in result.stdout.splitlines()]
    for step in ("[smoke] health", "[smoke] ready", "[smoke] register", "[smoke] log in",
                 "[smoke] log a mood shift", "[smoke] read it back",
                 "[smoke] delete the smoke account"):
        assert any(line.startswith(step) for line in steps), (step, result.stdout)
    assert result.stdout.rstrip().endswith(f"[smoke] PASS {stack.address}")
    # It prints neither the token nor the throw-away account's password.
    assert "access_token" not in result.stdout and "smoke test passphrase" not in result.stdout


def test_smoke_fails_clearly_when_the_api_is_not_there():
    result = smoke(f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "[smoke] FAIL at 'health': no answer from" in result.stderr


@pytest.mark.parametrize("argument", ["", "127.0.0.1:8000"])
def test_smoke_refuses_a_missing_or_bare_url(argument):
    result = subprocess.run([str(SMOKE), *([argument] if argument else [])],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2 and "usage:" in result.stderr


def test_smoke_fails_on_a_wrong_answer(stack):
    """A server that answers, but not as the API does: the step and the status are named."""
    result = smoke(f"{stack.address}/api/v1/nowhere")
    assert result.returncode == 1
    assert "[smoke] FAIL at 'health': GET" in result.stderr and "answered 404" in result.stderr

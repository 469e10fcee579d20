"""The OpenAPI document states exactly what the gateway enforces: schemathesis
against the running stack, every check, two users who must never see each
other's objects. Any finding fails the test and is printed.

Its budget is short here (SCHEMATHESIS_MAX_EXAMPLES, SCHEMATHESIS_MAX_SECONDS);
run it longer by hand when a route changes:

    SCHEMATHESIS_MAX_EXAMPLES=200 SCHEMATHESIS_MAX_SECONDS=900 \\
        .venv/bin/pytest tests/integration/test_api_contract.py -s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Routes that would end the users' own sessions mid-run.
EXCLUDED = ("POST /api/v1/auth/logout", "DELETE /api/v1/account")
# Answers to well-formed requests besides a 2xx: 304 (your cached copy is current),
# the defaults (401, 403, 404, 409, 429) and 422, a value in the documented shape that the
# domain refuses (a phone number that no network has, a password that is not
# the account's).
ACCEPTED_REFUSALS = ["2xx", "304", "401", "403", "404", "409", "422", "429"]

CONFIG = """
[checks]
positive_data_acceptance.expected-statuses = {accepted}

# Error feedback learns field names from 4xx bodies; it takes our errors' own
# "fields" key for a body field and then counts a body carrying it (which the
# document forbids: additionalProperties is false) as valid.
[phases.fuzzing.error-feedback]
enabled = false

[auth.wfc]
path = "{auth}"
peers = ["alice", "bob"]
"""


def auth_file(directory: Path, users: dict) -> Path:
    path = directory / "auth.json"
    path.write_text(json.dumps({"auth": [
        {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {user.token}"}]}
        for name, user in users.items()]}))
    return path


@pytest.mark.timeout(1500)
def test_the_api_does_what_its_document_says(api, stack, tmp_path):
    users = {"alice": api.new_user(), "bob": api.new_user()}
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(accepted=json.dumps(ACCEPTED_REFUSALS),
                                    auth=auth_file(tmp_path, users)))
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "run",
        f"{stack.address}/api/v1/openapi.json", "--checks", "all",
        "--max-examples", os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"),
        "--max-time", os.environ.get("SCHEMATHESIS_MAX_SECONDS", "150"),
        "--phases", "examples,coverage,fuzzing", "--workers", "2", "--seed", "1",
        "--generation-database", "none", "--no-color", "--request-timeout", "20",
        *(arg for label in EXCLUDED for arg in ("--exclude-name", label)),
    ]
    # In tmp_path: schemathesis keeps a cache of what it found in its working directory.
    hooks = Path(__file__).parents[1] / "support" / "schemathesis_hooks.py"
    result = subprocess.run(command, capture_output=True, text=True, timeout=1400, cwd=tmp_path,
                            env={**os.environ, "SCHEMATHESIS_HOOKS": str(hooks)})
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]

"""The runbook's development-machine drill, run exactly as written (scripts/runbook-drill.sh
reads the block from backup/RUNBOOK.md), and the guard on its local S3."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import uuid

import psycopg
from ops_support import PG_ADMIN_URL, ROOT, free_port

from backup import drill


def _drop(database: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_runbook_drill_as_written(tmp_path):
    database = f"drill_rb_{uuid.uuid4().hex[:8]}"
    drill_dir = tmp_path / "drill"
    env = {
        **os.environ,
        "DRILL_DIR": str(drill_dir),
        "DRILL_DB": database,
        "DRILL_S3_PORT": str(free_port()),
        "DRILL_ROWS": "20000",
    }
    try:
        run = subprocess.run(
            ["scripts/runbook-drill.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=400, check=False,
        )
    finally:
        subprocess.run([sys.executable, "-m", "backup.drill", "stop-s3", "--dir", str(drill_dir)],
                       cwd=ROOT, capture_output=True, check=False)
        _drop(database)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    backup_id = re.search(r"^(postgres-\d{8}T\d{6}Z): \d+ tables", run.stdout, re.M).group(1)
    assert f"OK {backup_id}: checksum matches" in run.stdout
    listed = next(line for line in run.stdout.splitlines()
                  if line.startswith(backup_id) and " complete " in line)
    assert listed.split()[-3] == "yes"  # VERIFIED: yes <date> <time>
    assert re.search(rf"^MATCH {backup_id}: \d+ tables, \d+ rows", run.stdout, re.M)
    assert "is the drill's moto" in run.stdout  # D3 checked the S3 before writing
    for phase in ("checksums", "dump and upload", "download", "checksum SHA-256",
                  "pg_restore (rows loaded)", "verify against the manifest"):
        assert phase in run.stderr, f"no progress shown for {phase}"
    assert not drill_dir.exists()  # D8 cleaned up


def test_drill_s3_refuses_a_taken_port(tmp_path):
    with socket.socket() as squatter:  # e.g. make run's moto on 5055
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        started = subprocess.run(
            [sys.executable, "-m", "backup.drill", "start-s3", "--port", str(port),
             "--dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, check=False,
        )
    assert started.returncode == 8
    assert f"port {port} is already taken" in started.stderr
    assert not (tmp_path / "s3.json").exists()


def test_drill_s3_check_refuses_a_server_it_did_not_start(tmp_path):
    state = drill.start(free_port(), tmp_path, "sanctum-drill")
    try:
        assert drill.check(tmp_path)["pid"] == state["pid"]
        forged = {**state, "pid": os.getpid()}  # as if another process answered the port
        (tmp_path / "s3.json").write_text(json.dumps(forged))
        checked = subprocess.run(
            [sys.executable, "-m", "backup.drill", "check-s3", "--dir", str(tmp_path)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )
        assert checked.returncode == 8
        assert f"answered by pid {state['pid']}, not by the drill's moto" in checked.stderr
    finally:
        (tmp_path / "s3.json").write_text(json.dumps(state))
        drill.stop(tmp_path)


def test_drill_s3_port_is_none_of_make_runs():
    stack = (ROOT / "services" / "ops" / "stack.py").read_text()
    smtp, sns = map(int, re.search(r"DEV_SMTP_PORT, DEV_SNS_PORT = (\d+), (\d+)", stack).groups())
    registry = (ROOT / "services" / "registry.py").read_text()
    metrics = {int(p) for p in re.findall(r"Process\([^)]*?(\d{4})\)", registry)}
    assert metrics, "registry.py lists no process ports"
    used = {smtp, sns, sns + 1, *metrics}
    assert drill.DEFAULT_PORT not in used


def test_drill_s3_that_cannot_be_prepared_is_not_left_running(tmp_path):
    port = free_port()
    started = subprocess.run(
        [sys.executable, "-m", "backup.drill", "start-s3", "--port", str(port),
         "--dir", str(tmp_path), "--bucket", "x"],  # too short for an S3 bucket name
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert started.returncode == 8 and "InvalidBucketName" in started.stderr
    assert not drill.port_taken(port)

"""Small pieces of the backup tool that need no server."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from backup.errors import IntegrityError
from backup.postgres import compare, safe_stderr
from backup.redis_snapshot import check_rdb
from backup.settings import libpq_url


def test_tool_errors_lose_row_values_before_they_reach_a_log():
    stderr = (
        'pg_restore: error: COPY failed for table "users": ERROR:  duplicate key value\n'
        "DETAIL:  Key (email)=(someone@example.org) already exists.\n"
        'CONTEXT:  COPY users, line 3: "6f1c...\tsomeone@example.org"\n'
        "Command was: COPY user_management.users (user_id, email) FROM stdin;\n"
    )
    cleaned = safe_stderr(stderr)
    assert "someone@example.org" not in cleaned
    assert 'COPY failed for table "users"' in cleaned


def test_sqlalchemy_urls_become_libpq_urls():
    assert libpq_url("postgresql+psycopg://u:p@h:5432/db") == "postgresql://u:p@h:5432/db"
    assert libpq_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_compare_names_missing_extra_and_changed_tables():
    table = {"rows": 2, "checksum": "10", "kind": "table"}
    expected = {"tables": {"a.x": table, "a.y": table, "a.z": table}, "sequences": {"a.s": 5}}
    actual = {
        "tables": {"a.x": table, "a.y": {**table, "checksum": "11"}, "a.w": table},
        "sequences": {"a.s": 4},
    }
    assert compare(expected, actual) == [
        "table a.w: in the target, not in the backup",
        "table a.y: same 2 rows, different contents (checksum)",
        "table a.z: in the backup, missing from the target",
        "sequence a.s: 5 in the backup, 4 in the target",
    ]


def test_redis_check_rdb_rejects_a_damaged_snapshot(tmp_path, redis_factory):
    import redis

    port = redis_factory(tmp_path / "data")
    client = redis.Redis(port=port)
    client.mset({f"k{i}": "v" * 50 for i in range(100)})
    client.save()
    good = tmp_path / "data" / "dump.rdb"
    assert check_rdb(good)["keys"] == 100
    bad = tmp_path / "bad.rdb"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        check_rdb(bad)


def test_cli_help_lists_every_command():
    result = subprocess.run(
        [shutil.which("python") or "python", "-m", "backup", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in (
        "postgres",
        "redis",
        "list",
        "verify",
        "restore",
        "restore-redis",
        "prune",
        "wal-status",
    ):
        assert f"    {command} " in result.stdout


def test_textfile_metric_is_node_exporter_format():
    from backup.metrics import textfile_metrics
    from monitoring.catalogue import BACKUP_LAST_SUCCESS_SERIES as name

    assert textfile_metrics("wal-status", 1767225600.5).splitlines() == [
        f"# HELP {name} Time of the backup job's last success.",
        f"# TYPE {name} gauge",
        f'{name}{{job="wal-status"}} 1767225600.500',
    ]


def test_runbook_states_the_tools_sse_default():
    from ops_support import ROOT

    from backup.settings import Settings

    runbook = (ROOT / "backup" / "RUNBOOK.md").read_text()
    default = Settings().sse
    assert f"`BACKUP_SSE` defaults to `{default}`" in runbook


def test_a_missing_bucket_is_a_clear_configuration_error(moto_endpoint, tmp_path):
    import os
    import sys

    from ops_support import ROOT

    env = {**os.environ, "BACKUP_BUCKET": "no-such-bucket", "BACKUP_S3_ENDPOINT_URL": moto_endpoint,
           "BACKUP_STATE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "backup", "--log-format", "text", "list"],
                            cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 8
    assert "bucket 'no-such-bucket' does not exist (BACKUP_BUCKET)" in result.stderr
    assert "Traceback" not in result.stderr

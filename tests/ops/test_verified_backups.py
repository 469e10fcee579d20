"""A corrupted backup: `list` marks it, `latest` skips it, restore refuses it; and the
Prometheus textfile written after each successful job."""

from __future__ import annotations

import json
import re
import time

from conftest import last_backup_id
from drill_data import load
from ops_support import fingerprint, user_objects


def _listed(backup_cli) -> dict[str, dict]:
    result = backup_cli("list", "--kind", "postgres", "--json")
    assert result.returncode == 0, result.stderr
    return {entry["id"]: entry for entry in json.loads(result.stdout)}


def _flip_middle_byte(s3, bucket, key) -> None:
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    middle = len(data) // 2
    s3.put_object(Bucket=bucket, Key=key, Body=data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])


def test_corrupted_backup_is_marked_skipped_and_refused(make_database, backup_cli, s3, bucket):
    source = make_database("verified_src")
    load(source, users=2)
    env = {"DATABASE_URL": source}
    assert backup_cli("postgres", env=env).returncode == 0
    older = last_backup_id(backup_cli, "postgres")
    time.sleep(1.1)  # backup ids have one-second resolution
    assert backup_cli("postgres", env=env).returncode == 0
    newer = last_backup_id(backup_cli, "postgres")
    assert newer != older
    assert _listed(backup_cli)[newer]["verified"] == "unverified"
    unverified_latest = backup_cli("show", "latest")
    assert unverified_latest.returncode == 3 and "verify newest" in unverified_latest.stderr
    for alias in ("newest", older):  # the schedule verifies the newest after each backup
        assert backup_cli("verify", alias).returncode == 0
    assert {e["verified"] for e in _listed(backup_cli).values()} == {"verified"}
    assert json.loads(backup_cli("show", "latest").stdout)["id"] == newer

    key = json.loads(backup_cli("show", newer).stdout)["artifact"]["key"]
    _flip_middle_byte(s3, bucket, key)  # same size, different bytes

    listed = _listed(backup_cli)
    assert listed[newer]["verified"] == "CHANGED" and listed[newer]["good"] is False
    table = backup_cli("list").stdout
    assert re.search(rf"^{newer} .* CHANGED since ", table, re.M)
    assert json.loads(backup_cli("show", "latest").stdout)["id"] == older

    reverified = backup_cli("verify", newer)
    assert reverified.returncode == 4 and "SHA-256" in reverified.stderr
    assert re.search(rf"^{newer} .* FAILED ", backup_cli("list").stdout, re.M)
    assert _listed(backup_cli)[older]["good"] is True

    target = make_database("verified_dst")
    refused = backup_cli("restore", newer, "--target", target)
    assert refused.returncode == 4 and "MATCH" not in refused.stdout
    assert user_objects(target) == []
    restored = backup_cli("restore", "latest", "--target", target)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"MATCH {older}")
    assert f"latest skips newer backups not verified good: {newer}" in restored.stderr
    assert fingerprint(target) == fingerprint(source)


def test_textfile_metric_after_each_success(make_database, backup_cli, tmp_path):
    textfiles = tmp_path / "textfile"
    env = {"DATABASE_URL": make_database("textfile"), "SANCTUM_METRICS_TEXTFILE_DIR": str(textfiles)}
    before = time.time()
    assert backup_cli("postgres", env=env).returncode == 0
    verified = backup_cli("verify", "newest", env=env)
    failed = backup_cli("verify", "postgres-20000101T000000Z", env=env)

    assert verified.returncode == 0 and failed.returncode == 3
    files = sorted(p.name for p in textfiles.iterdir())
    assert files == ["sanctum_backup_postgres.prom", "sanctum_backup_verify.prom"]  # no temp files
    text = (textfiles / "sanctum_backup_postgres.prom").read_text()
    match = re.search(
        r'^sanctum_backup_last_success_timestamp_seconds\{job="postgres"\} (\d+\.\d+)$', text, re.M
    )
    assert match and before <= float(match.group(1)) <= time.time()
    assert "# TYPE sanctum_backup_last_success_timestamp_seconds gauge" in text

    stamp = (textfiles / "sanctum_backup_verify.prom").read_text()
    again = backup_cli("verify", "postgres-20000101T000000Z", env=env)  # a failure changes nothing
    assert again.returncode == 3
    assert (textfiles / "sanctum_backup_verify.prom").read_text() == stamp

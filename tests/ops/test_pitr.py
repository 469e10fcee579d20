"""Point-in-time recovery: WAL archived to S3 by pgBackRest, restored to a chosen time.

A throwaway PostgreSQL 15 cluster of our own (archive_mode on), configured with the
pgbackrest.conf the Ansible role renders; S3 is moto behind a TLS proxy.
"""

from __future__ import annotations

import shutil
import time

import psycopg
import pytest
from pg_cluster import make_cluster


@pytest.fixture
def cluster(shared_tmp, tls_s3_endpoint, s3, request):
    node = make_cluster(shared_tmp / f"pitr-{request.node.name}", tls_s3_endpoint, s3)
    yield node
    node.stop()


def _write(url: str, first: int, last: int) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO mood_entries SELECT g, now() FROM generate_series(%s::int, %s::int) g",
            (first, last),
        )


def test_restore_to_a_point_in_time_keeps_only_earlier_writes(cluster, backup_cli):
    with psycopg.connect(cluster.url) as conn:
        conn.execute("CREATE TABLE mood_entries (id int PRIMARY KEY, at timestamptz)")
    cluster.pgbackrest("stanza-create")
    cluster.pgbackrest("--type=full", "backup")
    time.sleep(1.5)  # pgBackRest records the backup's stop time in whole seconds

    _write(cluster.url, 1, 100)  # the first writes
    time.sleep(0.1)
    with psycopg.connect(cluster.url) as conn:  # pgBackRest's format: milliseconds, +00
        target = conn.execute(
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') || '+00'"
        ).fetchone()[0]
    time.sleep(0.5)
    _write(cluster.url, 101, 150)  # written after the chosen time
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute("SELECT pg_switch_wal()")
    cluster.pgbackrest("check")  # waits until the current WAL segment is in the archive
    status = backup_cli("wal-status", env={"DATABASE_URL": cluster.url})
    assert status.returncode == 0, status.stdout + status.stderr
    assert '"failing": false' in status.stdout

    cluster.stop()
    shutil.rmtree(cluster.data)
    cluster.pgbackrest("--type=time", f"--target={target}", "--target-action=promote", "restore")
    cluster.start()
    cluster.wait_promoted()

    with psycopg.connect(cluster.url) as conn:
        rows = conn.execute("SELECT count(*), min(id), max(id) FROM mood_entries").fetchone()
    assert rows == (100, 1, 100)


def test_wal_status_reports_archiving_off(backup_cli, make_database):
    # The shared cluster runs without archive_mode: no point-in-time recovery there.
    status = backup_cli("wal-status", env={"DATABASE_URL": make_database("walcheck")})
    assert status.returncode == 7
    assert "archive_mode is off" in status.stderr

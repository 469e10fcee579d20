"""Point-in-time recovery: WAL archived to S3 by pgBackRest, restored to a chosen time.

A throwaway PostgreSQL 15 cluster of our own (archive_mode on), configured with the
pgbackrest.conf the Ansible role renders; S3 is moto behind a TLS proxy.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from ops_support import PG_BIN, as_postgres, free_port, render_role_template

STANZA = "sanctum"


class Cluster:
    def __init__(self, root: Path, port: int, config: Path):
        self.root, self.port, self.config = root, port, config
        self.data = root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *command: str, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run(
            as_postgres(list(command)), capture_output=True, text=True, timeout=timeout, check=False
        )
        assert result.returncode == 0, f"{command[0]} failed: {result.stdout}\n{result.stderr}"
        return result

    def pgbackrest(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("pgbackrest", f"--config={self.config}", f"--stanza={STANZA}", *args)

    def init(self) -> None:
        self.run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"""
port = {self.port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{self.root}'
wal_level = replica
archive_mode = on
archive_command = 'pgbackrest --config={self.config} --stanza={STANZA} archive-push %p'
fsync = off
""")

    def start(self) -> None:
        self.run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "pg.log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        for mode in ("fast", "immediate"):  # immediate if the archiver keeps it waiting
            stop = [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                mode,
                "-t",
                "20",
                "-w",
                "stop",
            ]
            if subprocess.run(as_postgres(stop), capture_output=True, check=False).returncode == 0:
                return

    def wait_promoted(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.url) as conn:
                    if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                        return
            except psycopg.OperationalError:
                pass
            time.sleep(0.2)
        raise TimeoutError("the restored cluster did not finish recovery")


@pytest.fixture
def cluster(shared_tmp, tls_s3_endpoint, s3, request):
    root = shared_tmp / f"pitr-{request.node.name}"
    root.mkdir()
    bucket = f"pitr-{int(time.time() * 1000)}"
    s3.create_bucket(Bucket=bucket)
    config = root / "pgbackrest.conf"
    config.write_text(
        render_role_template(
            "backup_schedule",
            "pgbackrest.conf.j2",
            sanctum_backup_bucket=bucket,
            sanctum_region="us-east-1",
            backup_schedule_pgbackrest_endpoint=tls_s3_endpoint["host"],
            backup_schedule_pgbackrest_key_type="shared",
            backup_schedule_pgbackrest_key="testing",
            backup_schedule_pgbackrest_key_secret="testing",
            backup_schedule_pg_path=str(root / "data"),
            backup_schedule_pg_user="postgres",
            backup_schedule_pg_socket_path=str(root),
            backup_schedule_pg_port=(port := free_port()),
            backup_schedule_pgbackrest_global_extra={
                "repo1-storage-port": tls_s3_endpoint["port"],
                "repo1-storage-ca-file": tls_s3_endpoint["ca_file"],
                "repo1-s3-uri-style": "path",
                "lock-path": str(root / "lock"),
                "log-path": str(root / "log"),
                "archive-timeout": 30,
            },
        )
    )
    if as_postgres([]):  # running as root: the cluster belongs to the postgres user
        shutil.chown(root, "postgres", "postgres")
    node = Cluster(root, port, config)
    node.init()
    node.start()
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

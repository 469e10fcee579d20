"""A PostgreSQL 15 cluster of a test's own (never the shared server), archiving WAL
with pgBackRest to S3 (moto behind a TLS proxy), configured with the pgbackrest.conf
the Ansible role renders. Used by the point-in-time and data-loss-window drills."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import psycopg
from ops_support import PG_BIN, as_postgres, free_port

from deploy.pgbackrest.render_conf import render

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

    def init(self, extra_conf: str = "") -> None:
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
{extra_conf}
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

    def stop(self, modes: tuple[str, ...] = ("fast", "immediate")) -> None:
        for mode in modes:  # immediate if the archiver keeps it waiting
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


def make_cluster(root: Path, tls_s3_endpoint: dict, s3, postgresql_conf: str = "",
                 archive_async: bool = True) -> Cluster:
    """Configure (deploy/pgbackrest/render_conf.py, as on a bare host) and start a cluster
    under root; the caller stops it."""
    root.mkdir()
    bucket = f"pitr-{int(time.time() * 1000)}"
    s3.create_bucket(Bucket=bucket)
    config = root / "pgbackrest.conf"
    port = free_port()
    config.write_text(render({
        "sanctum_backup_bucket": bucket,
        "sanctum_region": "us-east-1",
        "backup_schedule_pgbackrest_endpoint": tls_s3_endpoint["host"],
        "backup_schedule_pgbackrest_key_type": "shared",
        "backup_schedule_pgbackrest_key": "testing",
        "backup_schedule_pgbackrest_key_secret": "testing",
        "backup_schedule_pg_path": str(root / "data"),
        "backup_schedule_pg_user": "postgres",
        "backup_schedule_pg_socket_path": str(root),
        "backup_schedule_pg_port": port,
        "backup_schedule_pgbackrest_archive_async": archive_async,
        "backup_schedule_pgbackrest_spool_path": str(root / "spool"),
        "backup_schedule_pgbackrest_global_extra": {
            "repo1-storage-port": tls_s3_endpoint["port"],
            "repo1-storage-ca-file": tls_s3_endpoint["ca_file"],
            "repo1-s3-uri-style": "path",
            "lock-path": str(root / "lock"),
            "log-path": str(root / "log"),
            "archive-timeout": 30,
        },
    }))
    if as_postgres([]):  # running as root: the cluster belongs to the postgres user
        shutil.chown(root, "postgres", "postgres")
    node = Cluster(root, port, config)
    node.bucket = bucket
    node.init(postgresql_conf)
    node.start()
    return node

"""The data-loss window drill: write continuously, lose the primary, recover, count.

A PostgreSQL 15 cluster of this test's own (never the shared server) archives WAL
with pgBackRest to S3 (moto behind TLS) and, in `stream` mode, also streams it with
pg_receivewal to a second directory (Phase 1: a second volume). A writer commits one
row at a time; the primary is crashed (immediate stop) and its data directory
deleted (the volume is lost); the cluster is rebuilt from the base backup, the
archive and, in `stream` mode, the streamed WAL; then the acknowledged rows that are
missing are counted. Modes:

- stream: pg_receivewal --synchronous beside pgBackRest archiving (Phase 1's choice)
- archive-N: pgBackRest asynchronous archiving with archive_timeout = N seconds

The suite runs `stream` for a few seconds. `make drill-rpo` runs every mode longer
(RPO_DRILL_MODES, RPO_DRILL_SECONDS) and prints the windows for the runbook.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest
from ops_support import PG_BIN, as_postgres
from pg_cluster import Cluster, make_cluster

MODES = os.environ.get("RPO_DRILL_MODES", "stream").split(",")
SECONDS = float(os.environ.get("RPO_DRILL_SECONDS", "3"))
SLOT = "drill_receivewal"


class Writer(threading.Thread):
    """Commits one row at a time until the server goes away; remembers what was acknowledged."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.acknowledged: list[tuple[int, float]] = []  # (id, wall-clock time of the commit)

    def run(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                for n in range(1, 10_000_000):
                    conn.execute("INSERT INTO drill_writes (id) VALUES (%s)", (n,))
                    self.acknowledged.append((n, time.time()))
                    time.sleep(0.002)
        except psycopg.Error:
            return  # the crash


def _receivewal(cluster: Cluster, stream: Path) -> subprocess.Popen:
    stream.mkdir()
    shutil.chown(stream, "postgres", "postgres") if as_postgres([]) else None
    conninfo = f"host=127.0.0.1 port={cluster.port} user=postgres"
    cluster.run(str(PG_BIN / "pg_receivewal"), "-d", conninfo, "-S", SLOT, "--create-slot")
    proc = subprocess.Popen(
        as_postgres([str(PG_BIN / "pg_receivewal"), "-d", conninfo, "-S", SLOT, "-D", str(stream),
                     "--synchronous", "--no-loop"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    assert proc.poll() is None, "pg_receivewal did not start"
    return proc


def _streamed_into(stream: Path, pg_wal: Path) -> list[str]:
    """What the recovery reads from the second volume: every streamed segment, the
    partial one under its segment name."""
    copied = []
    for source in sorted(stream.iterdir()):
        name = source.name.removesuffix(".partial")
        if not (pg_wal / name).exists():
            shutil.copy(source, pg_wal / name)
            if as_postgres([]):
                shutil.chown(pg_wal / name, "postgres", "postgres")
            copied.append(source.name)
    return copied


def run_drill(root: Path, tls_s3_endpoint: dict, s3, mode: str, seconds: float) -> dict:
    timeout = int(mode.split("-", 1)[1]) if mode.startswith("archive-") else 60
    cluster = make_cluster(
        root, tls_s3_endpoint, s3,
        postgresql_conf=f"archive_timeout = {timeout}\nwal_sender_timeout = 5s",
        pgbackrest_extra={"archive-async": "y", "spool-path": str(root / "spool")}
        if mode.startswith("archive-") else None,
    )
    receiver = None
    try:
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE drill_writes (id int PRIMARY KEY,"
                         " at timestamptz NOT NULL DEFAULT clock_timestamp())")
        cluster.pgbackrest("stanza-create")
        cluster.pgbackrest("--type=full", "backup")
        if mode == "stream":
            receiver = _receivewal(cluster, root / "stream")
        writer = Writer(cluster.url)
        writer.start()
        time.sleep(seconds)
        crashed_at = time.time()
        cluster.stop(modes=("immediate",))  # the host dies: nothing is flushed or archived
        writer.join(10)
    finally:
        if receiver is not None:
            receiver.terminate()
            receiver.wait(10)
    shutil.rmtree(cluster.data)  # and its data volume with it
    started = time.monotonic()
    cluster.pgbackrest("restore")  # base backup; WAL from the archive (restore_command)
    if mode == "stream":
        _streamed_into(root / "stream", cluster.data / "pg_wal")
    cluster.start()
    cluster.wait_promoted()
    recovery_seconds = time.monotonic() - started
    with psycopg.connect(cluster.url) as conn:
        present = [row[0] for row in conn.execute("SELECT id FROM drill_writes ORDER BY id")]
    cluster.stop()
    acknowledged = writer.acknowledged
    last_ack = acknowledged[-1][1] if acknowledged else crashed_at
    last_kept = dict(acknowledged).get(present[-1], started) if present else None
    return {
        "mode": mode,
        "acknowledged": len(acknowledged),
        "recovered": len(present),
        "lost": len(acknowledged) - len(present),
        "present": present,
        "window_seconds": (last_ack - last_kept) if last_kept else seconds,
        "recovery_seconds": recovery_seconds,
    }


@pytest.mark.parametrize("mode", MODES)
def test_data_loss_window(shared_tmp, tls_s3_endpoint, s3, request, mode):
    result = run_drill(shared_tmp / f"rpo-{mode}-{request.node.name[-8:]}", tls_s3_endpoint, s3,
                       mode, SECONDS)
    print(
        f"\n[rpo-drill] {mode}: {result['acknowledged']} writes acknowledged in {SECONDS:.0f}s,"
        f" {result['recovered']} recovered, {result['lost']} lost"
        f" = {result['window_seconds']:.3f}s of writes; recovery {result['recovery_seconds']:.1f}s"
    )
    present = result["present"]
    # What survives is exactly the oldest writes, without holes, and never more than was acknowledged.
    assert present == list(range(1, len(present) + 1))
    assert result["lost"] >= 0 and result["acknowledged"] > 0
    if mode == "stream":
        # The archive alone holds nothing after the base backup (no segment was full or
        # timed out): every recovered row came from the streamed WAL.
        assert result["recovered"] > 0

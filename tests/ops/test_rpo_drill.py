"""The data-loss window drill: write continuously, lose the primary, recover, count.

A PostgreSQL 15 cluster of this test's own (never the shared server) archives WAL
with pgBackRest to S3 (moto behind TLS) and, in `stream` mode, also streams it with
pg_receivewal to a second directory (Phase 1: a second volume). A writer commits one
row at a time; the primary is crashed (immediate stop) and its data directory
deleted (the volume is lost); the cluster is rebuilt from the base backup, the
archive and, in `stream` mode, the streamed WAL; then the acknowledged rows that are
missing are counted. Modes:

- stream: pg_receivewal --synchronous beside pgBackRest archiving (synchronous push),
  its directory shipped to S3 by `sanctum-backup wal-ship` every RPO_SHIP_EVERY seconds.
  Recovered twice: from S3 alone (`wal-fetch`: the second volume lost too), then from
  the second volume.
- archive-N: pgBackRest asynchronous archiving with archive_timeout = N seconds
  (Phase 1's choice is archive-5: compose.yaml, the Ansible role)

The suite runs `stream` for a few seconds. `make drill-rpo` runs every mode longer
(RPO_DRILL_MODES, RPO_DRILL_SECONDS) and prints the windows for the runbook.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from ops_support import PG_BIN, ROOT, as_postgres
from pg_cluster import Cluster, make_cluster

MODES = os.environ.get("RPO_DRILL_MODES", "archive-5,stream").split(",")
# Long enough for archive-5 to time out once; the stream needs no more than a few seconds.
DEFAULT_SECONDS = {"stream": 3.0}
SECONDS_SET = os.environ.get("RPO_DRILL_SECONDS")


def seconds_for(mode: str) -> float:
    return float(SECONDS_SET) if SECONDS_SET else DEFAULT_SECONDS.get(mode, 8.0)
SHIP_EVERY = float(os.environ.get("RPO_SHIP_EVERY", "1"))
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


def _shipper(stream: Path, tool_env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "backup", "--log-format", "text", "wal-ship", "--dir", str(stream),
         "--every", str(SHIP_EVERY)],
        cwd=ROOT, env=tool_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _wait_for_a_shipment(s3, bucket: str, since: float, timeout: float = 60) -> None:
    """The crash comes after at least one shipment that holds some writes (on a busy
    machine the shipper's first round can take longer than the drill's writing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        objects = s3.list_objects_v2(Bucket=bucket, Prefix="wal-stream/").get("Contents", [])
        if any(obj["LastModified"].timestamp() > since + 0.5 for obj in objects):
            return
        time.sleep(0.2)
    raise TimeoutError(f"wal-ship shipped nothing within {timeout:.0f}s")


def _recover(cluster: Cluster, before_start) -> tuple[list[int], float]:
    """Rebuild the lost data directory from the base backup and archive (+ what
    before_start adds to pg_wal), promote, return the ids present and the time taken."""
    if cluster.data.exists():
        shutil.rmtree(cluster.data)
    started = time.monotonic()
    # archive-mode=off: the promoted copy must not archive its new timeline, or the next
    # recovery of this drill would follow that timeline instead of the lost primary's.
    cluster.pgbackrest("--archive-mode=off", "restore")  # base backup + WAL from the archive
    before_start(cluster.data / "pg_wal")
    cluster.start()
    cluster.wait_promoted()
    took = time.monotonic() - started
    with psycopg.connect(cluster.url) as conn:
        present = [row[0] for row in conn.execute("SELECT id FROM drill_writes ORDER BY id")]
    cluster.stop()
    return present, took


def _window(acknowledged: list[tuple[int, float]], present: list[int], crashed_at: float) -> dict:
    times = dict(acknowledged)
    last_ack = acknowledged[-1][1] if acknowledged else crashed_at
    last_kept = times.get(present[-1]) if present else None
    return {
        "recovered": len(present),
        "lost": len(acknowledged) - len(present),
        "present": present,
        # acknowledged writes lost, as seconds of writing
        "window_seconds": last_ack - last_kept if last_kept else last_ack - (acknowledged[0][1] if acknowledged else crashed_at),
    }


def run_drill(root: Path, tls_s3_endpoint: dict, s3, tool_env: dict, mode: str, seconds: float) -> dict:
    timeout = int(mode.split("-", 1)[1]) if mode.startswith("archive-") else 60
    cluster = make_cluster(
        root, tls_s3_endpoint, s3,
        postgresql_conf=f"archive_timeout = {timeout}\nwal_sender_timeout = 5s",
        archive_async=mode.startswith("archive-"),
    )
    receiver = shipper = None
    stream = root / "stream"
    try:
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE drill_writes (id int PRIMARY KEY,"
                         " at timestamptz NOT NULL DEFAULT clock_timestamp())")
        cluster.pgbackrest("stanza-create")
        cluster.pgbackrest("--type=full", "backup")
        if mode == "stream":
            receiver = _receivewal(cluster, stream)
            shipper = _shipper(stream, tool_env)
        writer = Writer(cluster.url)
        writing_since = time.time()
        writer.start()
        time.sleep(seconds)
        if shipper is not None:
            _wait_for_a_shipment(s3, tool_env["BACKUP_BUCKET"], writing_since)
        crashed_at = time.time()
        if shipper is not None:
            shipper.kill()  # the host dies: no last shipment
        cluster.stop(modes=("immediate",))  # nothing more is flushed or archived
        writer.join(10)
    finally:
        for proc in (shipper, receiver):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
    acknowledged = writer.acknowledged
    archived = sum(obj["Size"] for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=cluster.bucket, Prefix="wal/archive/") for obj in page.get("Contents", []))
    results = {"mode": mode, "acknowledged": len(acknowledged), "archived_bytes": archived}
    if mode == "stream":
        def from_s3(pg_wal: Path) -> None:
            fetched = subprocess.run(
                [sys.executable, "-m", "backup", "--log-format", "text", "wal-fetch",
                 "--pg-wal", str(pg_wal)],
                cwd=ROOT, env=tool_env, capture_output=True, text=True, check=False,
            )
            assert fetched.returncode == 0, fetched.stderr

        present, took = _recover(cluster, from_s3)
        results["s3"] = {**_window(acknowledged, present, crashed_at), "recovery_seconds": took}
        present, took = _recover(cluster, lambda pg_wal: _streamed_into(stream, pg_wal))
        results["volume"] = {**_window(acknowledged, present, crashed_at), "recovery_seconds": took}
    else:
        present, took = _recover(cluster, lambda pg_wal: None)
        results["archive"] = {**_window(acknowledged, present, crashed_at), "recovery_seconds": took}
    return results


@pytest.fixture
def tool_env(moto_endpoint, bucket, tmp_path):
    return {**os.environ, "BACKUP_BUCKET": bucket, "BACKUP_S3_ENDPOINT_URL": moto_endpoint,
            "BACKUP_STATE_DIR": str(tmp_path / "state")}


@pytest.mark.parametrize("mode", MODES)
def test_data_loss_window(shared_tmp, tls_s3_endpoint, s3, tool_env, request, mode):
    seconds = seconds_for(mode)
    result = run_drill(shared_tmp / f"rpo-{mode}-{time.time_ns()}", tls_s3_endpoint, s3, tool_env,
                       mode, seconds)
    for source in ("volume", "s3", "archive"):
        if source in result:
            found = result[source]
            print(
                f"\n[rpo-drill] {mode}, recovered from {source}: {result['acknowledged']} writes"
                f" acknowledged in {seconds:.0f}s, {found['recovered']} recovered,"
                f" {found['lost']} lost = {found['window_seconds']:.3f}s of writes;"
                f" recovery {found['recovery_seconds']:.1f}s"
            )
            # What survives is exactly the oldest writes, without holes, never more than acknowledged.
            assert found["present"] == list(range(1, found["recovered"] + 1))
            assert 0 <= found["lost"] <= result["acknowledged"]
    print(f"[rpo-drill] {mode}: WAL archive {result['archived_bytes'] / 2**20:.1f} MiB"
          f" after {seconds:.0f}s of writes")
    assert result["acknowledged"] > 0
    if mode.startswith("archive-") and int(mode.split("-")[1]) + 3 <= seconds:
        # At least one segment was switched by the timeout and pushed before the crash.
        assert result["archive"]["recovered"] > 0
    if mode == "stream":
        # The archive alone holds nothing written after the base backup (no segment was
        # full or timed out): rows recovered came from the streamed WAL.
        assert result["volume"]["recovered"] > 0
        assert result["s3"]["recovered"] > 0
        # The second volume holds at least what was shipped from it.
        assert result["volume"]["recovered"] >= result["s3"]["recovered"]

"""Streamed WAL (pg_receivewal) shipped to S3, and fetched back for a recovery.

Phase 1 runs pg_receivewal beside PostgreSQL: it writes every WAL record to a second
volume as it is committed (the current segment as <segment>.partial), so losing the
database volume loses well under a second of commits. `wal-ship` copies that
directory to the bucket's `wal-stream/` prefix every few seconds (new and changed
files only), so losing both volumes loses at most that interval. pgBackRest still
archives every complete segment; streamed segments older than --keep-minutes are
removed here and in the bucket.

`wal-fetch` puts the streamed files into a restored data directory's pg_wal (the
partial segment under its segment name) before PostgreSQL starts and replays them.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

from backup.store import BackupStore

log = logging.getLogger("sanctum-backup")

SEGMENT = re.compile(r"^[0-9A-F]{24}(\.partial)?$")
PREFIX = "wal-stream/"


@dataclass
class Shipper:
    store: BackupStore
    directory: Path
    keep_seconds: float = 3600
    shipped: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (size, mtime_ns)

    def key(self, name: str) -> str:
        return f"{self.store.settings.prefix}{PREFIX}{name}"

    def ship_once(self) -> int:
        """Upload what is new or changed; returns how many files went up."""
        sent = 0
        for path in sorted(self.directory.iterdir()):
            if not SEGMENT.match(path.name):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:  # .partial renamed to its segment meanwhile
                continue
            if self.shipped.get(path.name) == (stat.st_size, stat.st_mtime_ns):
                continue
            self.store.s3.upload_file(
                str(path), self.store.bucket, self.key(path.name),
                ExtraArgs=self.store._encryption(),
            )
            self.shipped[path.name] = (stat.st_size, stat.st_mtime_ns)
            sent += 1
            if not path.name.endswith(".partial"):
                self._forget(path.name + ".partial")
        self._expire()
        return sent

    def _forget(self, name: str) -> None:
        """The partial copy of a segment now complete."""
        if self.shipped.pop(name, None) is not None:
            self.store.s3.delete_object(Bucket=self.store.bucket, Key=self.key(name))

    def _expire(self) -> None:
        cutoff = time.time() - self.keep_seconds
        for path in list(self.directory.iterdir()):
            complete = SEGMENT.match(path.name) and not path.name.endswith(".partial")
            if complete and path.stat().st_mtime < cutoff:  # pgBackRest archived it long ago
                path.unlink()
                self.shipped.pop(path.name, None)
                self.store.s3.delete_object(Bucket=self.store.bucket, Key=self.key(path.name))

    def run(self, every: float, rounds: int | None = None) -> None:
        done = 0
        while rounds is None or done < rounds:
            started = time.monotonic()
            try:
                if sent := self.ship_once():
                    log.debug("shipped %d WAL file(s)", sent)
            except (ClientError, OSError) as error:  # keep going: the next round retries
                log.warning("WAL shipping failed this round: %s", type(error).__name__)
            done += 1
            time.sleep(max(0.0, every - (time.monotonic() - started)))


def fetch(store: BackupStore, pg_wal: Path) -> list[str]:
    """Download the streamed WAL into pg_wal; a partial segment under its segment name,
    unless the complete segment is there. Returns the names written."""
    prefix = f"{store.settings.prefix}{PREFIX}"
    names = sorted(
        obj["Key"][len(prefix):]
        for page in store.s3.get_paginator("list_objects_v2").paginate(
            Bucket=store.bucket, Prefix=prefix
        )
        for obj in page.get("Contents", [])
    )
    complete = {n for n in names if not n.endswith(".partial")}
    written = []
    for name in names:
        segment = name.removesuffix(".partial")
        if name.endswith(".partial") and segment in complete:
            continue
        target = pg_wal / segment
        if target.exists():
            continue
        store.s3.download_file(store.bucket, prefix + name, str(target))
        written.append(segment)
    return written


def chown_like(paths: list[Path], reference: Path) -> None:
    """Files written as root into a data directory must belong to its owner."""
    stat = reference.stat()
    for path in paths:
        shutil.chown(path, stat.st_uid, stat.st_gid)

"""Progress for long transfers: a live line on a terminal, a log line every
LOG_EVERY seconds otherwise (systemd journal, CloudWatch)."""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from typing import BinaryIO

log = logging.getLogger("sanctum-backup")

REDRAW_EVERY = 0.2
LOG_EVERY = 30.0


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


class Progress:
    def __init__(self, label: str, total: int | None = None, live: bool | None = None):
        self.label = label
        self.total = total
        self.live = sys.stderr.isatty() if live is None else live
        self.done = 0
        self.started = time.monotonic()
        self._last_shown = self.started

    def __call__(self, nbytes: int) -> None:
        """Usable directly as a boto3 transfer Callback."""
        self.done += nbytes
        now = time.monotonic()
        if now - self._last_shown >= (REDRAW_EVERY if self.live else LOG_EVERY):
            self._last_shown = now
            self._show(now)

    def finish(self) -> None:
        self._show(time.monotonic())
        if self.live:
            sys.stderr.write("\n")

    def _show(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-6)
        of_total = f" of {human_bytes(self.total)}" if self.total else ""
        text = (
            f"{self.label}: {human_bytes(self.done)}{of_total}"
            f" at {human_bytes(self.done / elapsed)}/s, {elapsed:.0f}s"
        )
        if self.live:
            sys.stderr.write("\r" + text.ljust(70))
            sys.stderr.flush()
        else:
            log.info(text)


class HashingReader:
    """Wraps a pipe: counts and SHA-256-hashes what is read through it."""

    def __init__(self, raw: BinaryIO, progress: Progress | None = None):
        self._raw = raw
        self._progress = progress
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self.sha256.update(chunk)
        self.size += len(chunk)
        if self._progress:
            self._progress(len(chunk))
        return chunk


def sha256_file(path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()

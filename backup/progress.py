"""Progress of every phase (checksums, dump and upload, download, restore, verify).

On a terminal: a tqdm bar per phase. Without one (systemd journal, CloudWatch, a
pipe): one log line every LOG_EVERY seconds and one when the phase ends, rendered by
tqdm's own formatter, so both say the same thing.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

log = logging.getLogger("sanctum-backup")

LOG_EVERY = 30.0
LOG_FORMAT = "{desc}: {n_fmt}{total_part} [{elapsed}{remaining_part}, {rate_fmt}]{postfix}"


def _terminal_width() -> int:
    """The terminal's width; 100 where it reports none (a pty without a size: 0)."""
    columns = shutil.get_terminal_size((100, 24)).columns
    return columns if columns > 0 else 100


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


class Progress:
    """One phase. Thread-safe; usable directly as a boto3 transfer Callback."""

    def __init__(
        self,
        label: str,
        total: float | None = None,
        live: bool | None = None,
        unit: str = "B",
        log_every: float = LOG_EVERY,
    ):
        self.label, self.total, self.unit = label, total, unit
        self.live = sys.stderr.isatty() if live is None else live
        self.done = 0
        self.postfix = ""
        self._lock = threading.Lock()
        self._log_every = log_every
        self._started = self._last_logged = time.monotonic()
        self._bar = (
            tqdm(
                total=total,
                desc=label,
                unit=unit,
                unit_scale=unit in ("B", "rows"),
                unit_divisor=1024 if unit == "B" else 1000,
                file=sys.stderr,
                mininterval=0.2,
                ncols=_terminal_width(),
            )
            if self.live
            else None
        )

    def __call__(self, amount: float) -> None:
        self.update(amount)

    def update(self, amount: float, postfix: str | None = None) -> None:
        with self._lock:
            self.done += amount
            if postfix is not None:
                self.postfix = postfix
            if self._bar is not None:
                if postfix is not None:
                    self._bar.set_postfix_str(postfix, refresh=False)
                self._bar.update(amount)
            elif time.monotonic() - self._last_logged >= self._log_every:
                self._last_logged = time.monotonic()
                log.info(self.line())

    def set_postfix(self, postfix: str) -> None:
        self.update(0, postfix)

    def line(self) -> str:
        """The phase as one line of text (what the log shows)."""
        elapsed = time.monotonic() - self._started
        rate = self.done / elapsed if elapsed > 0 else None
        total_part = f"/{self._fmt(self.total)}" if self.total else ""
        remaining = (
            f"<{tqdm.format_interval((self.total - self.done) / rate)}"
            if self.total and rate
            else ""
        )
        return LOG_FORMAT.format(
            desc=self.label,
            n_fmt=self._fmt(self.done),
            total_part=total_part,
            elapsed=tqdm.format_interval(elapsed),
            remaining_part=remaining,
            rate_fmt=f"{self._fmt(rate or 0)}/s",
            postfix=f" {self.postfix}" if self.postfix else "",
        )

    def _fmt(self, value: float) -> str:
        if self.unit == "B":
            return human_bytes(value)
        shown = f"{value:.0f}" if value < 1000 else tqdm.format_sizeof(value, divisor=1000)
        return f"{shown} {self.unit}"

    def finish(self) -> None:
        with self._lock:
            self.postfix = "done"
            if self._bar is not None:
                self._bar.set_postfix_str("done", refresh=False)
                self._bar.close()
            else:
                log.info(self.line())


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


def sha256_file(path: Path, live: bool | None = None, chunk_size: int = 1 << 20) -> str:
    progress = Progress("checksum SHA-256", path.stat().st_size, live)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
            progress(len(chunk))
    progress.finish()
    return digest.hexdigest()

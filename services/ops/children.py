"""Processes the tooling starts die with whoever started them: a test run killed
by its timeout, or a `make run` killed with -9, leaves no service behind on the
broker (where a stray one would take the next run's messages)."""

from __future__ import annotations

import ctypes
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """For ``subprocess.Popen(preexec_fn=...)``: SIGTERM the child when its parent dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

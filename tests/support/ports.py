"""Ports for the local servers a test suite (or the bench) starts for itself."""

from __future__ import annotations

import os
import random
import socket

_handed_out: set[int] = set()
SLICES = 4  # test shards running side by side draw from disjoint slices of the range


def _range() -> tuple[int, int]:
    """Shards of the app suite running side by side (SANCTUM_TEST_SHARD, 1..) draw
    from disjoint slices, so two never pick the same port before either binds it."""
    shard = os.environ.get("SANCTUM_TEST_SHARD", "")
    if not shard.isdigit():
        return 20000, 32000
    width = 12000 // SLICES
    low = 20000 + (int(shard) % SLICES) * width
    return low, low + width - 1


def free_port() -> int:
    """A free port for a local server the tests start: below the kernel's
    ephemeral range (32768 and up), so no outgoing connection takes it before
    the server binds it, and never the same one twice in a process."""
    low, high = _range()
    while True:
        port = random.randint(low, high)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port

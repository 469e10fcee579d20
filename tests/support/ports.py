"""Ports for the local servers a test suite (or the bench) starts for itself."""

from __future__ import annotations

import random
import socket

_handed_out: set[int] = set()


def free_port() -> int:
    """A free port for a local server the tests start: below the kernel's
    ephemeral range (32768 and up), so no outgoing connection takes it before
    the server binds it, and never the same one twice in a process."""
    while True:
        port = random.randint(20000, 32000)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port

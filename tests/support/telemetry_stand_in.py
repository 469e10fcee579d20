"""A local stand-in for where telemetry goes in production: an OpenTelemetry collector
(OTLP/HTTP, ``POST /v1/traces``) and a Sentry server (``POST /api/<project>/envelope/``).
It keeps every request body it receives, decompressed, one file each, so a test can
read what left the processes and check that nothing private is in it.

    python -m tests.support.telemetry_stand_in --port 4318 --dir /tmp/telemetry
"""

from __future__ import annotations

import gzip
import itertools
import threading
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.support.stand_ins import serve

KINDS = {"/v1/traces": "traces"}


def kind_of(path: str) -> str | None:
    if path.startswith("/api/") and path.rstrip("/").endswith("/envelope"):
        return "sentry"
    return KINDS.get(path.split("?")[0])


def decompressed(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


def handler_for(directory: Path):
    numbers = itertools.count()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802 - the http.server interface
            kind = kind_of(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if kind is None:
                self.send_response(404)
                self.end_headers()
                return
            body = decompressed(body, self.headers.get("Content-Encoding", ""))
            with lock:
                number = next(numbers)
            target = directory / kind
            target.mkdir(exist_ok=True)
            (target / f"{number:06d}.part").write_bytes(body)
            (target / f"{number:06d}.part").rename(target / f"{number:06d}.bin")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

    return Handler


if __name__ == "__main__":
    serve(handler_for)

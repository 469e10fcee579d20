"""What the stand-in servers share: ``python -m tests.support.<stand-in> --port P --dir D``
serves the handler made for directory D on 127.0.0.1:P."""

from __future__ import annotations

import argparse
from http.server import ThreadingHTTPServer
from pathlib import Path


def serve(handler_for) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(args.dir)).serve_forever()

"""A local OpenAI-compatible chat completions server for the tests: it records
every request it is sent (one JSON file each) and answers as its mode file says.

    python -m tests.support.model_stand_in --port 5070 --dir /tmp/model

Modes (the text of ``<dir>/mode``): ``reply`` (default; the reply is the text of
``<dir>/reply`` if present), ``error`` (HTTP 500), ``slow`` (answers after 10 s).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.support.stand_ins import serve

DEFAULT_REPLY = "That sounds hard. Would you like to try a skill together?"


def handler_for(directory: Path):
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802 - the http.server interface
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            with lock:
                name = f"{time.time_ns()}-{uuid.uuid4().hex[:6]}.json"
                (directory / name).write_text(json.dumps({"path": self.path, "body": body}))
            mode_file, reply_file = directory / "mode", directory / "reply"
            mode = mode_file.read_text().strip() if mode_file.exists() else "reply"
            if mode == "error":
                return self._answer(500, {"error": {"message": "stand-in failure", "type": "server_error"}})
            if mode == "slow":
                time.sleep(10)
            text = reply_file.read_text() if reply_file.exists() else DEFAULT_REPLY
            self._answer(200, {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion",
                "created": int(time.time()), "model": body.get("model", "stand-in"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

        def _answer(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


if __name__ == "__main__":
    serve(handler_for)

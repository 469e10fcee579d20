"""Servers the test suite runs for itself: a Redis it may stop, and the mail and
SMS sinks the notification service delivers to."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import urllib.request
from pathlib import Path

from services.ops.children import die_with_parent
from services.ops.sinks import LocalSinks, wait_for_port
from tests.support.ports import free_port  # noqa: F401 - tests take free_port from here


class RedisServer:
    def __init__(self, port: int):
        self.port = port
        self.process: subprocess.Popen | None = None
        self.directory: Path | None = None

    def env(self) -> dict:
        return {"REDIS_URL": f"redis://127.0.0.1:{self.port}/0"}

    def start(self, directory: Path | None = None) -> None:
        self.directory = directory or self.directory
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Sinks(LocalSinks):
    """The local mail and SMS sinks, with ways to read them and to break a mailbox."""

    def start(self, directory: Path) -> None:
        super().start(directory / "mail")

    def refuse(self, address: str, permanently: bool = True) -> None:
        """From now on the SMTP sink refuses mail to this address (550 or 451)."""
        name = "refuse-permanently" if permanently else "refuse-temporarily"
        with open(self.mail_dir / name, "a") as handle:
            handle.write(address + "\n")

    def emails(self, to: str | None = None) -> list[dict]:
        """Received mail, each with its decoded ``subject`` and ``body``."""
        found = []
        for path in sorted(self.mail_dir.glob("[0-9]*.json")):
            record = json.loads(path.read_text())
            if to is None or to in record["rcpt_tos"]:
                message = email.message_from_string(record["data"], policy=email.policy.default)
                record["subject"] = str(message["Subject"])
                record["body"] = message.get_content()
                record["headers"] = dict(message.items())
                found.append(record)
        return found

    def sms(self, to: str | None = None) -> list[dict]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.sns_inspect_port}/_sms", timeout=5) as r:
            found = json.loads(r.read())
        return [m for m in found if to is None or m["phone"] == to]

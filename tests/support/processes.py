"""Servers the test suite runs for itself: a Redis it may stop, and the mail and
SMS sinks the notification service delivers to."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from services.kit.config import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port}")


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
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Sinks:
    """scripts/mail_sink.py and scripts/sms_sink.py, with ways to read them."""

    def __init__(self, smtp_port: int, sns_port: int, sns_inspect_port: int):
        self.smtp_port = smtp_port
        self.sns_port = sns_port
        self.sns_inspect_port = sns_inspect_port
        self.processes: list[subprocess.Popen] = []
        self.mail_dir: Path | None = None

    def env(self) -> dict:
        return {
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.smtp_port),
            "SNS_ENDPOINT_URL": f"http://127.0.0.1:{self.sns_port}",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-2", "AWS_REGION": "eu-west-2",
        }

    def start(self, directory: Path) -> None:
        self.mail_dir = directory / "mail"
        scripts = PROJECT_ROOT / "scripts"
        self.processes = [
            subprocess.Popen([sys.executable, str(scripts / "mail_sink.py"), "--port",
                              str(self.smtp_port), "--dir", str(self.mail_dir)],
                             stdout=subprocess.DEVNULL),
            subprocess.Popen([sys.executable, str(scripts / "sms_sink.py"), "--port",
                              str(self.sns_port), "--inspect-port", str(self.sns_inspect_port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        ]
        for port in (self.smtp_port, self.sns_port, self.sns_inspect_port):
            wait_for_port(port)

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()

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

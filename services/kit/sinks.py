"""Local stand-ins for the email and SMS providers (scripts/mail_sink.py, an
SMTP server that keeps what it receives; scripts/sms_sink.py, a moto SNS
endpoint that lists what it accepted). `make run` starts them so alerts and
invitations can be seen without any account; the tests read them back.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
from pathlib import Path

from services.kit.config import PROJECT_ROOT

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


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port}")


class LocalSinks:
    def __init__(self, smtp_port: int, sns_port: int, sns_inspect_port: int):
        self.smtp_port = smtp_port
        self.sns_port = sns_port
        self.sns_inspect_port = sns_inspect_port
        self.processes: list[subprocess.Popen] = []
        self.mail_dir: Path | None = None

    def env(self) -> dict:
        """What the notifications service needs to deliver to the sinks."""
        return {
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.smtp_port),
            "SNS_ENDPOINT_URL": f"http://127.0.0.1:{self.sns_port}",
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "eu-west-2", "AWS_REGION": "eu-west-2",
        }

    def start(self, mail_dir: Path, log_dir: Path | None = None) -> None:
        self.mail_dir = mail_dir
        scripts = PROJECT_ROOT / "scripts"

        def output(name):
            return open(log_dir / f"{name}.log", "ab") if log_dir else subprocess.DEVNULL

        self.processes = [
            subprocess.Popen([sys.executable, str(scripts / "mail_sink.py"), "--port",
                              str(self.smtp_port), "--dir", str(mail_dir)],
                             stdout=subprocess.DEVNULL, stderr=output("mail_sink"),
                             start_new_session=True),
            subprocess.Popen([sys.executable, str(scripts / "sms_sink.py"), "--port",
                              str(self.sns_port), "--inspect-port", str(self.sns_inspect_port)],
                             stdout=subprocess.DEVNULL, stderr=output("sms_sink"),
                             start_new_session=True),
        ]
        for port in (self.smtp_port, self.sns_port, self.sns_inspect_port):
            wait_for_port(port)

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()

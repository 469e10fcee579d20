"""Local stand-ins for the email and SMS providers: `make run` starts them so
alerts and invitations can be seen without any account, and the tests read
them back.

- ``services.ops.mail_sink``: an SMTP server keeping each message it accepts as
  a JSON file (envelope, raw text, and the decoded subject and body);
- ``services.ops.sms_sink``: a moto SNS endpoint listing the SMS it accepted.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from services.kit.config import PROJECT_ROOT
from services.kit.logs import ContextFilter, JsonFormatter
from services.ops.children import die_with_parent


def configure_json_logging(name: str) -> None:
    """JSON log lines for a stand-in, as every other process writes them."""
    os.environ.setdefault("SANCTUM_SERVICE", name)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # Request lines of the embedded web servers carry nothing worth keeping here.
    for noisy in ("werkzeug", "mail.log", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


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
            # The same moto server answers S3: exports land there.
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{self.sns_port}",
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "eu-west-2", "AWS_REGION": "eu-west-2",
        }

    def start(self, mail_dir: Path, log_dir: Path | None = None) -> None:
        self.mail_dir = mail_dir

        def run(module: str, *args: str) -> subprocess.Popen:
            output = (open(log_dir / f"{module}.log", "ab") if log_dir else subprocess.DEVNULL)
            return subprocess.Popen([sys.executable, "-m", f"services.ops.{module}", *args],
                                    stdout=subprocess.DEVNULL, stderr=output, cwd=PROJECT_ROOT,
                                    start_new_session=True, preexec_fn=die_with_parent)

        self.processes = [
            run("mail_sink", "--port", str(self.smtp_port), "--dir", str(mail_dir)),
            run("sms_sink", "--port", str(self.sns_port),
                "--inspect-port", str(self.sns_inspect_port)),
        ]
        for port in (self.smtp_port, self.sns_port, self.sns_inspect_port):
            wait_for_port(port)

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()

"""Servers the test suite runs for itself: a Redis it may stop, and the mail and
SMS sinks the notification service delivers to."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from services.kit.config import PROJECT_ROOT
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


class StandIn:
    """A local HTTP server standing in for an outside one (a module of tests/support run
    with ``--port`` and ``--dir``), keeping what it receives in its directory."""

    module = ""

    def __init__(self, port: int):
        self.port = port
        self.process: subprocess.Popen | None = None
        self.directory: Path | None = None

    def start(self, directory: Path) -> None:
        self.directory = directory
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "--port", str(self.port), "--dir", str(directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=PROJECT_ROOT,
            preexec_fn=die_with_parent)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class ModelStandIn(StandIn):
    """The local OpenAI-compatible server (tests/support/model_stand_in.py): what it
    was sent, and how it answers next."""

    module = "tests.support.model_stand_in"

    def env(self) -> dict:
        return {"ASSISTANT_MODEL_BASE_URL": f"http://127.0.0.1:{self.port}/v1",
                "ASSISTANT_MODEL": "stand-in", "ASSISTANT_MODEL_TIMEOUT_SECONDS": "2"}

    def requests(self) -> list[dict]:
        """Every chat request received, oldest first (the JSON body)."""
        return [json.loads(p.read_text())["body"] for p in sorted(self.directory.glob("*.json"))]

    def answer_with(self, mode: str = "reply", reply: str | None = None) -> None:
        (self.directory / "mode").write_text(mode)
        reply_file = self.directory / "reply"
        if reply is None:
            reply_file.unlink(missing_ok=True)
        else:
            reply_file.write_text(reply)


class TelemetryStandIn(StandIn):
    """The local OTLP collector and Sentry server (tests/support/telemetry_stand_in.py):
    every process of the test stack sends its traces and error reports here."""

    module = "tests.support.telemetry_stand_in"

    def env(self) -> dict:
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{self.port}",
                "SENTRY_DSN": f"http://public@127.0.0.1:{self.port}/1",
                "SANCTUM_ENVIRONMENT": "test"}

    def received(self, kind: str) -> list[bytes]:
        """Every body received of a kind ("traces", "sentry"), oldest first."""
        return [path.read_bytes() for path in sorted((self.directory / kind).glob("*.bin"))]

    def count(self, kind: str) -> int:
        return len(list((self.directory / kind).glob("*.bin")))


def emails_in(mail_dir: Path, to: str | None = None) -> list[dict]:
    """Mail a sink kept, each with its decoded ``subject`` and ``body``."""
    found = []
    for path in sorted(mail_dir.glob("[0-9]*.json")):
        record = json.loads(path.read_text())
        if to is None or to in record["rcpt_tos"]:
            message = email.message_from_string(record["data"], policy=email.policy.default)
            record["subject"] = str(message["Subject"])
            record["body"] = message.get_content()
            record["headers"] = dict(message.items())
            found.append(record)
    return found


class Sinks(LocalSinks):
    """The local mail and SMS sinks, with ways to read them and to break a mailbox
    or a phone number."""

    def start(self, directory: Path) -> None:
        super().start(directory / "mail")

    def refuse(self, address: str, permanently: bool = True) -> None:
        """From now on the SMTP sink refuses mail to this address (550 or 451)."""
        name = "refuse-permanently" if permanently else "refuse-temporarily"
        with open(self.mail_dir / name, "a") as handle:
            handle.write(address + "\n")

    def refuse_sms(self, phone: str, mode: str) -> None:
        """From now on the SMS sink answers a send to this number as a provider would:
        ``permanent``, ``temporary``, ``opted_out``, ``opted_out_on_send`` or ``none``
        (services/ops/sms_sink.py)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.sns_inspect_port}/_refuse", method="POST",
            data=json.dumps({"phone": phone, "mode": mode}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200

    def emails(self, to: str | None = None) -> list[dict]:
        return emails_in(self.mail_dir, to)

    def sms(self, to: str | None = None) -> list[dict]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.sns_inspect_port}/_sms", timeout=5) as r:
            found = json.loads(r.read())
        return [m for m in found if to is None or m["phone"] == to]


class TlsMailSink:
    """A mail sink that requires STARTTLS and a login, as a provider's submission
    port does, with a certificate from a CA of its own (trustme): a client trusts it
    only if given that CA's file."""

    LOGIN = "sanctum-alerts"

    def __init__(self, port: int):
        self.port = port
        self.process: subprocess.Popen | None = None
        self.directory: Path | None = None

    @property
    def mail_dir(self) -> Path:
        return self.directory / "mail"

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def password_file(self) -> Path:
        return self.directory / "smtp-password"

    def env(self) -> dict:
        """The notifications settings that deliver to this sink."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_STARTTLS": "true",
                "SMTP_USERNAME": self.LOGIN, "SMTP_PASSWORD_FILE": str(self.password_file),
                "SMTP_CA_FILE": str(self.ca_file)}

    def start(self, directory: Path) -> None:
        import secrets

        import trustme

        self.directory = directory
        authority = trustme.CA()
        authority.cert_pem.write_to_path(str(self.ca_file))
        server_cert = authority.issue_cert("127.0.0.1", "localhost")
        server_cert.private_key_and_cert_chain_pem.write_to_path(str(directory / "server.pem"))
        self.password_file.write_text(secrets.token_urlsafe(16))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.ops.mail_sink", "--port", str(self.port),
             "--dir", str(self.mail_dir), "--tls-cert", str(directory / "server.pem"),
             "--tls-key", str(directory / "server.pem"), "--login", self.LOGIN,
             "--password-file", str(self.password_file)],
            stdout=subprocess.DEVNULL, stderr=open(directory / "mail_sink.log", "ab"),
            cwd=PROJECT_ROOT, preexec_fn=die_with_parent)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def emails(self, to: str | None = None) -> list[dict]:
        return emails_in(self.mail_dir, to)

"""A local SMTP server that keeps what it receives: for `make run` and the tests.

    python -m services.ops.mail_sink --port 1025 --dir var/mail

Each accepted message becomes <dir>/<n>.json: the envelope, the raw text, and
the decoded ``subject`` and ``body`` (mail travels quoted-printable; a link or
token copied from ``body`` is the one the recipient would click).
Recipients at @bounce.example, or listed in <dir>/refuse-permanently, are
refused with 550; at @tempfail.example, or listed in <dir>/refuse-temporarily,
with 451: the tests use them to make a mailbox go away.

    python -m services.ops.mail_sink --port 1026 --dir var/mail-tls \
        --tls-cert cert.pem --tls-key key.pem --login alerts --password-file secret

With a certificate it offers STARTTLS and accepts nothing before it; with a
login it accepts mail only from a client that authenticated (over TLS) with that
login and the password in the file: how a real provider's submission port works.
"""

import argparse
import email
import email.policy
import hmac
import itertools
import json
import logging
import ssl
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from services.ops.sinks import configure_json_logging

PERMANENT = "@bounce.example"
TEMPORARY = "@tempfail.example"
log = logging.getLogger("mail_sink")


def decoded(raw: str) -> dict:
    message = email.message_from_string(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    return {"subject": str(message["Subject"] or ""),
            "body": body.get_content() if body is not None else "",
            "headers": dict(message.items())}


class KeepingHandler:
    def __init__(self, directory: Path):
        self.directory = directory
        self.counter = itertools.count(len(list(directory.glob("[0-9]*.json"))) + 1)

    def _listed(self, name: str, address: str) -> bool:
        path = self.directory / name
        return path.exists() and address in path.read_text().split()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith(PERMANENT) or self._listed("refuse-permanently", address):
            log.info("recipient refused permanently (550)")
            return "550 5.1.1 mailbox unavailable"
        if address.endswith(TEMPORARY) or self._listed("refuse-temporarily", address):
            log.info("recipient refused temporarily (451)")
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.content.decode("utf8", errors="replace")
        record = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                  "received_at": time.time(), "data": raw, **decoded(raw)}
        path = self.directory / f"{next(self.counter):06d}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        tmp.rename(path)  # readers never see half a message
        log.info("message %s kept (%d recipients)", path.stem, len(envelope.rcpt_tos))
        return "250 Message accepted"


class OneLogin:
    """Accepts exactly one login and password (AUTH PLAIN or LOGIN)."""

    def __init__(self, login: str, password: str):
        self.login, self.password = login.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        accepted = (isinstance(auth_data, LoginPassword)
                    and hmac.compare_digest(auth_data.login, self.login)
                    and hmac.compare_digest(auth_data.password, self.password))
        log.info("login %s", "accepted" if accepted else "refused")
        return AuthResult(success=accepted, handled=False)  # the server answers 235 or 535


def security_options(args) -> dict:
    """STARTTLS (required) with the given certificate; a required login."""
    options = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options.update(tls_context=context, require_starttls=True)
    if args.login:
        password = Path(args.password_file).read_text().strip()
        options.update(authenticator=OneLogin(args.login, password), auth_required=True,
                       auth_require_tls=bool(args.tls_cert))
    return options


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", default="var/mail")
    parser.add_argument("--tls-cert", help="PEM certificate: offer (and require) STARTTLS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--login", help="require AUTH with this login...")
    parser.add_argument("--password-file", help="...and the password in this file")
    args = parser.parse_args()
    configure_json_logging("mail_sink")
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(KeepingHandler(directory), hostname=args.host, port=args.port,
                            **security_options(args))
    controller.start()
    log.info("mail sink on %s:%d, keeping messages in %s%s", args.host, args.port, directory,
             " (STARTTLS required)" if args.tls_cert else "")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


if __name__ == "__main__":
    main()

"""A local SMTP server that keeps what it receives: for `make run` and the tests.

    python -m services.ops.mail_sink --port 1025 --dir var/mail

Each accepted message becomes <dir>/<n>.json: the envelope, the raw text, and
the decoded ``subject`` and ``body`` (mail travels quoted-printable; a link or
token copied from ``body`` is the one the recipient would click).
Recipients at @bounce.example, or listed in <dir>/refuse-permanently, are
refused with 550; at @tempfail.example, or listed in <dir>/refuse-temporarily,
with 451: the tests use them to make a mailbox go away.
"""

import argparse
import email
import email.policy
import itertools
import json
import logging
import time
from pathlib import Path

from aiosmtpd.controller import Controller

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", default="var/mail")
    args = parser.parse_args()
    configure_json_logging("mail_sink")
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(KeepingHandler(directory), hostname=args.host, port=args.port)
    controller.start()
    log.info("mail sink on %s:%d, keeping messages in %s", args.host, args.port, directory)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


if __name__ == "__main__":
    main()

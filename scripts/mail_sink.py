"""A local SMTP server that keeps what it receives: for `make run` and the tests.

    python scripts/mail_sink.py --port 1025 --dir var/mail

Each accepted message becomes <dir>/<n>.json (envelope and raw text).
Recipients at @bounce.example, or listed in <dir>/refuse-permanently, are
refused with 550; at @tempfail.example, or listed in <dir>/refuse-temporarily,
with 451: the tests use them to make a mailbox go away.
"""

import argparse
import itertools
import json
import time
from pathlib import Path

from aiosmtpd.controller import Controller

PERMANENT = "@bounce.example"
TEMPORARY = "@tempfail.example"


class KeepingHandler:
    def __init__(self, directory: Path):
        self.directory = directory
        self.counter = itertools.count(len(list(directory.glob("[0-9]*.json"))) + 1)

    def _listed(self, name: str, address: str) -> bool:
        path = self.directory / name
        return path.exists() and address in path.read_text().split()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith(PERMANENT) or self._listed("refuse-permanently", address):
            return "550 5.1.1 mailbox unavailable"
        if address.endswith(TEMPORARY) or self._listed("refuse-temporarily", address):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        record = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                  "received_at": time.time(),
                  "data": envelope.content.decode("utf8", errors="replace")}
        path = self.directory / f"{next(self.counter):06d}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        tmp.rename(path)  # readers never see half a message
        return "250 Message accepted"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", default="var/mail")
    args = parser.parse_args()
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(KeepingHandler(directory), hostname=args.host, port=args.port)
    controller.start()
    print(f"mail sink on {args.host}:{args.port}, keeping messages in {directory}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


if __name__ == "__main__":
    main()

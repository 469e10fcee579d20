"""A local AWS endpoint (moto) for SNS, with the SMS it accepted readable:
for `make run` and the tests.

    python -m services.ops.sms_sink --port 5055

Point SNS_ENDPOINT_URL at http://127.0.0.1:5055. GET /_sms on --inspect-port
(default port + 1) lists every SMS sent: [{"message_id", "phone", "text"}].
"""

import argparse
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.server import ThreadedMotoServer

from services.ops.sinks import configure_json_logging

log = logging.getLogger("sms_sink")


def sent_sms() -> list[dict]:
    from moto.sns.models import sns_backends

    found = []
    for account in sns_backends.values():
        for backend in account.values():
            for message_id, (phone, text) in backend.sms_messages.items():
                found.append({"message_id": message_id, "phone": phone, "text": text})
    return found


class Inspect(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(sent_sms()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--inspect-port", type=int)
    args = parser.parse_args()
    configure_json_logging("sms_sink")
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    inspect = ThreadingHTTPServer((args.host, args.inspect_port or args.port + 1), Inspect)
    threading.Thread(target=inspect.serve_forever, daemon=True).start()
    log.info("SMS sink (moto SNS) on %s:%d", args.host, args.port)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()

"""A local AWS endpoint (moto) for SNS, with the SMS it accepted readable and
numbers that can be made to refuse: for `make run` and the tests.

    python -m services.ops.sms_sink --port 5055

Point SNS_ENDPOINT_URL at http://127.0.0.1:5055. On --inspect-port (default
port + 1):
- GET /_sms lists every SMS sent: [{"message_id", "phone", "text"}];
- POST /_refuse {"phone": "+44...", "mode": MODE} makes that number refuse from
  now on, as a provider does: ``permanent`` (Publish answers InvalidParameter:
  the number can never receive SMS), ``temporary`` (InternalError, HTTP 500:
  worth trying again), ``opted_out`` (the number replied STOP: the opt-out check
  says so, and Publish answers OptedOut), ``opted_out_on_send`` (the opt-out
  check does not know yet, Publish answers OptedOut), or ``none`` (accept again).
moto itself treats numbers ending in 99 as opted out.
"""

import argparse
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.server import ThreadedMotoServer
from moto.sns.exceptions import InternalError, InvalidParameterValue, SNSException
from moto.sns.models import SNSBackend

from services.ops.sinks import configure_json_logging

log = logging.getLogger("sms_sink")

MODES = ("permanent", "temporary", "opted_out", "opted_out_on_send", "none")
_refusals: dict[str, str] = {}
_lock = threading.Lock()


class OptedOut(SNSException):
    code = "OptedOut"


def refusal_of(phone: str | None) -> str | None:
    with _lock:
        return _refusals.get(phone or "")


def set_refusal(phone: str, mode: str) -> None:
    with _lock:
        if mode == "none":
            _refusals.pop(phone, None)
        else:
            _refusals[phone] = mode


def _refusing_publish(publish):
    def publish_unless_refused(self, message, arn, phone_number=None, *args, **kwargs):
        mode = refusal_of(phone_number)
        if mode == "permanent":
            log.info("SMS refused permanently (InvalidParameter)")
            raise InvalidParameterValue("Invalid parameter: PhoneNumber Reason: cannot receive SMS")
        if mode == "temporary":
            log.info("SMS refused temporarily (InternalError)")
            raise InternalError("Internal error: try again later")
        if mode in ("opted_out", "opted_out_on_send"):
            log.info("SMS refused: the number opted out (OptedOut)")
            raise OptedOut("Phone number is opted out")
        return publish(self, message, arn, phone_number, *args, **kwargs)

    return publish_unless_refused


def _refusing_opt_out_check(check):
    def opted_out(self, number):
        return refusal_of(number) == "opted_out" or check(self, number)

    return opted_out


def install_refusals() -> None:
    """Make moto's SNS consult the switches set through POST /_refuse."""
    SNSBackend.publish = _refusing_publish(SNSBackend.publish)
    SNSBackend.check_if_phone_number_is_opted_out = _refusing_opt_out_check(
        SNSBackend.check_if_phone_number_is_opted_out)


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
        self._answer(200, sent_sms())

    def do_POST(self):
        if self.path != "/_refuse":
            self._answer(404, {"error": "not found"})
            return
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            phone, mode = body["phone"], body["mode"]
        except (ValueError, KeyError, TypeError):
            self._answer(400, {"error": 'expected {"phone": ..., "mode": ...}'})
            return
        if mode not in MODES:
            self._answer(400, {"error": f"mode must be one of {', '.join(MODES)}"})
            return
        set_refusal(phone, mode)
        self._answer(200, {"phone": phone, "mode": mode})

    def _answer(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
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
    install_refusals()
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

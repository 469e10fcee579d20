"""RPC: the kit's entrypoint (credential check, commit before reply) and a
client with a timeout (a dead service means 503, not a hang).
"""

from __future__ import annotations

import logging
import time
from functools import partial

import eventlet
from nameko import config as nameko_config
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_SSL_CONFIG_KEY, LOGIN_METHOD_CONFIG_KEY
from nameko.exceptions import MalformedRequest
from nameko.messaging import decode_from_headers
from nameko.rpc import Responder, RpcConsumer, ServiceRpc, get_rpc_exchange
from nameko.rpc import Rpc as NamekoRpc

from services.kit import config, error_reports, metrics, service_auth
from services.kit.amqp import PUBLISH_FAILED, SharedProducer
from services.kit.entrypoints import finish_transactions, spawn_worker_or_requeue
from services.kit.errors import SanctumError, ServiceUnavailable

log = logging.getLogger(__name__)
TRANSIENT = 1  # AMQP delivery mode: kept in memory, never written to the broker's disk


class _UnconfirmedPublisher(Publisher):
    """RPC requests and replies go out without waiting for a broker confirm, on
    the process's one shared channel.

    A lost request or reply only makes the caller time out (503, and the client
    retries with the same idempotency key); the reply itself is the confirmation
    that matters. Without confirms the broker cannot report an unroutable
    message either, so ``mandatory`` is off: every service queue is declared at
    migrate time, and a call to one nobody consumes times out like a dead service.
    For the same reason they are transient (nameko's default is persistent): the broker
    keeps them in memory only, and one lost with a broker restart is a call timed out,
    which its caller would see anyway.
    """

    def publish(self, payload, **kwargs):
        options = {**self.publish_kwargs, **kwargs}
        headers = {**options.pop("headers", {}), **options.pop("extra_headers", {})}
        for unused in ("delivery_mode", "mandatory", "use_confirms", "transport_options", "retry",
                       "retry_policy", "declare"):
            options.pop(unused, None)
        SharedProducer.of(self.amqp_uri).publish(
            payload, headers=headers,
            delivery_mode=TRANSIENT,
            priority=options.pop("priority", self.priority),
            expiration=options.pop("expiration", self.expiration),
            serializer=options.pop("serializer", self.serializer),
            compression=options.pop("compression", self.compression),
            **options,  # exchange, routing_key, reply_to, correlation_id
        )


class _Responder(Responder):
    publisher_cls = _UnconfirmedPublisher


class _RpcConsumer(RpcConsumer):
    def handle_result(self, message, result, exc_info):
        responder = _Responder(
            self.amqp_uri, get_rpc_exchange(), message,
            ssl=nameko_config.get(AMQP_SSL_CONFIG_KEY),
            login_method=nameko_config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        try:
            result, exc_info = responder.send_response(result, exc_info)
        except PUBLISH_FAILED:
            # The broker went away while the call ran: its reply is lost, and the caller
            # times out (503) and retries with its idempotency key. Raising here would
            # kill the container, and with it every other call it is running.
            log.warning("rpc %s: reply not sent, the broker is unreachable", message.delivery_info.get(
                "routing_key", "?"))
            return result, exc_info
        self.consumer.ack_message(message)
        return result, exc_info


class Rpc(NamekoRpc):
    rpc_consumer = _RpcConsumer()

    def __init__(self, **kwargs):
        # Domain errors are answers (404, 409...), not faults: log them without alarm.
        kwargs.setdefault("expected_exceptions", SanctumError)
        super().__init__(**kwargs)

    def handle_message(self, body, message):
        try:
            args = body["args"]
            kwargs = body["kwargs"]
        except (KeyError, TypeError):
            raise MalformedRequest("Message missing `args` or `kwargs`") from None
        context_data = decode_from_headers(message.headers)
        service_auth.caller_of(context_data)  # raises -> error reply
        self.check_signature(args, kwargs)
        service_auth.stamp(context_data, self.container.service_name)
        spawn_worker_or_requeue(
            self, args, kwargs, context_data,
            partial(self.handle_result, message, time.perf_counter()),
            lambda: self.rpc_consumer.consumer.requeue_message(message),
        )

    def handle_result(self, message, started, worker_ctx, result, exc_info):
        exc_info = finish_transactions(self.container, worker_ctx, exc_info)
        if exc_info is not None:
            result = None
        answered = self.rpc_consumer.handle_result(message, result, exc_info)
        self._measure(started, exc_info)
        return answered

    def _measure(self, started: float, exc_info) -> None:
        service, method = self.container.service_name, self.method_name
        if exc_info is None:
            outcome = "ok"
        elif isinstance(exc_info[1], SanctumError):
            outcome = "refused"
        else:
            outcome = "error"
            error_reports.capture(exc_info)
        metrics.count("sanctum_rpc_requests_total", service=service, method=method, outcome=outcome)
        metrics.observe("sanctum_rpc_duration_seconds", time.perf_counter() - started,
                        service=service, method=method)


rpc = Rpc.decorator


class _TimedMethod:
    def __init__(self, client, service: str, method: str, timeout: float, pending: dict):
        self._client = client
        self._label = f"{service}.{method}"
        self._timeout = timeout
        self._pending = pending

    def __call__(self, *args, **kwargs):
        call = self._client.call_async(*args, **kwargs)
        try:
            with eventlet.Timeout(self._timeout):
                return call.result()
        except eventlet.Timeout:
            self._pending.pop(call.correlation_id, None)
            log.warning("rpc %s timed out after %.1fs", self._label, self._timeout)
            raise ServiceUnavailable(f"{self._label.split('.')[0]} did not answer in time") from None


class _TimedProxy:
    """What a worker sees as ``self.<client>``. nameko's client is made when the worker
    first calls through it: a gateway route uses one of its twelve clients, and making
    all twelve for every request was a measurable share of the gateway's CPU."""

    def __init__(self, make_client, service: str, timeout: float, pending: dict):
        self._make_client = make_client
        self._client = None
        self._service = service
        self._timeout = timeout
        self._pending = pending

    def __getattr__(self, method: str) -> _TimedMethod:
        if self._client is None:
            self._client = self._make_client()
        return _TimedMethod(
            getattr(self._client, method), self._service, method, self._timeout, self._pending
        )


class RpcClient(ServiceRpc):
    """``ServiceRpc`` whose calls give up after ``timeout`` seconds.

    The request message expires in the queue at the same moment, so a service
    that comes back later does not act on a call its caller already gave up on.
    """

    publisher_cls = _UnconfirmedPublisher

    def __init__(self, target_service: str, timeout: float | None = None, **options):
        self.timeout = float(timeout or config.settings(config.RpcSettings).timeout_seconds)
        super().__init__(target_service, expiration=self.timeout, **options)

    def setup(self):
        super().setup()
        # nameko re-declares the reply queue before every request (it has an
        # x-expires argument, so kombu never caches the declaration): a broker
        # round trip per call. The reply consumer declares it, on every (re)connect.
        self.publisher.declare = []

    def get_dependency(self, worker_ctx):
        return _TimedProxy(partial(super().get_dependency, worker_ctx), self.target_service,
                           self.timeout, self.reply_listener.pending)

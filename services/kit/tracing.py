"""OpenTelemetry traces across the gateway, RPC calls and events, with SQLAlchemy and
Redis spans, exported over OTLP/HTTP; started only when TELEMETRY.OTLP_ENDPOINT is set.

A span says what ran and how long it took, never with what: the instrumentations'
payload and header capture stays off, an entrypoint span keeps its service, method
and outcome (an error's type, never its message), a database span its statement
(bound parameters, never values), and a Redis span only its command name (keys name
users, values are cached health data). The trace context travels in RPC headers (the
nameko instrumentation) and in each outbox row's headers (``context_headers``), so an
event's handler continues the trace of the request that wrote it.
"""

from __future__ import annotations

import logging

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Status, StatusCode

log = logging.getLogger(__name__)

# Attributes a span may keep, by prefix; everything else an instrumentation sets is dropped.
KEPT_ATTRIBUTES = ("service_name", "entrypoint_type", "method_name", "hostname", "db.system",
                   "db.statement", "db.name", "db.operation", "net.peer", "server.", "http.method",
                   "http.route", "http.status_code", "http.request.method", "http.response.status_code",
                   "nameko.rpc.target_service", "nameko.rpc.target_method", "exception.type",
                   "outcome", "messaging.system")


def kept(key: str) -> bool:
    return key.startswith(KEPT_ATTRIBUTES)


def _adapters():
    from nameko_opentelemetry.entrypoints import EntrypointAdapter

    class SafeEntrypointAdapter(EntrypointAdapter):
        """An entrypoint's span: its service, method and outcome only."""

        def get_attributes(self, worker_ctx):
            entrypoint = worker_ctx.entrypoint
            return {"service_name": worker_ctx.service_name,
                    "entrypoint_type": type(entrypoint).__name__,
                    "method_name": entrypoint.method_name}

        def end_span(self, span, worker_ctx, result, exc_info):
            if not span.is_recording():
                return
            if exc_info is None:
                span.set_attribute("outcome", "ok")
                return
            expected = self.exception_was_expected(worker_ctx, exc_info[1])
            span.set_attribute("outcome", "refused" if expected else "error")
            span.set_attribute("exception.type", exc_info[0].__name__)
            if not expected:
                span.set_status(Status(StatusCode.ERROR, exc_info[0].__name__))

    class SafeHttpAdapter(SafeEntrypointAdapter):
        """The gateway's span for a route, continuing a trace the client started."""

        def get_metadata(self, worker_ctx):
            request = getattr(worker_ctx.args[0], "request", None)
            header = request.headers.get("traceparent") if request is not None else None
            return {"traceparent": header} if header else {}

        def get_span_name(self, worker_ctx):
            return f"{worker_ctx.entrypoint.method} {worker_ctx.entrypoint.url}"

        def get_attributes(self, worker_ctx):
            entrypoint = worker_ctx.entrypoint
            return {**super().get_attributes(worker_ctx), "http.method": entrypoint.method,
                    "http.route": entrypoint.url}

    return SafeEntrypointAdapter, SafeHttpAdapter


def _scrubbed(span):
    """A copy of a finished span with only the kept attributes, and no events
    (an exception event carries the message and the stack text)."""
    from opentelemetry.sdk.trace import ReadableSpan

    return ReadableSpan(
        name=span.name, context=span.context, parent=span.parent, resource=span.resource,
        attributes={key: value for key, value in (span.attributes or {}).items() if kept(key)},
        events=(), links=span.links, kind=span.kind, status=span.status,
        start_time=span.start_time, end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope)


def _scrubbing_exporter(inner):
    from opentelemetry.sdk.trace.export import SpanExporter

    class ScrubbingExporter(SpanExporter):
        """Exports copies of the spans without any attribute not on the kept list: a last
        line, whatever an instrumentation adds."""

        def export(self, spans):
            return inner.export([_scrubbed(span) for span in spans])

        def shutdown(self):
            inner.shutdown()

        def force_flush(self, timeout_millis: int = 30000):
            return inner.force_flush(timeout_millis)

    return ScrubbingExporter()


def _redis_request_hook(span, instance, args, kwargs):
    if span is not None and span.is_recording() and args:
        span.update_name(str(args[0]))


def start(service_name: str, options) -> None:
    from nameko_opentelemetry import NamekoInstrumentor
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio

    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name,
                                  "deployment.environment": options.environment}),
        sampler=ParentBasedTraceIdRatio(options.trace_sample_ratio))
    exporter = OTLPSpanExporter(endpoint=options.otlp_endpoint.rstrip("/") + "/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(_scrubbing_exporter(exporter)))
    trace.set_tracer_provider(provider)
    NamekoInstrumentor().instrument(send_headers=False, send_request_payloads=False,
                                    send_response_payloads=False)
    SQLAlchemyInstrumentor().instrument(enable_commenter=False)
    RedisInstrumentor().instrument(request_hook=_redis_request_hook)
    log.info("traces exported to %s", options.otlp_endpoint)


def adapt(container) -> None:
    """Give the container's entrypoints the safe span adapters (by their exact type,
    as the nameko instrumentation looks them up)."""
    from nameko.web.handlers import HttpRequestHandler
    from nameko_opentelemetry import entrypoints as instrumented

    safe, http = _adapters()
    for entrypoint in container.entrypoints:
        kind = http if isinstance(entrypoint, HttpRequestHandler) else safe
        instrumented.adapter_types[type(entrypoint)] = kind


def context_headers() -> dict:
    """The current trace context as nameko context headers (an event's outbox row)."""
    carrier: dict = {}
    propagate.inject(carrier, context=context.get_current())
    return {f"nameko.{key}": value for key, value in carrier.items()}

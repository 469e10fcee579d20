"""What a process reports about itself, never about its users: Prometheus metrics
(kit/metrics.py), OpenTelemetry traces (kit/tracing.py) and Sentry reports of
unexpected errors (kit/error_reports.py). The kit's container starts them once per
process; each is off unless configured (TELEMETRY in config.yaml).

``ServiceFigures`` (on every DomainService) samples what a service holds rather than
what happens to it: its outbox rows not yet published and the age of the oldest, the
messages waiting in its handlers' queues and dead-letter queues, and its pool in use.
"""

from __future__ import annotations

import dataclasses
import logging

import eventlet
from kombu import Connection
from nameko.extensions import DependencyProvider
from sqlalchemy import text

from services.kit import config, metrics

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TelemetrySettings:
    SECTION = "TELEMETRY"
    metrics_port: int
    sample_every_seconds: float
    otlp_endpoint: str | None
    trace_sample_ratio: float
    sentry_dsn: str | None
    environment: str


def settings() -> TelemetrySettings:
    return config.settings(TelemetrySettings)


_started: set[str] = set()
_tracing = False


def start_process(container) -> None:
    """Serve metrics, and start tracing and error reports if configured: once per
    process, however many service containers it runs."""
    global _tracing
    first = not _started
    _started.add(container.service_name)
    options = settings()
    if first:
        metrics.serve(options.metrics_port)
        if options.otlp_endpoint:
            from services.kit import tracing

            tracing.start(container.service_name, options)
            _tracing = True
        if options.sentry_dsn:
            from services.kit import error_reports

            error_reports.start(container.service_name, options)
    if _tracing:
        from services.kit import tracing

        tracing.adapt(container)


def trace_headers() -> dict:
    """The current trace context for a message's headers ({} when tracing is off)."""
    if not _tracing:
        return {}
    from services.kit import tracing

    return tracing.context_headers()


OUTBOX_FIGURES = """
SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)
FROM "{schema}".outbox WHERE status = 'pending'
"""


class ServiceFigures(DependencyProvider):
    """Samples the service's outbox and queues in the background; ``sample(connection)``,
    if given, samples what only that service knows, on the same schedule."""

    def __init__(self, sample=None):
        self.sample = sample

    def start(self):
        from services.kit.db import database_of
        from services.kit.events.handlers import EventHandler
        from services.kit.events.topology import amqp_uri

        if not metrics.enabled():
            return
        self.service = self.container.service_name
        self.database = database_of(self.container, "ServiceFigures")
        pool = self.database.engine.pool
        metrics.gauge_from("sanctum_db_pool_connections_in_use", pool.checkedout, service=self.service)
        self.queues = [(entrypoint.queue.name, entrypoint.dead_queue.name)
                       for entrypoint in self.container.entrypoints
                       if isinstance(entrypoint, EventHandler)]
        self.amqp_uri = amqp_uri()
        self.every = settings().sample_every_seconds
        self.running = True
        self.container.spawn_managed_thread(self._run, identifier="service_figures")

    def stop(self):
        self.running = False

    def _run(self):
        connection = None
        while self.running:
            try:
                self._sample_outbox()
                connection = connection or Connection(self.amqp_uri)
                self._sample_queues(connection)
            except Exception as exc:  # noqa: BLE001 - figures are best effort, never a fault
                log.warning("could not sample %s's figures (%s)", self.service, type(exc).__name__)
                if connection is not None:
                    connection.release()
                    connection = None
            eventlet.sleep(self.every)
        if connection is not None:
            connection.release()

    def _sample_outbox(self) -> None:
        with self.database.engine.connect() as conn:
            pending, age = conn.execute(text(OUTBOX_FIGURES.format(schema=self.database.schema))).one()
            if self.sample is not None:
                self.sample(conn)
        metrics.gauge("sanctum_outbox_pending_rows", pending, service=self.service)
        metrics.gauge("sanctum_outbox_oldest_pending_age_seconds", float(age), service=self.service)

    def _sample_queues(self, connection: Connection) -> None:
        channel = connection.default_channel
        for queue, dead in self.queues:
            for name, figure in ((queue, "sanctum_queue_messages"), (dead, "sanctum_dead_letter_messages")):
                _, waiting, _ = channel.queue_declare(name, passive=True)
                metrics.gauge(figure, waiting, service=self.service, queue=name)

"""Prometheus metrics of this process: the catalogue's metrics (monitoring/catalogue.py),
counted where things happen and served at ``/metrics`` on ``TELEMETRY.METRICS_PORT``.

    from services.kit import metrics
    metrics.count("sanctum_mood_shifts_logged_total")
    metrics.count("sanctum_alerts_sent_total", channel="sms", recipient="contact")
    metrics.observe("sanctum_crisis_to_first_send_seconds", 0.08)

Every name and label is declared once, in the catalogue; using one that is not there
fails at once. Labels carry route templates, method and handler names, channels and
outcomes, never a user id or anything a user wrote. The figures that are states rather
than events (outbox rows pending, queue depths, dead letters) are sampled by
``Sampler`` every ``TELEMETRY.SAMPLE_EVERY_SECONDS``; the pool in use is read at
scrape time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

import eventlet
import eventlet.wsgi
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    make_wsgi_app,
)

from monitoring.catalogue import APP_METRICS, AppMetric

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)


def _build(metric: AppMetric):
    if metric.kind == "counter":
        return Counter(metric.name, metric.help, metric.labels, registry=REGISTRY)
    if metric.kind == "gauge":
        return Gauge(metric.name, metric.help, metric.labels, registry=REGISTRY)
    return Histogram(metric.name, metric.help, metric.labels, registry=REGISTRY,
                     buckets=metric.buckets)


_METRICS = {metric.name: _build(metric) for metric in APP_METRICS}


@cache
def _child(name: str, labels: tuple[tuple[str, str], ...]):
    """The labelled series, looked up once (the hot path then only increments)."""
    metric = _METRICS[name]
    return metric.labels(**dict(labels)) if labels else metric


def series(name: str, **labels: str):
    return _child(name, tuple(sorted(labels.items())))


# Counting is on in a process that serves its metrics (and in tests of this module);
# with TELEMETRY.METRICS_PORT 0 nothing is counted (`make bench` measures the cost).
_enabled = True


def count(name: str, amount: float = 1, **labels: str) -> None:
    if _enabled:
        series(name, **labels).inc(amount)


def observe(name: str, value: float, **labels: str) -> None:
    if _enabled:
        series(name, **labels).observe(value)


def gauge(name: str, value: float, **labels: str) -> None:
    if _enabled:
        series(name, **labels).set(value)


def zero(name: str, **labels: str) -> None:
    """Create a labelled series at 0 before anything happens to it, so a rate over the
    first event after a start sees it (a series born at 1 shows no increase)."""
    if _enabled:
        series(name, **labels)


def gauge_from(name: str, read: Callable[[], float], **labels: str) -> None:
    """A gauge read when scraped (cheap, in-process figures such as the pool in use)."""
    series(name, **labels).set_function(read)


def enabled() -> bool:
    return _enabled


_served: set[int] = set()


def serve(port: int) -> None:
    """Serve /metrics on ``port``, once per process however many service containers
    it runs; with port 0, count nothing at all."""
    global _enabled
    _enabled = bool(port)
    if not port or port in _served:
        return
    _served.add(port)
    listener = eventlet.listen(("0.0.0.0", port))
    app = make_wsgi_app(REGISTRY)
    eventlet.spawn(eventlet.wsgi.server, listener, app, log_output=False)
    log.info("metrics served on port %d", port)

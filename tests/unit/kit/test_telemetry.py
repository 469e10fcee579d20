"""The telemetry kit's own logic: what an error report and a span keep, and that
metrics exist only as the catalogue declares them. (tests/integration/test_telemetry.py
checks the same through the running stack and the local stand-ins.)"""

import pytest
from opentelemetry.sdk.trace import TracerProvider

from services.kit import error_reports, metrics, tracing

EVENT = {
    "event_id": "e1", "level": "error", "platform": "python", "release": "abc",
    "environment": "test", "server_name": "host",
    "message": "could not log mood -3 for ann@example.com",
    "logentry": {"message": "note: my private note"},
    "request": {"data": {"note": "my private note"}, "headers": {"Authorization": "Bearer x"}},
    "user": {"email": "ann@example.com", "ip_address": "10.0.0.1"},
    "extra": {"args": ["user-id", {"level": -3}]},
    "breadcrumbs": {"values": [{"message": "POST /api/v1/mood/shift ann@example.com"}]},
    "contexts": {"runtime": {"name": "CPython"}, "profile": {"email": "ann@example.com"}},
    "tags": {"service": "mood_tracking", "user": "ann@example.com"},
    "exception": {"values": [{
        "type": "CheckViolation", "module": "psycopg.errors",
        "value": 'new row violates check constraint. DETAIL: Failing row contains (my private note)',
        "stacktrace": {"frames": [{
            "filename": "services/mood_tracking/shifts.py", "function": "create", "lineno": 40,
            "context_line": "    db.execute(statement)", "vars": {"data": {"note": "my private note"}},
        }]},
    }]},
}


def test_an_error_report_keeps_where_not_what():
    kept = error_reports.scrub(EVENT)
    text = repr(kept)
    for private in ("my private note", "ann@example.com", "-3", "Bearer", "10.0.0.1", "user-id"):
        assert private not in text, private
    value = kept["exception"]["values"][0]
    assert value["type"] == "CheckViolation" and value["module"] == "psycopg.errors"
    assert value["stacktrace"]["frames"] == [{
        "filename": "services/mood_tracking/shifts.py", "function": "create", "lineno": 40,
        "context_line": "    db.execute(statement)"}]
    assert kept["tags"] == {"service": "mood_tracking"}
    assert kept["contexts"] == {"runtime": {"name": "CPython"}}
    assert {"request", "user", "extra", "breadcrumbs", "message", "logentry"}.isdisjoint(kept)


def test_a_span_keeps_only_listed_attributes_and_no_events():
    tracer = TracerProvider().get_tracer(__name__)
    span = tracer.start_span("mood_tracking.log_shift")
    span.set_attributes({"service_name": "mood_tracking", "method_name": "log_shift",
                         "db.statement": "SELECT mood_tracking.log_shift(%(user)s)",
                         "call_args": "{'note': 'my private note'}", "http.url": "/x?email=a@b.c",
                         "enduser.id": "user-id"})
    span.record_exception(ValueError("my private note"))
    span.end()
    copy = tracing._scrubbed(span)
    assert dict(copy.attributes) == {"service_name": "mood_tracking", "method_name": "log_shift",
                                     "db.statement": "SELECT mood_tracking.log_shift(%(user)s)"}
    assert copy.events == () and copy.context == span.context and copy.name == span.name


def test_metrics_exist_only_as_the_catalogue_declares_them(monkeypatch):
    monkeypatch.setattr(metrics, "_enabled", True)  # a container in this process may have turned it off
    metrics.count("sanctum_mood_shifts_logged_total")
    metrics.count("sanctum_logins_total", outcome="ok")
    with pytest.raises(KeyError):
        metrics.count("sanctum_not_in_the_catalogue_total")
    with pytest.raises(ValueError):
        metrics.count("sanctum_logins_total", outcome="ok", user_id="someone")  # no such label

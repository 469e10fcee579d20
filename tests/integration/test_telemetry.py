"""What leaves the processes about themselves, and that nothing about users leaves with
it: Prometheus metrics from every process, traces through the local OTLP stand-in,
error reports through the local Sentry stand-in (tests/support/telemetry_stand_in.py)."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client.parser import text_string_to_metric_families

from monitoring.catalogue import APP_METRICS, PROCESS_METRICS
from services import registry
from tests.support import db
from tests.support.flows import (
    CRISIS_SUBJECT,
    confirmed_contact,
    shift,
    unique_email,
    unique_phone,
    wait_until,
)


def scrape(stack, name: str) -> str:
    answer = requests.get(f"http://127.0.0.1:{stack.metrics_ports[name]}/metrics", timeout=5)
    assert answer.status_code == 200
    return answer.text


def value(text: str, name: str, **labels) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


def figures(stack) -> dict[str, str]:
    return {name: scrape(stack, name) for name in ("gateway", "user_management", "mood_tracking",
                                                   "pattern_analysis", "notifications")}


@pytest.fixture
def private(api, sinks):
    """A user whose every detail is a string no telemetry may carry."""
    tag, phone = uuid.uuid4().hex, unique_phone()
    user = api.new_user(display_name=f"Name{tag[:8]}", phone=phone)
    contact = unique_email(f"contact{tag[:6]}")
    confirmed_contact(user, sinks, email=contact, name=f"Contact{tag[:8]}")
    secrets = [user.user_id, user.email, phone, f"Name{tag[:8]}", contact, f"Contact{tag[:8]}",
               f"note-{tag}", f"trigger-{tag}"]
    return user, contact, tag, secrets


def test_every_process_serves_the_catalogue(stack):
    assert set(stack.metrics_ports) >= {p.name for p in registry.all_processes()}
    for process in registry.all_processes():
        families = {f.name for f in text_string_to_metric_families(scrape(stack, process.name))}
        for metric in APP_METRICS:
            assert metric.name.removesuffix("_total") in families, (process.name, metric.name)
        assert set(PROCESS_METRICS) - {"process_cpu_seconds_total"} <= families
        assert "process_cpu_seconds" in families


# (process, series, labels): what a logged crisis moves on its way to an alert.
ALONG_THE_WAY = [
    ("gateway", "sanctum_http_requests_total",
     {"route": "/api/v1/mood/shift", "method": "POST", "status": "201"}),
    ("user_management", "sanctum_logins_total", {"outcome": "ok"}),
    ("mood_tracking", "sanctum_rpc_requests_total", {"method": "log_shift", "outcome": "ok"}),
    ("mood_tracking", "sanctum_mood_shifts_logged_total", {}),
    ("pattern_analysis", "sanctum_events_handled_total", {"handler": "on_shift_logged", "outcome": "ok"}),
    ("pattern_analysis", "sanctum_crises_detected_total", {}),
    ("notifications", "sanctum_alerts_sent_total", {"channel": "email", "recipient": "contact"}),
    ("notifications", "sanctum_crisis_to_first_send_seconds_count", {}),
]


def test_a_crisis_is_counted_along_its_way_and_no_user_is_named(stack, private, sinks, api):
    user, contact, tag, secrets = private
    before = figures(stack)
    assert api.login(user.email).status_code == 200
    logged = user.post("/api/v1/mood/shift", json=shift(-4, -1, note=f"note-{tag}",
                                                       triggers=[f"trigger-{tag}"]))
    assert logged.status_code == 201, logged.text
    wait_until(lambda: [m for m in sinks.emails(to=contact) if CRISIS_SUBJECT in m["subject"]])

    def counted():
        after = figures(stack)
        return all(value(after[process], name, **labels) - value(before[process], name, **labels) >= 1
                   for process, name, labels in ALONG_THE_WAY) and after
    after = wait_until(counted, timeout=20, message="a figure did not move")
    for name, text in after.items():
        for secret in secrets:
            assert secret not in text, (name, secret)


def test_outbox_queues_and_pool_are_sampled(stack, user):
    assert user.post("/api/v1/mood/shift", json=shift(1)).status_code == 201

    def sampled():
        text = scrape(stack, "pattern_analysis")
        queues = {s.labels["queue"] for f in text_string_to_metric_families(text)
                  for s in f.samples if s.name == "sanctum_queue_messages"}
        dead = {s.labels["queue"] for f in text_string_to_metric_families(text)
                for s in f.samples if s.name == "sanctum_dead_letter_messages"}
        return queues and dead and (queues, dead, text)
    queues, dead, text = wait_until(sampled, timeout=10)
    assert any("mood.shift.logged" in queue for queue in queues)
    assert all(queue.endswith(".dead") for queue in dead)
    assert 'sanctum_db_pool_connections_in_use{service="pattern_analysis"}' in text
    mood = wait_until(lambda: "sanctum_outbox_pending_rows{" in (t := scrape(stack, "mood_tracking")) and t)
    assert value(mood, "sanctum_outbox_oldest_pending_age_seconds", service="mood_tracking") >= 0
    # The crisis pipeline's own figures exist before any crisis, so the first one shows.
    notifications = scrape(stack, "notifications")
    assert 'sanctum_alerts_failed_total{channel="sms",reason="gave_up"}' in notifications
    assert "sanctum_crisis_oldest_unsent_age_seconds " in notifications


def test_an_unexpected_error_reaches_sentry_with_nothing_private(stack, private, telemetry):
    user, _, tag, secrets = private
    already = telemetry.count("sentry")
    # A check the write breaks, so PostgreSQL refuses it quoting the whole row, the note
    # included: the error's message carries exactly what must never leave.
    db.execute("ALTER TABLE mood_tracking.mood_shifts ADD CONSTRAINT telemetry_test "
               "CHECK (note IS NULL OR note NOT LIKE 'note-%') NOT VALID")
    try:
        answer = user.post("/api/v1/mood/shift", json=shift(-3, note=f"note-{tag}",
                                                          triggers=[f"trigger-{tag}"]))
    finally:
        db.execute("ALTER TABLE mood_tracking.mood_shifts DROP CONSTRAINT telemetry_test")
    assert answer.status_code == 500 and f"note-{tag}" not in answer.text
    wait_until(lambda: telemetry.count("sentry") > already, timeout=20, message="no report arrived")
    reports = telemetry.received("sentry")[already:]
    events = [json.loads(line) for body in reports for line in body.splitlines()
              if line.startswith(b"{") and b'"exception"' in line]
    assert any(event["tags"].get("service") == "mood_tracking" for event in events), events
    frames = [frame for event in events for value in event["exception"]["values"]
              for frame in value.get("stacktrace", {}).get("frames", [])]
    assert frames and not any("vars" in frame for frame in frames)
    everything = b"".join(reports)
    for secret in secrets:
        assert secret.encode() not in everything, secret
    assert b'"level": -3' not in everything and b'"current"' not in everything


def spans_by_trace(bodies: list[bytes]) -> dict[bytes, set[str]]:
    traces: dict[bytes, set[str]] = {}
    for body in bodies:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            service = next(a.value.string_value for a in resource_spans.resource.attributes
                           if a.key == "service.name")
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    traces.setdefault(span.trace_id, set()).add(service)
    return traces


def test_a_shift_is_traced_from_the_gateway_to_its_consumers(stack, private, telemetry):
    user, _, tag, secrets = private
    before = telemetry.count("traces")
    assert user.post("/api/v1/mood/shift", json=shift(2, note=f"note-{tag}")).status_code == 201
    wanted = {"gateway", "mood_tracking", "pattern_analysis", "sessions", "ai_context"}

    def followed():
        traces = spans_by_trace(telemetry.received("traces")[before:])
        return any(services >= wanted for services in traces.values())
    wait_until(followed, timeout=30, message="no trace reached every consumer")
    everything = b"".join(telemetry.received("traces")[before:])
    for secret in secrets:
        assert secret.encode() not in everything, secret

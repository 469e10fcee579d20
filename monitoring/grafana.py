"""The Grafana dashboard, written as data: RED per service, the crisis pipeline, the
queues and the outbox, the product's counts, resources and backups.

    python -m monitoring.grafana > monitoring/grafana/dashboards/sanctum.json

compose's Grafana provisions the file (monitoring/grafana/provisioning); tests/monitoring
checks that the committed file is what this prints and that every series a panel
queries is in the metric catalogue.
"""

from __future__ import annotations

import json
import sys
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
DASHBOARD_UID = "sanctum-overview"
WIDTH = 24
RATE = "5m"  # rate windows: a few scrapes (15 s) even at low traffic


def query(expr: str, legend: str = "") -> dict[str, Any]:
    return {"expr": expr, "legendFormat": legend}


def panel(title: str, queries: list[dict[str, Any]], *, unit: str = "short", kind: str = "timeseries",
          description: str = "", width: int = 8) -> dict[str, Any]:
    return {"title": title, "kind": kind, "description": description, "unit": unit,
            "queries": queries, "width": width}


def row(title: str, *panels: dict[str, Any]) -> tuple[str, tuple[dict[str, Any], ...]]:
    return title, panels


def p(quantile: float, bucket: str, by: str = "", window: str = RATE) -> str:
    group = f"{by}, le" if by else "le"
    return (f"histogram_quantile({quantile}, sum by ({group}) "
            f"(rate({bucket}[{window}])))")


ROWS = (
    row(
        "Crisis pipeline",
        panel("Crises detected (per 5 min)", [
            query("sum(increase(sanctum_crises_detected_total[5m]))", "crises raised")],
              description="Raised by pattern analysis; each starts an escalation ladder (rules "
                          "firing within the user's cool-down are flagged, not counted)."),
        panel("Crisis messages sent and failed (per 5 min)", [
            query("sum by (channel, recipient) (increase(sanctum_alerts_sent_total[5m]))",
                  "sent {{channel}} to {{recipient}}"),
            query("sum by (channel, reason) (increase(sanctum_alerts_failed_total[5m]))",
                  "failed {{channel}}: {{reason}}")]),
        panel("Crisis to first send", [
            query(p(0.5, "sanctum_crisis_to_first_send_seconds_bucket", window="30m"), "p50"),
            query(p(0.99, "sanctum_crisis_to_first_send_seconds_bucket", window="30m"), "p99"),
            query("max(sanctum_crisis_oldest_unsent_age_seconds)", "oldest still waiting")],
              unit="s", description="Over 30 minutes: crises are rare. Target: under a minute."),
        panel("Dead letters", [
            query("sum by (service, queue) (sanctum_dead_letter_messages)", "{{queue}}")],
              description="Events parked after every retry: replay them (services/ops/dlq.py)."),
        panel("Outbox: rows waiting", [
            query("sum by (service) (sanctum_outbox_pending_rows)", "{{service}}")]),
        panel("Outbox: oldest waiting", [
            query("max by (service) (sanctum_outbox_oldest_pending_age_seconds)", "{{service}}")],
              unit="s"),
        panel("Handler queues: messages waiting", [
            query("sum by (queue) (sanctum_queue_messages)", "{{queue}}")], width=24),
    ),
    row(
        "Gateway (rate, errors, duration)",
        panel("Requests per second by route", [
            query("sum by (route) (rate(sanctum_http_requests_total[5m]))", "{{route}}")],
              unit="reqps"),
        panel("Share of 5xx answers", [
            query('sum(rate(sanctum_http_requests_total{status="5xx"}[5m]))'
                  " / sum(rate(sanctum_http_requests_total[5m]))", "5xx"),
            query('sum(rate(sanctum_http_requests_total{status="4xx"}[5m]))'
                  " / sum(rate(sanctum_http_requests_total[5m]))", "4xx")],
              unit="percentunit"),
        panel("Latency", [
            query(p(0.5, "sanctum_http_request_duration_seconds_bucket"), "p50"),
            query(p(0.95, "sanctum_http_request_duration_seconds_bucket"), "p95"),
            query(p(0.99, "sanctum_http_request_duration_seconds_bucket"), "p99")], unit="s"),
    ),
    row(
        "Services (rate, errors, duration)",
        panel("RPC calls per second", [
            query("sum by (service) (rate(sanctum_rpc_requests_total[5m]))", "{{service}}")],
              unit="reqps"),
        panel("RPC errors per second", [
            query('sum by (service) (rate(sanctum_rpc_requests_total{outcome="error"}[5m]))',
                  "{{service}}")],
              unit="reqps", description="Unexpected errors only; refusals (404, 409) are not."),
        panel("RPC p99", [
            query(p(0.99, "sanctum_rpc_duration_seconds_bucket", by="service"), "{{service}}")],
              unit="s"),
        panel("Events handled per second", [
            query("sum by (service, outcome) (rate(sanctum_events_handled_total[5m]))",
                  "{{service}} {{outcome}}")], unit="ops"),
        panel("Event batch p99", [
            query(p(0.99, "sanctum_event_batch_duration_seconds_bucket", by="service"),
                  "{{service}}")], unit="s"),
        panel("Events published per second", [
            query("sum by (service) (rate(sanctum_events_published_total[5m]))", "{{service}}")],
              unit="ops"),
    ),
    row(
        "Product",
        panel("Log-ins (per 5 min)", [
            query("sum by (outcome) (increase(sanctum_logins_total[5m]))", "{{outcome}}")]),
        panel("Mood shifts logged (per 5 min)", [
            query("sum(increase(sanctum_mood_shifts_logged_total[5m]))", "shifts")]),
        panel("Reminders and exports (per 5 min)", [
            query("sum by (kind) (increase(sanctum_reminders_fired_total[5m]))",
                  "reminder {{kind}}"),
            query("sum by (kind, status) (increase(sanctum_exports_finished_total[5m]))",
                  "export {{kind}} {{status}}")]),
    ),
    row(
        "Resources",
        panel("Up", [query('up{job="sanctum"}', "{{process}}")], kind="stat", width=24),
        panel("Resident memory", [
            query('process_resident_memory_bytes{job="sanctum"}', "{{process}}"),
            query('sum(process_resident_memory_bytes{job="sanctum"})', "all processes")],
              unit="bytes"),
        panel("CPU", [
            query('rate(process_cpu_seconds_total{job="sanctum"}[5m])', "{{process}}")],
              unit="percentunit", description="Share of one core."),
        panel("Database connections in use", [
            query("sum by (service) (sanctum_db_pool_connections_in_use)", "{{service}}")]),
        panel("Cache hit ratio", [
            query('sum by (service) (rate(sanctum_cache_requests_total{result="hit"}[5m]))'
                  " / sum by (service) (rate(sanctum_cache_requests_total[5m]))", "{{service}}")],
              unit="percentunit"),
        panel("Open file descriptors", [
            query('process_open_fds{job="sanctum"}', "{{process}}")]),
        panel("Time since the last successful backup", [
            query("time() - sanctum_backup_last_success_timestamp_seconds", "{{job}}")],
              unit="s"),
    ),
)


def _grafana_panel(spec: dict[str, Any], panel_id: int, x: int, y: int) -> dict[str, Any]:
    targets = [{"datasource": DATASOURCE, "refId": chr(ord("A") + index), **q}
               for index, q in enumerate(spec["queries"])]
    return {
        "id": panel_id, "type": spec["kind"], "title": spec["title"],
        "description": spec["description"], "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": spec["width"], "h": 8},
        "fieldConfig": {"defaults": {"unit": spec["unit"]}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}},
        "targets": targets,
    }


def dashboard() -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    y = 0
    for title, specs in ROWS:
        panels.append({"id": len(panels) + 1, "type": "row", "title": title, "collapsed": False,
                       "gridPos": {"x": 0, "y": y, "w": WIDTH, "h": 1}, "panels": []})
        y, x = y + 1, 0
        for spec in specs:
            if x + spec["width"] > WIDTH:
                x, y = 0, y + 8
            panels.append(_grafana_panel(spec, len(panels) + 1, x, y))
            x += spec["width"]
        y += 8
    return {
        "uid": DASHBOARD_UID, "title": "SanctumTools", "tags": ["sanctum"],
        "timezone": "utc", "schemaVersion": 39, "version": 1, "editable": True,
        "refresh": "30s", "time": {"from": "now-3h", "to": "now"},
        "templating": {"list": []}, "annotations": {"list": []},
        "panels": panels,
    }


def main() -> int:
    sys.stdout.write(json.dumps(dashboard(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One catalogue: every series the alert rules, the Grafana dashboard and the CloudWatch
agent read is a series monitoring/catalogue.py defines, with labels it carries."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import MONITORING, ROOT
from promql import problems, selectors
from test_prometheus import RULES, rules

from monitoring import agent, catalogue, grafana

DASHBOARD = MONITORING / "grafana" / "dashboards" / "sanctum.json"


def dashboard_queries(dashboard: dict) -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"]
            for target in panel.get("targets", [])]


def test_every_rule_reads_catalogue_series():
    for rule in rules():
        assert selectors(rule["expr"]), rule["alert"]
        assert problems(rule["expr"]) == [], rule["alert"]


def test_every_dashboard_query_reads_catalogue_series():
    queries = dashboard_queries(json.loads(DASHBOARD.read_text()))
    assert len(queries) > 30
    for title, expr in queries:
        assert problems(expr) == [], (title, expr)


def test_the_agent_sends_catalogue_series_to_cloudwatch():
    names = {name for name, _ in agent.CLOUDWATCH_SERIES}
    assert names <= catalogue.known_series()
    assert not {name for name in names if name.endswith("_bucket")}  # the agent drops histograms


@pytest.mark.parametrize("typo", [
    ("sanctum_alerts_sent_total", "sanctum_alert_sent_total"),
    ('{outcome="error"}', '{outcom="error"}'),
    ("sanctum_crisis_to_first_send_seconds_bucket", "sanctum_crisis_to_first_send_bucket"),
])
def test_a_typo_in_a_rule_is_caught(typo):
    """The check fails on a misspelt series or label (which Prometheus reads as nothing)."""
    old, new = typo
    text = RULES.read_text()
    assert old in text
    broken = yaml.safe_load(text.replace(old, new))
    found = [p for group in broken["groups"] for rule in group["rules"]
             for p in problems(rule["expr"])]
    assert found, typo


def test_a_typo_in_the_dashboard_is_caught():
    board = json.loads(DASHBOARD.read_text().replace("sanctum_dead_letter_messages",
                                                     "sanctum_deadletter_messages"))
    assert any(problems(expr) for _, expr in dashboard_queries(board))


def test_an_expression_prometheus_would_refuse_is_an_error():
    with pytest.raises(ValueError):
        selectors("sum(rate(sanctum_logins_total[5m])")


def test_the_committed_dashboard_is_generated():
    assert DASHBOARD.read_text() == json.dumps(grafana.dashboard(), indent=2) + "\n", (
        "stale: python -m monitoring.grafana > monitoring/grafana/dashboards/sanctum.json")


def test_the_dashboard_shows_the_crisis_pipeline_red_and_resources():
    board = json.loads(DASHBOARD.read_text())
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert rows == ["Crisis pipeline", "Gateway (rate, errors, duration)",
                    "Services (rate, errors, duration)", "Product", "Resources"]
    text = json.dumps(board)
    for series in ("sanctum_crises_detected_total", "sanctum_alerts_sent_total",
                   "sanctum_alerts_failed_total", "sanctum_crisis_to_first_send_seconds_bucket",
                   "sanctum_dead_letter_messages", "sanctum_outbox_pending_rows",
                   "sanctum_outbox_oldest_pending_age_seconds", "sanctum_queue_messages",
                   "process_resident_memory_bytes", "process_cpu_seconds_total",
                   "sanctum_db_pool_connections_in_use"):
        assert series in text, series
    uids = {t["datasource"]["uid"] for p in board["panels"] for t in p.get("targets", [])}
    assert uids == {"prometheus"}


def test_compose_provisions_grafana_with_the_datasource_and_the_dashboard():
    datasource = yaml.safe_load(
        (MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["uid"] == "prometheus"
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load(
        (MONITORING / "grafana/provisioning/dashboards/sanctum.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    grafana_volumes = services["grafana"]["volumes"]
    assert f"./monitoring/grafana/dashboards:{path}:ro" in grafana_volumes
    assert "./monitoring/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana_volumes
    for name in ("prometheus", "alertmanager", "grafana", "node-exporter"):
        assert services[name]["profiles"] == ["monitoring"], name
        image = services[name]["image"]
        assert ":" in image and not image.endswith(":latest"), image


def test_the_bench_snapshot_reads_catalogue_series():
    from monitoring import snapshot

    assert len(snapshot.expressions()) >= 10
    for expr in snapshot.expressions():
        assert problems(expr) == [], expr

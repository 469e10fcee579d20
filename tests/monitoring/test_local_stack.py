"""`make monitoring`: Prometheus and Alertmanager from the Debian packages, started as
`make run` would start them (on free ports here), load the rules and scrape every
process of the registry."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import pytest

from monitoring import local
from services import registry


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


@pytest.fixture
def monitoring_stack(tmp_path):
    stack = local.MonitoringStack(tmp_path, local.Ports(free_port(), free_port()))
    stack.start()
    try:
        stack.wait_ready(timeout=60)
        yield stack
    finally:
        stack.stop()


def test_prometheus_scrapes_every_process_and_loads_the_rules(monitoring_stack):
    urls = monitoring_stack.urls()
    deadline = time.monotonic() + 20
    while True:  # targets appear once service discovery has run
        targets = get(f"{urls['prometheus']}/api/v1/targets")["data"]["activeTargets"]
        if targets or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    scraped = {t["labels"]["process"]: t["scrapeUrl"] for t in targets if t["labels"]["job"] == "sanctum"}
    assert scraped == {p.name: f"http://127.0.0.1:{p.metrics_port}/metrics"
                       for p in registry.all_processes()}
    groups = get(f"{urls['prometheus']}/api/v1/rules")["data"]["groups"]
    names = {rule["name"] for group in groups for rule in group["rules"]}
    assert {"CrisisPipelineStalled", "ProcessDown", "BackupLate"} <= names
    alertmanagers = get(f"{urls['prometheus']}/api/v1/alertmanagers")["data"]
    assert alertmanagers["activeAlertmanagers"][0]["url"].startswith(urls["alertmanager"])


def test_alertmanager_runs_the_routing_with_empty_receivers(monitoring_stack):
    status = get(f"{monitoring_stack.urls()['alertmanager']}/api/v2/status")
    original = status["config"]["original"]
    assert "receiver: pager" in original and "pagerduty_configs" not in original

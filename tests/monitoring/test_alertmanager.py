"""Alertmanager: the routing is valid (amtool check-config), pages reach PagerDuty and
everything else email and Slack (amtool config routes test), and no secret is inline."""

from __future__ import annotations

import pytest
import yaml
from conftest import MONITORING, ROOT, run
from test_prometheus import rules

from monitoring import local

CONFIG = MONITORING / "alertmanager" / "alertmanager.yml"
SECRETS_DIR = "/etc/alertmanager/secrets/"
RECEIVER_FOR = {"page": "pager", "warning": "operators"}


def route(amtool: str, config, labels: dict[str, str], expected: str):
    pairs = [f"{key}={value}" for key, value in labels.items()]
    return run(amtool, "config", "routes", "test", f"--config.file={config}",
               f"--verify.receivers={expected}", *pairs)


def test_amtool_accepts_the_config_and_refuses_a_broken_one(amtool, tmp_path):
    result = run(amtool, "check-config", CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "alertmanager.yml"
    broken.write_text(CONFIG.read_text().replace("routing_key_file:", "routing_key_fil:"))
    assert run(amtool, "check-config", broken).returncode != 0


@pytest.mark.parametrize("labels, receiver", [
    ({"alertname": "CrisisPipelineStalled", "severity": "page"}, "pager"),
    ({"alertname": "CrisisFirstSendSlow", "severity": "page"}, "pager"),
    ({"alertname": "ProcessDown", "severity": "page", "process": "notifications"}, "pager"),
    ({"alertname": "ProcessDown", "severity": "warning", "process": "sessions"}, "operators"),
    ({"alertname": "CrisisAlertsFailing", "severity": "warning", "channel": "sms"}, "operators"),
    ({"alertname": "DeadLettersAppearing", "severity": "warning", "service": "notifications"},
     "operators"),
    ({"alertname": "BackupLate", "severity": "warning", "job": "postgres"}, "operators"),
    ({"alertname": "SomethingNew"}, "operators"),
])
def test_routes(amtool, labels, receiver):
    result = route(amtool, CONFIG, labels, receiver)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


def test_a_wrong_expectation_fails(amtool):
    """--verify.receivers really compares: a page expected at the operators fails."""
    result = route(amtool, CONFIG, {"alertname": "CrisisPipelineStalled", "severity": "page"},
                   "operators")
    assert result.returncode != 0


def test_every_rule_reaches_the_receiver_its_severity_names(amtool):
    for rule in rules():
        severity = rule["labels"]["severity"]
        result = route(amtool, CONFIG, {"alertname": rule["alert"], "severity": severity},
                       RECEIVER_FOR[severity])
        assert result.returncode == 0, (rule["alert"], result.stdout + result.stderr)


def test_pages_go_to_pagerduty_and_the_rest_to_email_and_slack():
    receivers = {r["name"]: r for r in yaml.safe_load(CONFIG.read_text())["receivers"]}
    assert set(receivers["pager"]) == {"name", "pagerduty_configs", "slack_configs"}
    assert set(receivers["operators"]) == {"name", "email_configs", "slack_configs"}


def _keys(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", key, value
            yield from _keys(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _keys(value, f"{path}[{index}]")


def test_secrets_are_files_never_values():
    config = yaml.safe_load(CONFIG.read_text())
    inline = {"routing_key", "service_key", "api_url", "slack_api_url", "smtp_auth_password",
              "auth_password", "smtp_auth_secret", "auth_secret", "api_key"}
    files = []
    for path, key, value in _keys(config):
        assert key not in inline, f"{path}: a secret inline; use {key}_file"
        if key.endswith("_file"):
            files.append(value)
    assert files and all(f.startswith(SECRETS_DIR) for f in files), files
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["alertmanager"]
    assert any(v.endswith(f":{SECRETS_DIR.rstrip('/')}:ro") for v in compose["volumes"])


def test_the_local_copy_routes_the_same_and_sends_nothing(amtool, tmp_path):
    committed = yaml.safe_load(CONFIG.read_text())
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump(local.local_alertmanager_config(committed)))
    assert run(amtool, "check-config", config).returncode == 0
    text = config.read_text()
    assert "_configs" not in text and "_file" not in text
    for rule in rules():
        severity = rule["labels"]["severity"]
        result = route(amtool, config, {"alertname": rule["alert"], "severity": severity},
                       RECEIVER_FOR[severity])
        assert result.returncode == 0, rule["alert"]

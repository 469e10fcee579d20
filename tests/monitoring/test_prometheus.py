"""Prometheus: the scrape configuration (generated from the registry) and the alert
rules, checked by promtool, with the rules' unit tests (promtool test rules)."""

from __future__ import annotations

import shutil

import yaml
from conftest import MONITORING, ROOT, run

from monitoring import scrape
from services import registry

PROMETHEUS = MONITORING / "prometheus"
RULES = PROMETHEUS / "rules" / "sanctum.yml"
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*_test.yml"))


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"]
            for rule in group["rules"]]


def test_the_committed_scrape_config_is_generated_from_the_registry():
    committed = (PROMETHEUS / "prometheus.yml").read_text()
    assert committed == scrape.to_yaml(scrape.compose_config()), (
        "monitoring/prometheus/prometheus.yml is stale: "
        "python -m monitoring.scrape compose > monitoring/prometheus/prometheus.yml")


def test_every_process_is_scraped_on_its_metrics_port():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == scrape.APP_JOB)
    targets = {tuple(c["targets"]): c["labels"][scrape.PROCESS_LABEL] for c in job["static_configs"]}
    expected = {(f"{p.name}:{p.metrics_port}",): p.name for p in registry.all_processes()}
    assert targets == expected
    ports = [p.metrics_port for p in registry.all_processes()]
    assert len(set(ports)) == len(ports) == 13


def test_compose_publishes_each_metrics_port_on_the_hosts_loopback():
    """The CloudWatch agent on the host scrapes 127.0.0.1:<port> (monitoring/agent.py)."""
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    for process in registry.all_processes():
        port = process.metrics_port
        assert f"127.0.0.1:{port}:{port}" in services[process.name]["ports"], process.name


def test_promtool_accepts_the_compose_and_the_local_configuration(promtool, tmp_path):
    result = run(promtool, "check", "config", PROMETHEUS / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout
    local = tmp_path / "prometheus.yml"
    local.write_text(scrape.to_yaml(scrape.local_config(PROMETHEUS / "rules")))
    result = run(promtool, "check", "config", local)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "127.0.0.1:3009" in local.read_text()


def test_promtool_checks_the_rules_and_refuses_a_broken_one(promtool, tmp_path):
    result = run(promtool, "check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout
    broken = tmp_path / "broken.yml"
    broken.write_text(RULES.read_text().replace("> 300", "> > 300", 1))
    assert run(promtool, "check", "rules", broken).returncode != 0


def test_rule_unit_tests_pass(promtool):
    result = run(promtool, "test", "rules", *RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_TESTS) == 2


def test_unit_tests_fail_when_a_threshold_moves(promtool, tmp_path):
    """The unit tests pin the rules: a page that would come ten times later fails them."""
    shutil.copytree(PROMETHEUS, tmp_path / "prometheus")
    moved = tmp_path / "prometheus" / "rules" / "sanctum.yml"
    moved.write_text(moved.read_text().replace(
        "max(sanctum_crisis_oldest_unsent_age_seconds) > 300",
        "max(sanctum_crisis_oldest_unsent_age_seconds) > 3000"))
    result = run(promtool, "test", "rules", tmp_path / "prometheus" / "tests" / "sanctum_test.yml")
    assert result.returncode != 0
    assert "CrisisFirstSendOverdue" in result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_staying_quiet():
    tests = [test for path in RULE_TESTS for test in yaml.safe_load(path.read_text())["tests"]]
    cases = [case for test in tests for case in test["alert_rule_test"]]
    for name in {rule["alert"] for rule in rules()}:
        mine = [case for case in cases if case["alertname"] == name]
        assert any(case["exp_alerts"] for case in mine), f"{name}: no test sees it fire"
        assert any(not case["exp_alerts"] for case in mine), f"{name}: no test sees it quiet"


def test_pages_are_the_crisis_path_and_every_alert_says_what_happened():
    paged = {(rule["alert"], rule["expr"].count("|")) for rule in rules()
             if rule["labels"]["severity"] == "page"}
    assert {name for name, _ in paged} == {"CrisisPipelineStalled", "CrisisFirstSendOverdue",
                                           "CrisisFirstSendSlow", "ProcessDown"}
    down = next(rule for rule in rules()
                if rule["alert"] == "ProcessDown" and rule["labels"]["severity"] == "page")
    assert 'process=~"gateway|mood_tracking|pattern_analysis|notifications"' in down["expr"]
    for rule in rules():
        assert rule["labels"]["severity"] in ("page", "warning"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]

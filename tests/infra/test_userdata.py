"""The hosts' first-boot script: valid bash, no secret inside, and the metrics it publishes
are the ones the alarms watch."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from infra_harness import REPO, Run, mock_password
from sanctum_infra import topology, userdata

from monitoring import catalogue

CWAGENT_CONFIG = re.compile(r"sanctum\.json <<'EOF'\n(.*?)\nEOF", re.DOTALL)


def scripts(run: Run) -> dict[str, str]:
    found = {i.name: i.inputs["userData"] for i in run.of_type("aws:ec2/instance:Instance")}
    found.update({t.name: base64.b64decode(t.inputs["userData"]).decode()
                  for t in run.of_type("aws:ec2/launchTemplate:LaunchTemplate")})
    return found


def env_file(script: str) -> dict[str, str]:
    body = script.split(f"cat >{userdata.ENV_FILE} <<EOF\n", 1)[1].split("\nEOF", 1)[0]
    return dict(line.split("=", 1) for line in body.splitlines())


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is needed to parse the script")
def test_user_data_is_valid_bash_within_the_ec2_limit(phase_run: Run) -> None:
    for name, script in scripts(phase_run).items():
        assert len(script.encode()) < userdata.USER_DATA_LIMIT, name
        result = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True,
                                check=False)
        assert result.returncode == 0, f"{name}: {result.stderr}"


def test_no_generated_secret_reaches_user_data_or_plain_inputs(phase_run: Run) -> None:
    """Generated passwords flow only to Secrets Manager and the resources that need them."""
    allowed = {"aws:secretsmanager/secretVersion:SecretVersion", "aws:rds/instance:Instance",
               "aws:elasticache/replicationGroup:ReplicationGroup", "aws:mq/broker:Broker"}
    passwords = [mock_password(f"{name}-password")
                 for name in ("database", "broker", "redis", "service-auth")]
    for resource in phase_run.custom():
        text = json.dumps(resource.inputs)
        if resource.type == "aws:ec2/launchTemplate:LaunchTemplate":
            text += base64.b64decode(resource.inputs["userData"]).decode()
        leaked = [p for p in passwords if p in text]
        assert not leaked or resource.type in allowed, resource.name
    for script in scripts(phase_run).values():
        assert "secretsmanager get-secret-value" in script


def test_environment_points_services_at_the_phase_data_stores(runs: dict[int, Run]) -> None:
    (phase1,) = scripts(runs[1]).values()
    env = env_file(phase1)
    assert env["DATABASE_URL"].endswith("@postgres:5432/sanctum")
    assert env["AMQP_URI"].startswith("pyamqp://") and "@rabbitmq:5672" in env["AMQP_URI"]
    for phase in (2, 3):
        for script in scripts(runs[phase]).values():
            env = env_file(script)
            assert "sslmode=verify-full" in env["DATABASE_URL"]
            assert env["REDIS_URL"].startswith("rediss://")
            assert env["AMQP_URI"].startswith("amqps://") and env["AMQP_URI"].endswith(":5671/")
    for name in ("JWT_PRIVATE_KEY_FILE", "JWT_PUBLIC_KEY_FILE", "SERVICE_AUTH_SECRET_FILE",
                 "EXPORTS_BUCKET", "BACKUP_BUCKET", "PSYCOPG_WAIT_FUNC"):
        assert env[name], name
    assert env["EXPORTS_BUCKET"] == runs[3].outputs["exports_bucket"]


def _agent(script: str) -> dict[str, Any]:
    match = CWAGENT_CONFIG.search(script)
    assert match
    return json.loads(match.group(1))


def test_agent_publishes_what_the_memory_and_disk_alarms_watch(phase_run: Run) -> None:
    aggregated: set[frozenset[str]] = set()
    measured: set[str] = set()
    for script in scripts(phase_run).values():
        config = _agent(script)["metrics"]
        aggregated |= {frozenset(dims) for dims in config["aggregation_dimensions"]}
        measured |= {f"{name}_{m}" for name, spec in config["metrics_collected"].items()
                     for m in spec["measurement"]}
    agent_alarms = [a for a in phase_run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                    if a.inputs.get("namespace") == catalogue.AGENT_NAMESPACE]
    assert {a.inputs["metricName"] for a in agent_alarms} >= {catalogue.MEMORY_METRIC}
    for alarm in agent_alarms:
        assert alarm.inputs["metricName"] in measured, alarm.name
        assert frozenset(alarm.inputs["dimensions"]) in aggregated, alarm.name


def test_phase1_queue_depth_metric_matches_its_alarm(runs: dict[int, Run]) -> None:
    (script,) = scripts(runs[1]).values()
    alarm = runs[1].one("aws:cloudwatch/metricAlarm:MetricAlarm", "broker-queue-depth-alarm").inputs
    assert (f"--namespace {alarm['namespace']} --metric-name {alarm['metricName']}") in script
    assert "--dimensions InstanceId=" in script and set(alarm["dimensions"]) == {"InstanceId"}
    disk = runs[1].one("aws:cloudwatch/metricAlarm:MetricAlarm", "postgres-disk-alarm").inputs
    assert disk["dimensions"]["path"] in _agent(script)["metrics"]["metrics_collected"]["disk"]["resources"]


def test_unsafe_values_are_refused() -> None:
    config = userdata.HostConfig(
        region="us-east-1", cluster="app", containers=("gateway",), deploy_uri="s3://b/deploy/",
        registry="$(reboot)", domain="api.example.com", app_log_group="/a", system_log_group="/s",
        metric_dimension="InstanceId",
        secret_ids={n: "arn:x" for n in ("database", "broker", "redis", "jwt", "service-auth")},
        endpoints=userdata.Endpoints("postgres", "redis", "rabbitmq", managed=False),
    )
    with pytest.raises(ValueError, match="unexpected characters"):
        userdata.render(config)


def test_compose_file_declares_every_container_the_hosts_start() -> None:
    compose = Path(REPO / "compose.yaml")
    if not compose.exists():
        pytest.skip("compose.yaml (issue 5) is not in the repository yet")
    services = set(yaml.safe_load(compose.read_text())["services"])
    expected = set(topology.EDGE + topology.SERVICES + topology.DATA)
    assert expected <= services, sorted(expected - services)


def test_every_phase_sets_the_profiles_and_what_compose_interpolates(runs: dict[int, Run]) -> None:
    """COMPOSE_PROFILES=data only where PostgreSQL, Redis and RabbitMQ run in containers;
    the data services' variables in every phase (compose interpolates services whose
    profile is off too, and refuses every command without them)."""
    for phase in (1, 2, 3):
        for script in scripts(runs[phase]).values():
            env = env_file(script)
            assert env["COMPOSE_PROFILES"] == ("data" if phase == 1 else "")
            for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "RABBITMQ_DEFAULT_PASS"):
                assert env[name].startswith("${"), (phase, name)
            assert "chmod 0640 /etc/sanctum/secrets/*" in script
            assert f"chgrp {userdata.CONTAINER_UID} /etc/sanctum/secrets" in script


def _app_metrics_watched(alarm: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """(metric name, dimensions) of every application series an alarm reads."""
    if alarm.get("namespace") == catalogue.APP_METRICS_NAMESPACE:
        return [(alarm["metricName"], alarm["dimensions"])]
    return [(q["metric"]["metricName"], q["metric"]["dimensions"])
            for q in alarm.get("metricQueries") or []
            if "metric" in q and q["metric"]["namespace"] == catalogue.APP_METRICS_NAMESPACE]


def test_application_alarms_watch_series_the_agent_scrapes(phase_run: Run) -> None:
    """The crisis, dead-letter and outbox alarms read the catalogue's Prometheus series
    exactly as the agent on every host declares them (name, namespace, dimensions), and
    the agent scrapes them from every process's metrics port."""
    declared: dict[str, set[frozenset[str]]] = {}
    for script in scripts(phase_run).values():
        prometheus = _agent(script)["logs"]["metrics_collected"]["prometheus"]
        emf = prometheus["emf_processor"]
        assert emf["metric_namespace"] == catalogue.APP_METRICS_NAMESPACE
        for declaration in emf["metric_declaration"]:
            for selector in declaration["metric_selectors"]:
                name = selector.strip("^$")
                declared.setdefault(name, set()).update(frozenset(d) for d in declaration["dimensions"])
        scrape = json.loads(script.split(
            f"cat >{prometheus['prometheus_config_path']} <<'EOF'\n", 1)[1].split("\nEOF", 1)[0])
        targets = {c["labels"]["process"]: c["targets"] for c in scrape["scrape_configs"][0]["static_configs"]}
        assert targets["notifications"] == ["127.0.0.1:3009"] and len(targets) == 13
    watched = [(alarm.name, metric) for alarm in phase_run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
               for metric in _app_metrics_watched(alarm.inputs)]
    assert {name for _, (name, _) in watched} >= {
        "sanctum_crises_detected_total", "sanctum_alerts_sent_total", "sanctum_alerts_failed_total",
        "sanctum_crisis_oldest_unsent_age_seconds", "sanctum_dead_letter_messages",
        "sanctum_outbox_oldest_pending_age_seconds"}
    for alarm_name, (name, dimensions) in watched:
        assert name in catalogue.known_series(), alarm_name
        assert frozenset(dimensions) in declared.get(name, set()), (alarm_name, name, dimensions)
        assert dimensions["job"] == "sanctum", alarm_name

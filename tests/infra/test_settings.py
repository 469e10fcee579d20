"""Stack config is typed and validated; a bad value stops the program with a clear message
before any resource is declared."""

from __future__ import annotations

import copy
import runpy
from typing import Any

import pulumi
import pytest
from infra_harness import INFRA, Resource, as_cli_config, run_program, stack_config
from sanctum_infra.settings import ConfigError, Settings, parse_settings


def parse(stack: str, config: dict[str, Any]) -> Settings:
    """Parses config exactly as the program receives it from the CLI."""
    cli = as_cli_config(config)
    raw = {key.split(":", 1)[1]: value for key, value in cli.items() if key.startswith("sanctum:")}
    return parse_settings(stack, cli.get("aws:region"), raw)


@pytest.mark.parametrize("phase", [1, 2, 3])
def test_real_stack_files_parse(phase: int) -> None:
    settings = parse(f"phase{phase}", stack_config(phase))
    assert settings.phase == phase
    assert settings.region == "us-east-1"
    assert settings.network.availability_zones[0] == "us-east-1a"
    assert set(settings.cluster_sizes()) == {
        1: {"host"}, 2: {"app"}, 3: {"frontend", "backend", "analytics"}}[phase]


def test_stack_file_values_override_defaults() -> None:
    settings = parse("phase3", stack_config(3))
    assert settings.cluster_sizes()["analytics"].instance_type == "c6i.large"
    assert settings.cluster_sizes()["frontend"].requests_target == 1000
    assert settings.database.read_replicas == 2
    assert settings.observability.thresholds.latency_p95_seconds == 1.0


def with_change(phase: int, key: str, path: str | None, value: Any) -> dict[str, Any]:
    config = copy.deepcopy(stack_config(phase))
    if path is None:
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
        return config
    section = config.setdefault(key, {})
    *parents, last = path.split(".")
    for part in parents:
        section = section.setdefault(part, {})
    section[last] = value
    return config


BAD_CONFIGS = [
    # (phase, key, path inside the object, value, expected words in the message)
    (1, "sanctum:phase", None, None, "sanctum:phase: required"),
    (1, "sanctum:phase", None, 4, "must be 1, 2 or 3"),
    (1, "sanctum:phase", None, "two", "sanctum:phase: expected int"),
    (1, "aws:region", None, "mars-1", "not an AWS region"),
    (1, "sanctum:domain", None, "api.example.org", "not inside zone"),
    (1, "sanctum:alertEmail", None, "ops", "not an email address"),
    (1, "sanctum:alertEmial", None, "ops@sanctumtools.com", "did you mean 'alertEmail'"),
    (1, "sanctum:network", "availabilityZones", ["us-east-1a"], "two to six distinct zones"),
    (1, "sanctum:network", "availabilityZones", ["us-east-1a", "eu-west-1b"], "not in region"),
    (1, "sanctum:network", "natGateway", 1, "did you mean 'natGateways'"),
    (1, "sanctum:network", "natGateways", "two", "natGateways: expected int"),
    (1, "sanctum:network", "adminCidrs", ["0.0.0.0/0"], "opens SSH to the whole internet"),
    (1, "sanctum:network", "cidr", "10.0.0.0/8", "from /16 to /20"),
    (2, "sanctum:network", "natGateways", 0, "need >= 1"),
    (2, "sanctum:network", "adminCidrs", ["198.51.100.0/24"], "use SSM"),
    (1, "sanctum:network", None, "10.0.0.0/16", "expected an object"),
    (1, "sanctum:compute", "clusters.host.instanceType", "huge", "not an EC2 instance type"),
    (1, "sanctum:compute", "clusters.host.desired", 2, "phase 1 runs exactly one host"),
    (2, "sanctum:compute", "clusters.frontend", {"minSize": 2}, "no such cluster in phase 2"),
    (3, "sanctum:compute", "clusters.backend.minSize", 5, "minSize <= desired <= maxSize"),
    (2, "sanctum:database", "multiAz", False, "requires a Multi-AZ database"),
    (2, "sanctum:database", "engineVersion", "14", "PostgreSQL 15"),
    (2, "sanctum:database", "readReplicas", 1, "read replicas arrive in phase 3"),
    (3, "sanctum:database", "readReplicas", 0, "phase 3 needs 1 to 5 read replicas"),
    (2, "sanctum:database", "backupRetentionDays", 40, "RDS keeps 1 to 35 days"),
    (3, "sanctum:cache", "shards", 1, "need >= 2"),
    (2, "sanctum:cache", "clusterMode", "on", "disabled, compatible or enabled"),
    (2, "sanctum:broker", "deploymentMode", "ACTIVE_STANDBY_MULTI_AZ", "deploymentMode: one of"),
    (1, "sanctum:observability", "logRetentionDays", 45, "45 is not one of"),
    (1, "sanctum:observability", "thresholds.cpuPercent", -1, "must be positive"),
    (1, "sanctum:backups", "weeklyRetentionDays", 60, "GLACIER bills 90 days"),
    (1, "sanctum:backups", "annualRetentionDays", 120, "DEEP_ARCHIVE bills 180 days"),
    (1, "sanctum:waf", "rateLimitPer5Min", 5, "rateLimitPer5Min: between 10"),
]


@pytest.mark.parametrize("phase,key,path,value,expected", BAD_CONFIGS,
                         ids=[case[-1] for case in BAD_CONFIGS])
def test_bad_value_is_named_in_the_error(phase: int, key: str, path: str | None, value: Any,
                                         expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(f"phase{phase}", with_change(phase, key, path, value))
    assert expected in str(error.value)
    assert f"Pulumi.phase{phase}.yaml" in str(error.value)


def test_all_problems_are_reported_at_once() -> None:
    config = with_change(2, "sanctum:database", "multiAz", False)
    config["sanctum:alertEmail"] = "nobody"
    config["sanctum:observability"] = {"logRetentionDays": 10}
    with pytest.raises(ConfigError) as error:
        parse("phase2", config)
    assert len(error.value.problems) == 3


def test_program_stops_before_declaring_any_resource() -> None:
    from sanctum_infra.program import run

    config = with_change(2, "sanctum:database", "multiAz", False)
    registered: list[Resource] = []
    with pytest.raises(pulumi.RunError, match="requires a Multi-AZ database") as error:
        run_program("phase2", config, run, sink=registered)
    assert "Traceback" not in str(error.value)
    assert registered == []
    run_program("phase2", stack_config(2), run, sink=registered)
    assert len(registered) > 100  # the same recording sees a valid program's resources


def test_main_module_is_the_program(runs: dict[int, Any]) -> None:
    """`pulumi up` runs infra/__main__.py: it declares the same resources as the tests see."""
    recorded = run_program("phase1", stack_config(1),
                           lambda: runpy.run_path(str(INFRA / "__main__.py"), run_name="__main__") and None)
    assert sorted(r.urn for r in recorded.resources) == sorted(r.urn for r in runs[1].resources)


def test_main_module_reports_a_bad_config() -> None:
    with pytest.raises(pulumi.RunError, match="natGateways"):
        run_program("phase3", with_change(3, "sanctum:network", "natGateways", 0),
                    lambda: runpy.run_path(str(INFRA / "__main__.py"), run_name="__main__"))

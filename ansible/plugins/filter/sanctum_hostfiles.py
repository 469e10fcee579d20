"""Filters that render the host files the first-boot script also writes.

The text comes from infra/sanctum_infra/hostfiles.py and metrics.py (standard library
only, loaded here by path), so Ansible and the user data write the same bytes: the
Docker daemon settings, root's Docker client configuration (ECR credential helper) and
the CloudWatch agent configuration.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

INFRA = Path(__file__).resolve().parents[3] / "infra" / "sanctum_infra"


def _load(name):
    key = f"sanctum_infra_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, INFRA / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def docker_daemon_json(region, log_group, instance_id):
    return _load("hostfiles").docker_daemon_json(str(region), str(log_group), str(instance_id))


def docker_client_config(registry):
    return _load("hostfiles").docker_client_config(str(registry))


def cloudwatch_agent_json(dimension, disk_paths, log_group):
    config = _load("metrics").agent_config(
        str(dimension), tuple(str(p) for p in disk_paths), str(log_group)
    )
    return _load("hostfiles").cloudwatch_agent_json(config)


class FilterModule:
    def filters(self):
        return {
            "sanctum_docker_daemon_json": docker_daemon_json,
            "sanctum_docker_client_config": docker_client_config,
            "sanctum_cloudwatch_agent_json": cloudwatch_agent_json,
        }

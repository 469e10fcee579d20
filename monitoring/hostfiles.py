"""Host files written both at first boot (infra/sanctum_infra/userdata.py) and by
Ansible: one definition.

The first-boot script writes these files on every host; Ansible's docker and
cloudwatch_agent roles write the same text through a filter plugin that imports
this module (ansible/plugins/filter/sanctum_hostfiles.py), so a host gets the
same bytes whichever path configured it, and Ansible finds nothing to change on a
host that just booted.
"""

from __future__ import annotations

import json
from typing import Any

DOCKER_DAEMON_JSON = "/etc/docker/daemon.json"
DOCKER_CLIENT_CONFIG = "/root/.docker/config.json"
CLOUDWATCH_AGENT_HOME = "/opt/aws/amazon-cloudwatch-agent"
CLOUDWATCH_AGENT_CONFIG = f"{CLOUDWATCH_AGENT_HOME}/etc/sanctum.json"
# The agent's Prometheus scrape configuration (monitoring/agent.py), which the agent
# configuration above names.
CLOUDWATCH_AGENT_PROMETHEUS_CONFIG = f"{CLOUDWATCH_AGENT_HOME}/etc/sanctum-prometheus.yaml"


def _text(document: dict[str, Any]) -> str:
    # Ansible's to_nice_json layout, ending with a newline (as a heredoc writes it).
    return json.dumps(document, indent=4, sort_keys=True) + "\n"


def docker_daemon_json(region: str, log_group: str, instance_id: str) -> str:
    """Docker daemon settings: every container logs to CloudWatch, one stream per
    host and container; containers keep running while the daemon restarts."""
    return _text({
        "log-driver": "awslogs",
        "log-opts": {
            "awslogs-region": region,
            "awslogs-group": log_group,
            "tag": instance_id + "/{{.Name}}",
        },
        "live-restore": True,
        "no-new-privileges": True,
    })


def docker_client_config(registry: str) -> str:
    """root's Docker client: ECR credentials from the instance role through the
    credential helper (no stored password, no 12-hour token to renew)."""
    return _text({"credHelpers": {registry: "ecr-login"}})


def _compact(document: dict[str, Any]) -> str:
    # The agent's two files go into the first-boot script whole: compact, because EC2
    # refuses user data over 16 KiB (infra/sanctum_infra/userdata.py).
    return json.dumps(document, separators=(",", ":"), sort_keys=True) + "\n"


def cloudwatch_agent_json(config: dict[str, Any]) -> str:
    """The CloudWatch agent configuration (monitoring.agent) as the file's text."""
    return _compact(config)


def cloudwatch_agent_prometheus(config: dict[str, Any]) -> str:
    """The agent's Prometheus scrape configuration (monitoring.agent) as the file's text:
    JSON, which Prometheus reads as YAML."""
    return _compact(config)

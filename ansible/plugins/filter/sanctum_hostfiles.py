"""Filters that render the host files the first-boot script also writes.

The text comes from the repository's monitoring package (monitoring/hostfiles.py
and agent.py, standard library only), so Ansible and the user data write the same
bytes: the Docker daemon settings, root's Docker client configuration (ECR
credential helper), the CloudWatch agent configuration and its Prometheus scrape
file. Ansible runs from the project's virtualenv, where the package is installed.
"""

from __future__ import annotations

from monitoring import agent, hostfiles


def docker_daemon_json(region, log_group, instance_id):
    return hostfiles.docker_daemon_json(str(region), str(log_group), str(instance_id))


def docker_client_config(registry):
    return hostfiles.docker_client_config(str(registry))


def cloudwatch_agent_json(dimension, disk_paths, log_group):
    config = agent.agent_config(str(dimension), tuple(str(p) for p in disk_paths), str(log_group))
    return hostfiles.cloudwatch_agent_json(config)


def cloudwatch_agent_prometheus(_dimension=None):
    """The agent's Prometheus scrape configuration (the same on every host)."""
    return hostfiles.cloudwatch_agent_prometheus(agent.prometheus_scrape_config())


class FilterModule:
    def filters(self):
        return {
            "sanctum_docker_daemon_json": docker_daemon_json,
            "sanctum_docker_client_config": docker_client_config,
            "sanctum_cloudwatch_agent_json": cloudwatch_agent_json,
            "sanctum_cloudwatch_agent_prometheus": cloudwatch_agent_prometheus,
        }

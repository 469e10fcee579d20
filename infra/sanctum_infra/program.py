"""The Pulumi program: settings first, then the tiers in dependency order, then outputs."""

from __future__ import annotations

from typing import Any

import pulumi

from .backup import DEPLOY_PREFIX, Backup
from .compute import Compute
from .dashboard import build_dashboard
from .data import Data, broker_endpoint
from .edge import Edge
from .network import Network
from .observability import Observability
from .security import Security
from .settings import ConfigError, Settings, load_settings


def run() -> dict[str, Any]:
    """Entry point of __main__.py: a bad config stops here, before any resource."""
    try:
        settings = load_settings()
    except ConfigError as error:
        # RunError prints the message alone, without a Python traceback.
        raise pulumi.RunError(str(error)) from None
    outputs = build(settings)
    for name, value in outputs.items():
        pulumi.export(name, value)
    return outputs


def build(settings: Settings) -> dict[str, Any]:
    security = Security("security", settings)
    network = Network("network", settings, security.keys["logs"].arn)
    observability = Observability("observability", settings, security.keys["logs"])
    data = Data("data", settings, network, security, observability)
    backup = Backup("backup", settings, security, data, observability)
    edge = Edge("edge", settings, network, security.web_acl.arn, observability)
    compute = Compute(
        "compute", settings, network=network, security=security, data=data, backup=backup,
        edge=edge, observability=observability,
    )
    build_dashboard(observability, edge, compute, data)
    return {
        **_common_outputs(settings, security, network, observability, data, backup, edge, compute),
        **_host_outputs(settings, compute),
        **_data_outputs(data),
    }


def _common_outputs(
    settings: Settings, security: Security, network: Network, observability: Observability,
    data: Data, backup: Backup, edge: Edge, compute: Compute,
) -> dict[str, Any]:
    log_groups = {name: group.name for name, group in observability.log_groups.items()}
    log_groups.update(flow=network.flow_log_group.name, waf=security.waf_log_group.name)
    return {
        "phase": settings.phase,
        "region": settings.region,
        "url": edge.url,
        "entry_dns": edge.load_balancer.dns_name,
        "vpc_id": network.vpc.id,
        "private_subnet_ids": network.private_subnet_ids,
        "exports_bucket": data.exports_bucket.bucket,
        "backup_bucket": backup.bucket.bucket,
        "deploy_prefix": pulumi.Output.concat("s3://", backup.bucket.bucket, "/", DEPLOY_PREFIX),
        "image_repository_url": compute.repository.repository_url,
        "alarm_topic_arn": observability.topic.arn,
        "dashboard_name": settings.prefix,
        "log_groups": log_groups,
        "secret_arns": {name: secret.arn for name, secret in security.secrets.items()},
        "web_acl_arn": security.web_acl.arn,
    }


def _host_outputs(settings: Settings, compute: Compute) -> dict[str, Any]:
    if compute.instance is not None:
        return {
            "instance_id": compute.instance.id,
            "public_ip": compute.public_ip,
            "host_dns": f"host.{settings.domain}",
            # Debian's cloud images log in as `admin`.
            "ssh_user": "admin",
        }
    return {"asg_names": {name: group.name for name, group in compute.groups.items()}}


def _data_outputs(data: Data) -> dict[str, Any]:
    if data.database is None or data.cache is None or data.broker is None:
        # Phase 1: the containers on the host, by compose service name.
        return {"db_endpoint": "postgres:5432", "redis_endpoint": "redis:6379",
                "broker_endpoint": "amqp://rabbitmq:5672",
                "data_volume_ids": {name: volume.id for name, volume in data.volumes.items()}}
    return {
        "db_endpoint": data.database.endpoint,
        "db_reader_endpoints": [replica.endpoint for replica in data.replicas],
        "redis_endpoint": pulumi.Output.concat(data.cache_endpoint, ":6379"),
        "broker_endpoint": broker_endpoint(data.broker),
    }

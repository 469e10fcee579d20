"""The CloudWatch dashboard, built last over every tier: request rate, errors,
latency percentiles, database performance and the hosts' CPU."""

from __future__ import annotations

import functools
from typing import Any

import pulumi
import pulumi_aws as aws

from monitoring import catalogue

from .compute import Compute
from .data import VOLUME_MOUNTS, Data
from .edge import ALB, Edge
from .observability import Observability


def build_dashboard(observability: Observability, edge: Edge, compute: Compute,
                    data: Data) -> aws.cloudwatch.Dashboard:
    """Built last, over every tier: request rate, errors, latency, the database, the hosts."""
    lb = edge.load_balancer.arn_suffix
    panel = functools.partial(widget, observability.settings.region)
    errors = ("HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_4XX_Count")
    widgets = [
        panel("Request rate (per minute)",
              [[ALB, "RequestCount", "LoadBalancer", lb, {"stat": "Sum", "period": 60}]]),
        panel("Errors", [[ALB, name, "LoadBalancer", lb, {"stat": "Sum"}] for name in errors]),
        panel("Latency", [[ALB, "TargetResponseTime", "LoadBalancer", lb, {"stat": stat}]
                          for stat in ("p50", "p95", "p99")]),
        panel("Database", _database_metrics(compute, data)),
        panel("Hosts CPU", [["AWS/EC2", "CPUUtilization", host.dimension, host.dimension_value]
                            for host in compute.host_groups]),
    ]
    body = {"widgets": [
        {**item, "x": 12 * (index % 2), "y": 6 * (index // 2), "width": 12, "height": 6}
        for index, item in enumerate(widgets)
    ]}
    return aws.cloudwatch.Dashboard(
        "dashboard",
        dashboard_name=observability.settings.prefix,
        dashboard_body=pulumi.Output.json_dumps(body),
        opts=observability.child(),
    )

def _database_metrics(compute: Compute, data: Data) -> list[list[Any]]:
    if data.database is None:
        host = compute.host_groups[0]
        return [[catalogue.AGENT_NAMESPACE, catalogue.DISK_METRIC, host.dimension,
                 host.dimension_value, "path", VOLUME_MOUNTS["postgres"]],
                [catalogue.APP_NAMESPACE, catalogue.QUEUE_DEPTH_METRIC, host.dimension,
                 host.dimension_value]]
    db = data.database_identifier
    return [["AWS/RDS", name, "DBInstanceIdentifier", db] for name in
            ("CPUUtilization", "DatabaseConnections", "ReadLatency", "WriteLatency",
             "ReadIOPS", "WriteIOPS")]


def widget(region: str, title: str, metric_rows: list[list[Any]]) -> dict[str, Any]:
    return {"type": "metric", "properties": {
        "title": title, "metrics": metric_rows, "view": "timeSeries", "stat": "Average",
        "period": 60, "region": region}}

"""Observability tier: log groups, the alarm topic and its subscribers, alarms on every
tier, and a dashboard (request rate, errors, latency percentiles, database performance)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from . import metrics
from .base import Tier, assume_role_policy
from .data import VOLUME_MOUNTS, Data
from .edge import Edge
from .settings import Settings

if TYPE_CHECKING:
    from .compute import Compute

GIB = 1024**3
ALB = "AWS/ApplicationELB"


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: Mapping[str, pulumi.Input[str]]


class Observability(Tier):
    kind = "Observability"

    def __init__(
        self,
        name: str,
        settings: Settings,
        logs_key: aws.kms.Key,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, settings, opts)
        stack = settings.stack
        self.log_groups = {
            "app": self.log_group("app-logs", f"/sanctum/{stack}/app", logs_key.arn),
            "system": self.log_group("system-logs", f"/sanctum/{stack}/system", logs_key.arn),
        }
        self.topic = aws.sns.Topic(
            "alarms",
            kms_master_key_id=logs_key.arn,
            tags=self.tags("alarms"),
            opts=self.child(),
        )
        self._subscribers()
        self.alarms: list[aws.cloudwatch.MetricAlarm] = []
        self.dashboard: aws.cloudwatch.Dashboard | None = None

    def _subscribers(self) -> None:
        s = self.settings
        aws.sns.TopicSubscription(
            "alarm-email", topic=self.topic.arn, protocol="email", endpoint=s.alert_email,
            opts=self.child(),
        )
        if s.pagerduty_endpoint:
            aws.sns.TopicSubscription(
                "alarm-pagerduty", topic=self.topic.arn, protocol="https",
                endpoint=s.pagerduty_endpoint, endpoint_auto_confirms=True, opts=self.child(),
            )
        if s.slack:
            role = aws.iam.Role(
                "chatbot-role", assume_role_policy=assume_role_policy("chatbot.amazonaws.com"),
                tags=self.tags("chatbot-role"), opts=self.child(),
            )
            aws.chatbot.SlackChannelConfiguration(
                "alarm-slack",
                configuration_name=f"{s.prefix}-alarms",
                iam_role_arn=role.arn,
                slack_team_id=s.slack.team_id,
                slack_channel_id=s.slack.channel_id,
                sns_topic_arns=[self.topic.arn],
                guardrail_policy_arns=["arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"],
                tags=self.tags("alarm-slack"),
                opts=self.child(),
            )

    # --- alarms ----------------------------------------------------------------------

    def watch(self, edge: Edge, compute: Compute, data: Data) -> None:
        """Declares the alarms and the dashboard once every watched tier exists."""
        self._entry_alarms(edge)
        for host in compute.host_groups:
            self._host_alarms(host.name, host.dimension, host.dimension_value)
        if data.database is None:
            self._single_host_alarms(compute)
        else:
            self._managed_data_alarms(data)
        self._backup_alarm()
        self.dashboard = self._dashboard(edge, compute, data)
        self.register_outputs({"alarm_topic_arn": self.topic.arn})

    def _alarm(
        self,
        name: str,
        description: str,
        metric: Metric,
        threshold: float,
        *,
        statistic: str = "Average",
        comparison: str = "GreaterThanThreshold",
        periods: int = 3,
        period: int = 60,
        missing: str = "missing",
    ) -> None:
        percentile = statistic.startswith("p")
        self.alarms.append(aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            alarm_description=description,
            namespace=metric.namespace,
            metric_name=metric.name,
            dimensions=metric.dimensions,
            statistic=None if percentile else statistic,
            extended_statistic=statistic if percentile else None,
            period=period,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            threshold=threshold,
            comparison_operator=comparison,
            treat_missing_data=missing,
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            tags=self.tags(f"{name}-alarm"),
            opts=self.child(),
        ))

    def _entry_alarms(self, edge: Edge) -> None:
        t = self.settings.observability.thresholds
        lb = {"LoadBalancer": edge.load_balancer.arn_suffix}
        latency = Metric(ALB, "TargetResponseTime", lb)
        self._alarm("latency-p95", "p95 latency above target", latency,
                    t.latency_p95_seconds, statistic="p95", periods=5)
        self._alarm("latency-p99", "p99 latency above target", latency,
                    t.latency_p99_seconds, statistic="p99", periods=5)
        self._error_rate_alarm(edge)
        targets = {**lb, "TargetGroup": edge.target_group.arn_suffix}
        self._alarm("unhealthy-hosts", "a host behind the load balancer fails its health check",
                    Metric(ALB, "UnHealthyHostCount", targets), 0, statistic="Maximum")

    def _error_rate_alarm(self, edge: Edge) -> None:
        lb = {"LoadBalancer": edge.load_balancer.arn_suffix}

        def count(query_id: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgsDict:
            return {"id": query_id, "metric": {
                "namespace": ALB, "metric_name": metric_name, "dimensions": lb,
                "period": 60, "stat": "Sum"}}

        self.alarms.append(aws.cloudwatch.MetricAlarm(
            "error-rate-alarm",
            alarm_description="share of requests answered 5xx above target",
            metric_queries=[
                count("target5xx", "HTTPCode_Target_5XX_Count"),
                count("elb5xx", "HTTPCode_ELB_5XX_Count"),
                count("requests", "RequestCount"),
                {"id": "rate", "label": "5xx error rate (%)", "return_data": True,
                 "expression": "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / FILL(requests, 1)"},
            ],
            threshold=self.settings.observability.thresholds.error_rate_percent,
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=5,
            datapoints_to_alarm=3,
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            tags=self.tags("error-rate-alarm"),
            opts=self.child(),
        ))

    def _host_alarms(self, name: str, dimension: str, value: pulumi.Input[str]) -> None:
        t = self.settings.observability.thresholds
        dims = {dimension: value}
        self._alarm(f"{name}-cpu", f"{name} hosts: CPU high",
                    Metric("AWS/EC2", "CPUUtilization", dims), t.cpu_percent, periods=5)
        self._alarm(f"{name}-memory", f"{name} hosts: memory high",
                    Metric(metrics.AGENT_NAMESPACE, metrics.MEMORY_METRIC, dims),
                    t.memory_percent, periods=5)

    def _single_host_alarms(self, compute: Compute) -> None:
        t, host = self.settings.observability.thresholds, compute.host_groups[0]
        disk = Metric(metrics.AGENT_NAMESPACE, metrics.DISK_METRIC,
                      {host.dimension: host.dimension_value, "path": VOLUME_MOUNTS["postgres"]})
        self._alarm("postgres-disk", "PostgreSQL volume filling up", disk, t.disk_used_percent)
        queue = Metric(metrics.APP_NAMESPACE, metrics.QUEUE_DEPTH_METRIC,
                       {host.dimension: host.dimension_value})
        self._alarm("broker-queue-depth", "messages piling up in RabbitMQ", queue,
                    t.queue_depth, statistic="Maximum", periods=5)

    def _managed_data_alarms(self, data: Data) -> None:
        t = self.settings.observability.thresholds
        db = {"DBInstanceIdentifier": data.database_identifier}
        self._alarm("database-cpu", "RDS CPU high", Metric("AWS/RDS", "CPUUtilization", db),
                    t.cpu_percent, periods=5)
        self._alarm("database-free-storage", "RDS free storage low",
                    Metric("AWS/RDS", "FreeStorageSpace", db), t.free_storage_gb * GIB,
                    comparison="LessThanThreshold")
        self._alarm("database-memory", "RDS freeable memory low",
                    Metric("AWS/RDS", "FreeableMemory", db), 256 * 1024**2,
                    comparison="LessThanThreshold", periods=5)
        for index in range(len(data.replicas)):
            replica = {"DBInstanceIdentifier": data.replica_identifier(index)}
            self._alarm(f"replica-{index + 1}-lag", "read replica falling behind",
                        Metric("AWS/RDS", "ReplicaLag", replica), t.replica_lag_seconds, periods=5)
        for node in data.cache_nodes.node_ids:
            self._alarm(f"{node.removeprefix(self.settings.prefix + '-')}-memory",
                        "Redis memory high",
                        Metric("AWS/ElastiCache", "DatabaseMemoryUsagePercentage",
                               {"CacheClusterId": node}), t.memory_percent)
        broker = {"Broker": data.broker_name}
        self._alarm("broker-queue-depth", "messages piling up in RabbitMQ",
                    Metric("AWS/AmazonMQ", "MessageCount", broker), t.queue_depth,
                    statistic="Maximum", periods=5)

    def _backup_alarm(self) -> None:
        # No successful PostgreSQL dump for 26 hours (a daily job, with slack); a job
        # that stopped reporting at all counts as failing.
        success = Metric(metrics.BACKUP_NAMESPACE, metrics.BACKUP_SUCCESS_METRIC,
                         {"Job": "postgres", "Environment": f"phase{self.settings.phase}"})
        self._alarm("backup-postgres", "no successful PostgreSQL backup for 26 hours", success,
                    1, statistic="Sum", comparison="LessThanThreshold", periods=26, period=3600,
                    missing="breaching")

    # --- dashboard -------------------------------------------------------------------

    def _dashboard(self, edge: Edge, compute: Compute, data: Data) -> aws.cloudwatch.Dashboard:
        lb = edge.load_balancer.arn_suffix
        panel = functools.partial(widget, self.settings.region)
        errors = ("HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_4XX_Count")
        widgets = [
            panel("Request rate (per minute)",
                  [[ALB, "RequestCount", "LoadBalancer", lb, {"stat": "Sum", "period": 60}]]),
            panel("Errors", [[ALB, name, "LoadBalancer", lb, {"stat": "Sum"}] for name in errors]),
            panel("Latency", [[ALB, "TargetResponseTime", "LoadBalancer", lb, {"stat": stat}]
                              for stat in ("p50", "p95", "p99")]),
            panel("Database", self._database_metrics(compute, data)),
            panel("Hosts CPU", [["AWS/EC2", "CPUUtilization", host.dimension, host.dimension_value]
                                for host in compute.host_groups]),
        ]
        body = {"widgets": [
            {**item, "x": 12 * (index % 2), "y": 6 * (index // 2), "width": 12, "height": 6}
            for index, item in enumerate(widgets)
        ]}
        return aws.cloudwatch.Dashboard(
            "dashboard",
            dashboard_name=self.settings.prefix,
            dashboard_body=pulumi.Output.json_dumps(body),
            opts=self.child(),
        )

    def _database_metrics(self, compute: Compute, data: Data) -> list[list[Any]]:
        if data.database is None:
            host = compute.host_groups[0]
            return [[metrics.AGENT_NAMESPACE, metrics.DISK_METRIC, host.dimension,
                     host.dimension_value, "path", VOLUME_MOUNTS["postgres"]],
                    [metrics.APP_NAMESPACE, metrics.QUEUE_DEPTH_METRIC, host.dimension,
                     host.dimension_value]]
        db = data.database_identifier
        return [["AWS/RDS", name, "DBInstanceIdentifier", db] for name in
                ("CPUUtilization", "DatabaseConnections", "ReadLatency", "WriteLatency",
                 "ReadIOPS", "WriteIOPS")]


def widget(region: str, title: str, metric_rows: list[list[Any]]) -> dict[str, Any]:
    return {"type": "metric", "properties": {
        "title": title, "metrics": metric_rows, "view": "timeSeries", "stat": "Average",
        "period": 60, "region": region}}

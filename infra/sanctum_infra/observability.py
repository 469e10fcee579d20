"""Observability tier, built first: log groups, the alarm topic and its subscribers,
and ``alarm``, with which every tier declares the alarms on what it runs (each
tier's alarms are built with the tier, so no tier needs another's insides). The
dashboard is built last, over all of them (dashboard.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .base import Tier, assume_role_policy
from .settings import Settings


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
        self.register_outputs({"alarm_topic_arn": self.topic.arn})

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

    def alarm(
        self,
        owner: Tier,
        name: str,
        description: str,
        threshold: float,
        *,
        metric: Metric | None = None,
        queries: list[Any] | None = None,
        statistic: str = "Average",
        comparison: str = "GreaterThanThreshold",
        periods: int = 3,
        datapoints: int | None = None,
        period: int = 60,
        missing: str = "missing",
    ) -> aws.cloudwatch.MetricAlarm:
        """An alarm on ``owner``'s resources, notifying the alarm topic on change:
        on one ``metric``, or on an expression over metric ``queries``."""
        percentile = statistic.startswith("p")
        on_metric: dict[str, Any] = {} if metric is None else {
            "namespace": metric.namespace, "metric_name": metric.name,
            "dimensions": metric.dimensions, "period": period,
            "statistic": None if percentile else statistic,
            "extended_statistic": statistic if percentile else None,
        }
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            alarm_description=description,
            metric_queries=queries,
            evaluation_periods=periods,
            datapoints_to_alarm=datapoints or periods,
            threshold=threshold,
            comparison_operator=comparison,
            treat_missing_data=missing,
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            tags=owner.tags(f"{name}-alarm"),
            opts=owner.child(),
            **on_metric,
        )
        self.alarms.append(alarm)
        return alarm

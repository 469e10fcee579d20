"""What every tier shares: the component base class, tags, log groups and policy JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from .settings import Settings

PROJECT = "sanctumtools"
# Every taggable resource carries these; the guardrail policy pack enforces them.
REQUIRED_TAGS = ("Project", "Stack", "Phase", "Tier", "ManagedBy")


def tags_for(settings: Settings, tier: str, name: str) -> dict[str, str]:
    return {
        "Name": f"{settings.prefix}-{name}",
        "Project": PROJECT,
        "Stack": settings.stack,
        "Phase": str(settings.phase),
        "Tier": tier,
        "ManagedBy": "pulumi",
    }


class Tier(pulumi.ComponentResource):
    """One tier of the architecture; its resources are its children."""

    kind: ClassVar[str]

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(f"sanctum:infra:{self.kind}", name, None, opts)
        self.settings = settings

    def child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def protected(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for stateful resources: neither `pulumi destroy` nor a phase change deletes them."""
        return pulumi.ResourceOptions(parent=self, protect=True, **kwargs)

    def tags(self, name: str) -> dict[str, str]:
        return tags_for(self.settings, self.kind.lower(), name)

    def log_group(self, name: str, group_name: str, kms_key_arn: pulumi.Input[str]) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            name,
            name=group_name,
            retention_in_days=self.settings.observability.log_retention_days,
            kms_key_id=kms_key_arn,
            tags=self.tags(name),
            opts=self.child(),
        )


def statement(
    actions: Sequence[str],
    resources: Sequence[pulumi.Input[str]] | str,
    *,
    effect: str = "Allow",
    principal: dict[str, Any] | None = None,
    condition: dict[str, Any] | None = None,
    sid: str | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"Effect": effect, "Action": list(actions), "Resource": resources}
    if principal is not None:
        result["Principal"] = principal
    if condition is not None:
        result["Condition"] = condition
    if sid is not None:
        result["Sid"] = sid
    return result


def policy_document(*statements: dict[str, Any]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(service: str) -> str:
    import json

    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": service},
        }],
    })

"""Security tier: KMS keys, Secrets Manager secrets and the WAF web ACL."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .base import Tier, policy_document, statement
from .settings import Settings

KEY_PURPOSES = ("rds", "ebs", "s3", "logs", "secrets")
SECRET_NAMES = ("database", "broker", "redis", "jwt", "service-auth")
APP_USER = "sanctum"
# Secrets whose value Pulumi generates. The JWT key pair is uploaded by the operator
# (see infra/README.md), so its private key never passes through Pulumi state.
GENERATED_SECRETS = ("database", "broker", "redis", "service-auth")
# Managed rule groups on the entry, after the per-IP rate limit.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)


class Security(Tier):
    kind = "Security"

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, settings, opts)
        self.account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).account_id
        self.keys = {purpose: self._key(purpose) for purpose in KEY_PURPOSES}
        self.passwords = {name: self._password(name) for name in GENERATED_SECRETS}
        self.secrets = {name: self._secret(name) for name in SECRET_NAMES}
        self.web_acl = self._web_acl()
        self.waf_log_group = self.log_group(
            "waf-logs", f"aws-waf-logs-{settings.prefix}", self.keys["logs"].arn
        )
        self._waf_logging()
        self.register_outputs({"web_acl_arn": self.web_acl.arn})

    # --- KMS ---------------------------------------------------------------------------

    def _key(self, purpose: str) -> aws.kms.Key:
        key = aws.kms.Key(
            f"{purpose}-key",
            description=f"{self.settings.prefix}: {purpose} encryption",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=self._key_policy(purpose),
            tags=self.tags(f"{purpose}-key"),
            opts=self.protected(),
        )
        aws.kms.Alias(
            f"{purpose}-key-alias",
            name=f"alias/{self.settings.prefix}-{purpose}",
            target_key_id=key.key_id,
            opts=self.child(),
        )
        return key

    def _key_policy(self, purpose: str) -> pulumi.Output[str]:
        root = pulumi.Output.concat("arn:aws:iam::", self.account_id, ":root")
        statements = [statement(["kms:*"], "*", principal={"AWS": root}, sid="AccountAdministers")]
        statements += self._service_grants(purpose)
        return policy_document(*statements)

    def _service_grants(self, purpose: str) -> list[dict[str, Any]]:
        region, account = self.settings.region, self.account_id
        use = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        if purpose == "logs":
            log_arns = pulumi.Output.concat("arn:aws:logs:", region, ":", account, ":log-group:*")
            return [
                statement(use, "*", principal={"Service": f"logs.{region}.amazonaws.com"},
                          condition={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_arns}},
                          sid="CloudWatchLogsEncrypt"),
                # Alarms publish to the SNS topic encrypted with this key.
                statement(["kms:Decrypt", "kms:GenerateDataKey*"], "*",
                          principal={"Service": "cloudwatch.amazonaws.com"}, sid="AlarmsPublish"),
            ]
        if purpose == "ebs":
            # Auto Scaling launches instances with volumes encrypted by this key through
            # its service-linked role; without these grants launches fail.
            asg_role = pulumi.Output.concat(
                "arn:aws:iam::", account,
                ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
            )
            return [
                statement(use, "*", principal={"AWS": asg_role}, sid="AutoScalingUse"),
                statement(["kms:CreateGrant"], "*", principal={"AWS": asg_role},
                          condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
                          sid="AutoScalingGrant"),
            ]
        return []

    # --- Secrets Manager ---------------------------------------------------------------

    def _password(self, name: str) -> pulumi.Output[str]:
        password = random.RandomPassword(
            f"{name}-password",
            length=48 if name == "service-auth" else 32,
            # Broker and Redis passwords may not contain most punctuation.
            special=False,
            opts=self.child(),
        )
        return password.result

    def _secret(self, name: str) -> aws.secretsmanager.Secret:
        secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            name=f"{self.settings.prefix}/{name}",
            description=f"SanctumTools {name} credentials",
            kms_key_id=self.keys["secrets"].arn,
            recovery_window_in_days=30,
            tags=self.tags(f"{name}-secret"),
            opts=self.protected(),
        )
        if name in GENERATED_SECRETS:
            aws.secretsmanager.SecretVersion(
                f"{name}-secret-value",
                secret_id=secret.id,
                secret_string=pulumi.Output.json_dumps(self._secret_value(name)),
                opts=self.child(),
            )
        return secret

    def _secret_value(self, name: str) -> dict[str, Any]:
        password = self.passwords[name]
        values: dict[str, dict[str, Any]] = {
            "database": {"username": APP_USER, "password": password, "dbname": APP_USER},
            "broker": {"username": APP_USER, "password": password},
            "redis": {"auth_token": password},
            "service-auth": {"secret": password},
        }
        return values[name]

    # --- WAF -----------------------------------------------------------------------------

    def _web_acl(self) -> aws.wafv2.WebAcl:
        metric = self.settings.prefix.replace("-", "")
        return aws.wafv2.WebAcl(
            "web-acl",
            scope="REGIONAL",
            description="SanctumTools public entry: rate limit, SQL injection, common exploits",
            default_action={"allow": {}},
            rules=[self._rate_rule()] + [
                self._managed_rule(group, priority)
                for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1)
            ],
            visibility_config={
                "cloudwatch_metrics_enabled": True,
                "metric_name": metric,
                "sampled_requests_enabled": True,
            },
            tags=self.tags("web-acl"),
            opts=self.child(),
        )

    def _rate_rule(self) -> aws.wafv2.WebAclRuleArgsDict:
        return {
            "name": "rate-limit-per-ip",
            "priority": 0,
            "action": {"block": {}},
            "statement": {
                "rate_based_statement": {
                    "limit": self.settings.waf.rate_limit_per_5_min,
                    "aggregate_key_type": "IP",
                }
            },
            "visibility_config": _rule_visibility("rate-limit-per-ip"),
        }

    def _managed_rule(self, group: str, priority: int) -> aws.wafv2.WebAclRuleArgsDict:
        statement_: aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgsDict = {
            "vendor_name": "AWS",
            "name": group,
        }
        if group == "AWSManagedRulesCommonRuleSet":
            # The common set blocks bodies over 8 KB; the gateway accepts up to 64 KB and
            # nginx enforces that limit, so this one rule only counts.
            statement_["rule_action_overrides"] = [
                {"name": "SizeRestrictions_BODY", "action_to_use": {"count": {}}}
            ]
        return {
            "name": group,
            "priority": priority,
            "override_action": {"none": {}},
            "statement": {"managed_rule_group_statement": statement_},
            "visibility_config": _rule_visibility(group),
        }

    def _waf_logging(self) -> None:
        aws.wafv2.WebAclLoggingConfiguration(
            "waf-logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.waf_log_group.arn],
            # Tokens and cookies never reach the logs.
            redacted_fields=[
                {"single_header": {"name": "authorization"}},
                {"single_header": {"name": "cookie"}},
            ],
            opts=self.child(),
        )


def _rule_visibility(name: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgsDict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": name, "sampled_requests_enabled": True}

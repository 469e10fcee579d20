"""Backup tier: the backup bucket (dailies 30 days, weekly and annual archives in Glacier)
and an AWS Backup plan for the databases' volumes or the RDS instance."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from monitoring import catalogue

from .base import Tier, assume_role_policy
from .buckets import LifecycleRule, abort_uploads_rule, private_bucket
from .data import Data
from .observability import Metric, Observability
from .security import Security
from .settings import Settings

# Key prefixes of the backup bucket: the contract with the backup tool (backup/) and
# pgBackRest (repo1-path=/wal). pgBackRest expires its own files: a lifecycle
# expiration under wal/ would delete files its catalogue still lists.
DAILY_PREFIX = "daily/"
WAL_PREFIX = "wal/"
WEEKLY_PREFIX = "weekly/"
ANNUAL_PREFIX = "annual/"
DEPLOY_PREFIX = "deploy/"
BACKUP_PREFIXES = (DAILY_PREFIX, WAL_PREFIX, WEEKLY_PREFIX, ANNUAL_PREFIX)
# Archive class per long-lived prefix; S3 bills each for a minimum duration
# (settings.ARCHIVE_MINIMUM_DAYS), so only these move out of S3 Standard.
ARCHIVE_CLASS = {WEEKLY_PREFIX: "GLACIER", ANNUAL_PREFIX: "DEEP_ARCHIVE"}
BACKUP_ROLE_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
)


def lifecycle_rules(settings: Settings) -> list[LifecycleRule]:
    b = settings.backups
    rules: list[LifecycleRule] = [
        {
            "id": "expire-daily",
            "status": "Enabled",
            "filter": {"prefix": DAILY_PREFIX},
            "expiration": {"days": b.daily_retention_days},
            "noncurrent_version_expiration": {"noncurrent_days": b.daily_retention_days},
        },
        {
            # Only what pgBackRest itself deleted: recoverable for the same 30 days.
            "id": "wal-deleted-files",
            "status": "Enabled",
            "filter": {"prefix": WAL_PREFIX},
            "noncurrent_version_expiration": {"noncurrent_days": b.daily_retention_days},
        },
    ]
    retention = {WEEKLY_PREFIX: b.weekly_retention_days, ANNUAL_PREFIX: b.annual_retention_days}
    rules += [_archive_rule(prefix, retention[prefix], settings) for prefix in ARCHIVE_CLASS]
    rules.append({
        "id": "deploy-history",
        "status": "Enabled",
        "filter": {"prefix": DEPLOY_PREFIX},
        "noncurrent_version_expiration": {"noncurrent_days": 90},
    })
    return rules + [abort_uploads_rule()]


def _archive_rule(prefix: str, days: int, settings: Settings) -> LifecycleRule:
    from .settings import ARCHIVE_MINIMUM_DAYS

    storage_class = ARCHIVE_CLASS[prefix]
    transition = settings.backups.archive_transition_days
    return {
        "id": f"archive-{prefix.rstrip('/')}",
        "status": "Enabled",
        "filter": {"prefix": prefix},
        "transitions": [{"days": transition, "storage_class": storage_class}],
        "expiration": {"days": days},
        # A pruned archive stays recoverable for its class's minimum billed duration.
        "noncurrent_version_expiration": {"noncurrent_days": ARCHIVE_MINIMUM_DAYS[storage_class]},
    }


class Backup(Tier):
    kind = "Backup"

    def __init__(
        self,
        name: str,
        settings: Settings,
        security: Security,
        data: Data,
        observability: Observability,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, settings, opts)
        self.bucket = private_bucket(self, "backup", security.keys["s3"].arn, lifecycle_rules(settings))
        self.vault = aws.backup.Vault(
            "backup-vault",
            kms_key_arn=security.keys["ebs"].arn,
            tags=self.tags("backup-vault"),
            opts=self.protected(),
        )
        aws.backup.VaultLockConfiguration(
            "backup-vault-lock",
            backup_vault_name=self.vault.name,
            # Governance mode (no changeable_for_days): recovery points cannot be deleted
            # early by anyone lacking the explicit permission to bypass the lock.
            min_retention_days=7,
            max_retention_days=max(settings.backups.aws_backup_retention_days, 35),
            opts=self.child(),
        )
        self.plan = self._plan()
        self._selection(self._protected_arns(data))
        self._freshness_alarm(observability)
        self.register_outputs({"backup_bucket": self.bucket.bucket})

    def _freshness_alarm(self, observability: Observability) -> None:
        # No successful PostgreSQL dump for 26 hours (a daily job, with slack); a job
        # that stopped reporting at all counts as failing.
        success = Metric(catalogue.BACKUP_NAMESPACE, catalogue.BACKUP_SUCCESS_METRIC,
                         {"Job": "postgres", "Environment": f"phase{self.settings.phase}"})
        observability.alarm(self, "backup-postgres", "no successful PostgreSQL backup for 26 hours",
                            1, metric=success, statistic="Sum", comparison="LessThanThreshold",
                            periods=26, period=3600, missing="breaching")

    def _plan(self) -> aws.backup.Plan:
        return aws.backup.Plan(
            "backup-plan",
            rules=[{
                "rule_name": "daily",
                "target_vault_name": self.vault.name,
                "schedule": "cron(0 3 * * ? *)",
                "start_window": 60,
                "completion_window": 360,
                "lifecycle": {"delete_after": self.settings.backups.aws_backup_retention_days},
                "recovery_point_tags": self.tags("recovery-point"),
            }],
            tags=self.tags("backup-plan"),
            opts=self.child(),
        )

    @staticmethod
    def _protected_arns(data: Data) -> list[pulumi.Output[str]]:
        if data.database is not None:
            return [data.database.arn]
        return [volume.arn for volume in data.volumes.values()]

    def _selection(self, resource_arns: list[pulumi.Output[str]]) -> None:
        role = aws.iam.Role(
            "backup-role",
            assume_role_policy=assume_role_policy("backup.amazonaws.com"),
            tags=self.tags("backup-role"),
            opts=self.child(),
        )
        for index, policy_arn in enumerate(BACKUP_ROLE_POLICIES):
            aws.iam.RolePolicyAttachment(
                f"backup-role-policy-{index}", role=role.name, policy_arn=policy_arn,
                opts=self.child(),
            )
        aws.backup.Selection(
            "backup-selection",
            name=f"{self.settings.prefix}-databases",
            plan_id=self.plan.id,
            iam_role_arn=role.arn,
            resources=resource_arns,
            opts=self.child(),
        )

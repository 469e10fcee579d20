"""Data tier: the exports bucket in every phase; encrypted EBS volumes for the phase 1
containers; RDS PostgreSQL, ElastiCache Redis and Amazon MQ from phase 2 on."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import pulumi
import pulumi_aws as aws

from .base import Tier
from .buckets import abort_uploads_rule, private_bucket
from .network import Network
from .observability import Metric, Observability
from .security import APP_USER, Security
from .settings import Settings

# Phase 1 volumes, mounted on the host where the compose file expects them.
GIB = 1024**3
VOLUME_MOUNTS = {
    "postgres": "/var/lib/sanctum/postgres",
    "redis": "/var/lib/sanctum/redis",
    "exports": "/var/lib/sanctum/exports",
}
EXPORTS_PREFIX = "exports/"
T = TypeVar("T")


@dataclass(frozen=True)
class CacheNodes:
    replication_group_id: str
    node_ids: tuple[str, ...]


def cache_node_ids(group_id: str, sharded: bool, shards: int, replicas: int) -> CacheNodes:
    """Node ids ElastiCache gives the members of a replication group (for per-node alarms)."""
    if sharded:
        ids = [f"{group_id}-{shard:04d}-{node:03d}"
               for shard in range(1, shards + 1) for node in range(1, replicas + 2)]
    else:
        ids = [f"{group_id}-{node:03d}" for node in range(1, replicas + 2)]
    return CacheNodes(group_id, tuple(ids))


class Data(Tier):
    kind = "Data"

    def __init__(
        self,
        name: str,
        settings: Settings,
        network: Network,
        security: Security,
        observability: Observability,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, settings, opts)
        self.network, self.security = network, security
        self.exports_bucket = private_bucket(
            self, "exports", security.keys["s3"].arn, self._exports_rules()
        )
        self.volumes: dict[str, aws.ebs.Volume] = {}
        self.database: aws.rds.Instance | None = None
        self.replicas: list[aws.rds.Instance] = []
        self.cache: aws.elasticache.ReplicationGroup | None = None
        self.broker: aws.mq.Broker | None = None
        if settings.managed_data:
            self.database = self._database()
            self.replicas = [self._replica(index) for index in range(settings.database.read_replicas)]
            self.cache = self._cache()
            self.broker = self._broker()
            self._alarms(observability)
        else:
            # On the phase 1 host the data stores are containers: Compute watches them.
            self.volumes = {purpose: self._volume(purpose) for purpose in VOLUME_MOUNTS}
        self.register_outputs({"exports_bucket": self.exports_bucket.bucket})

    def _alarms(self, observability: Observability) -> None:
        t = self.settings.observability.thresholds
        alarm = functools.partial(observability.alarm, self)
        db = {"DBInstanceIdentifier": self.database_identifier}
        alarm("database-cpu", "RDS CPU high", t.cpu_percent,
              metric=Metric("AWS/RDS", "CPUUtilization", db), periods=5)
        alarm("database-free-storage", "RDS free storage low", t.free_storage_gb * GIB,
              metric=Metric("AWS/RDS", "FreeStorageSpace", db), comparison="LessThanThreshold")
        alarm("database-memory", "RDS freeable memory low", 256 * 1024**2,
              metric=Metric("AWS/RDS", "FreeableMemory", db), comparison="LessThanThreshold",
              periods=5)
        for index in range(len(self.replicas)):
            replica = {"DBInstanceIdentifier": self.replica_identifier(index)}
            alarm(f"replica-{index + 1}-lag", "read replica falling behind", t.replica_lag_seconds,
                  metric=Metric("AWS/RDS", "ReplicaLag", replica), periods=5)
        for node in self.cache_nodes.node_ids:
            alarm(f"{node.removeprefix(self.settings.prefix + '-')}-memory", "Redis memory high",
                  t.memory_percent, metric=Metric("AWS/ElastiCache", "DatabaseMemoryUsagePercentage",
                                                  {"CacheClusterId": node}))
        alarm("broker-queue-depth", "messages piling up in RabbitMQ", t.queue_depth,
              metric=Metric("AWS/AmazonMQ", "MessageCount", {"Broker": self.broker_name}),
              statistic="Maximum", periods=5)

    def _exports_rules(self) -> list[aws.s3.BucketLifecycleConfigurationRuleArgsDict]:
        days = self.settings.backups.exports_retention_days
        return [
            {
                "id": "expire-exports",
                "status": "Enabled",
                "filter": {"prefix": EXPORTS_PREFIX},
                "expiration": {"days": days},
                "noncurrent_version_expiration": {"noncurrent_days": 1},
            },
            abort_uploads_rule(),
        ]

    # --- phase 1 -----------------------------------------------------------------------

    def _volume(self, purpose: str) -> aws.ebs.Volume:
        sizes = self.settings.volumes
        size = {"postgres": sizes.postgres_gb, "redis": sizes.redis_gb, "exports": sizes.exports_gb}
        return aws.ebs.Volume(
            f"{purpose}-volume",
            availability_zone=self.network.plan[0].zone,
            size=size[purpose],
            type="gp3",
            encrypted=True,
            kms_key_id=self.security.keys["ebs"].arn,
            final_snapshot=True,
            tags={**self.tags(f"{purpose}-volume"), "Mount": VOLUME_MOUNTS[purpose]},
            # Kept in AWS (not only protected) when the phase 2 program stops declaring it,
            # so the phase 1 data stays available until the move to RDS is verified.
            opts=self.protected(retain_on_delete=True),
        )

    # --- phase 2 and 3 -----------------------------------------------------------------

    @property
    def database_identifier(self) -> str:
        return f"{self.settings.prefix}-postgres"

    def _database(self) -> aws.rds.Instance:
        s, keys = self.settings, self.security.keys
        subnets = aws.rds.SubnetGroup(
            "postgres-subnets", subnet_ids=self.network.private_subnet_ids,
            tags=self.tags("postgres-subnets"), opts=self.child(),
        )
        self.parameter_group = aws.rds.ParameterGroup(
            "postgres-params",
            family="postgres15",
            parameters=[{"name": "rds.force_ssl", "value": "1"}],
            tags=self.tags("postgres-params"),
            opts=self.child(),
        )
        # Created first, with retention, so RDS does not create it without one.
        log_group = self.log_group(
            "postgres-logs", f"/aws/rds/instance/{self.database_identifier}/postgresql",
            keys["logs"].arn,
        )
        return aws.rds.Instance(
            "postgres",
            identifier=self.database_identifier,
            engine="postgres",
            engine_version=s.database.engine_version,
            instance_class=s.database.instance_class,
            allocated_storage=s.database.allocated_gb,
            max_allocated_storage=s.database.max_allocated_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=keys["rds"].arn,
            db_name=APP_USER,
            username=APP_USER,
            password=self.security.passwords["database"],
            multi_az=s.database.multi_az,
            publicly_accessible=False,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[_required(self.network.database_sg).id],
            parameter_group_name=self.parameter_group.name,
            backup_retention_period=s.database.backup_retention_days,
            backup_window="03:00-04:00",
            maintenance_window="sun:04:30-sun:05:30",
            deletion_protection=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{self.database_identifier}-final",
            delete_automated_backups=False,
            copy_tags_to_snapshot=True,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=keys["rds"].arn,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            apply_immediately=False,
            tags=self.tags("postgres"),
            opts=self.protected(depends_on=[log_group]),
        )

    def replica_identifier(self, index: int) -> str:
        return f"{self.database_identifier}-replica-{index + 1}"

    def _replica(self, index: int) -> aws.rds.Instance:
        s, primary = self.settings, _required(self.database)
        zones = s.network.availability_zones
        return aws.rds.Instance(
            f"postgres-replica-{index + 1}",
            identifier=self.replica_identifier(index),
            replicate_source_db=primary.identifier,
            instance_class=s.database.replica_instance_class or s.database.instance_class,
            availability_zone=zones[(index + 1) % len(zones)],
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=self.security.keys["rds"].arn,
            publicly_accessible=False,
            vpc_security_group_ids=[_required(self.network.database_sg).id],
            parameter_group_name=self.parameter_group.name,
            # A replica holds no data of its own: AWS allows no final snapshot of it.
            skip_final_snapshot=True,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=self.security.keys["rds"].arn,
            auto_minor_version_upgrade=True,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            tags=self.tags(f"postgres-replica-{index + 1}"),
            opts=self.child(),
        )

    @property
    def cache_sharded(self) -> bool:
        return self.settings.cache.effective_cluster_mode(self.settings.phase) == "enabled"

    @property
    def cache_endpoint(self) -> pulumi.Output[str]:
        """Address clients connect to: the configuration endpoint once sharded."""
        cache = _required(self.cache)
        if self.cache_sharded:
            return cache.configuration_endpoint_address
        return cache.primary_endpoint_address

    @property
    def cache_nodes(self) -> CacheNodes:
        c = self.settings.cache
        return cache_node_ids(f"{self.settings.prefix}-redis", self.cache_sharded,
                              c.shards, c.replicas_per_shard)

    def _cache(self) -> aws.elasticache.ReplicationGroup:
        s, keys = self.settings, self.security.keys
        subnets = aws.elasticache.SubnetGroup(
            "redis-subnets", subnet_ids=self.network.private_subnet_ids,
            description="SanctumTools Redis: private subnets",
            tags=self.tags("redis-subnets"), opts=self.child(),
        )
        slow_log = self.log_group(
            "redis-slow-logs", f"/sanctum/{s.stack}/redis-slow", keys["logs"].arn
        )
        # Phase 3 shards the same replication group instead of replacing it: AWS moves
        # cluster mode from disabled through compatible to enabled in place.
        mode = s.cache.effective_cluster_mode(s.phase)
        sharded = self.cache_sharded
        return aws.elasticache.ReplicationGroup(
            "redis",
            replication_group_id=self.cache_nodes.replication_group_id,
            description="SanctumTools cache, rate limits and sessions",
            engine="redis",
            engine_version=s.cache.engine_version,
            node_type=s.cache.node_type,
            port=6379,
            cluster_mode=mode,
            num_node_groups=s.cache.shards if sharded else None,
            replicas_per_node_group=s.cache.replicas_per_shard if sharded else None,
            num_cache_clusters=None if sharded else 1 + s.cache.replicas_per_shard,
            parameter_group_name="default.redis7.cluster.on" if sharded else "default.redis7",
            subnet_group_name=subnets.name,
            security_group_ids=[_required(self.network.cache_sg).id],
            at_rest_encryption_enabled=True,
            kms_key_id=keys["rds"].arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=self.security.passwords["redis"],
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            snapshot_retention_limit=s.cache.snapshot_retention_days,
            snapshot_window="02:00-03:00",
            maintenance_window="sun:05:30-sun:06:30",
            final_snapshot_identifier=f"{self.cache_nodes.replication_group_id}-final",
            auto_minor_version_upgrade=True,
            apply_immediately=False,
            log_delivery_configurations=[{
                "destination": slow_log.name,
                "destination_type": "cloudwatch-logs",
                "log_format": "json",
                "log_type": "slow-log",
            }],
            tags=self.tags("redis"),
            opts=self.protected(),
        )

    @property
    def broker_logical_name(self) -> str:
        # AWS cannot turn a single broker into a cluster: the cluster is a new broker
        # next to the old one (blue/green, see README), never an in-place replacement.
        return "broker" if self.settings.broker.deployment_mode == "SINGLE_INSTANCE" else "broker-cluster"

    @property
    def broker_name(self) -> str:
        return f"{self.settings.prefix}-rabbitmq" + (
            "" if self.broker_logical_name == "broker" else "-cluster")

    def _broker(self) -> aws.mq.Broker:
        s = self.settings
        subnets = self.network.private_subnet_ids
        single = s.broker.deployment_mode == "SINGLE_INSTANCE"
        # RabbitMQ brokers are encrypted at rest with an AWS-owned key; Amazon MQ offers
        # no customer-managed key for this engine.
        return aws.mq.Broker(
            self.broker_logical_name,
            broker_name=self.broker_name,
            engine_type="RabbitMQ",
            engine_version=s.broker.engine_version,
            # Required by Amazon MQ for RabbitMQ 3.13 and later.
            auto_minor_version_upgrade=True,
            host_instance_type=s.broker.instance_type,
            deployment_mode=s.broker.deployment_mode,
            publicly_accessible=False,
            subnet_ids=subnets[:1] if single else subnets,
            security_groups=[_required(self.network.broker_sg).id],
            users=[{"username": APP_USER, "password": self.security.passwords["broker"]}],
            maintenance_window_start_time={
                "day_of_week": "SUNDAY", "time_of_day": "06:00", "time_zone": "UTC",
            },
            apply_immediately=False,
            tags=self.tags(self.broker_logical_name),
            opts=self.protected(),
        )


def broker_endpoint(broker: aws.mq.Broker) -> pulumi.Output[str]:
    """The broker's AMQPS URL (one endpoint, also for a cluster)."""
    def first(instances: Sequence[aws.mq.outputs.BrokerInstance]) -> str:
        endpoints = instances[0].endpoints if instances else None
        if not endpoints:
            raise ValueError("Amazon MQ returned no broker endpoint")
        return endpoints[0]

    return broker.instances.apply(first)


def _required(value: T | None) -> T:
    if value is None:
        raise RuntimeError("declared only from phase 2 on")
    return value

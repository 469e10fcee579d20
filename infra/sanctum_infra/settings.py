"""Typed stack settings, read from Pulumi config and validated before any resource exists.

Every key lives in the `sanctum` namespace of a stack file (Pulumi.phaseN.yaml); the
region is the AWS provider's own `aws:region`. Sections are pydantic models whose keys
are camelCase in YAML and snake_case here; unknown keys are refused with a suggestion.
Every problem of a kind is reported at once (all type and key errors together; then,
once the values parse, every cross-field problem together), each naming its key, so an
operator fixes a stack file in one or two passes.
"""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from . import topology

NAMESPACE = "sanctum"

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
    2192, 2557, 2922, 3288, 3653,
)
# Minimum storage duration billed by S3 for each archive class.
ARCHIVE_MINIMUM_DAYS = {"GLACIER": 90, "DEEP_ARCHIVE": 180}

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,63}$", re.IGNORECASE)
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[0-9]*[a-z0-9]+$")
_STACK = re.compile(r"^[a-z][a-z0-9-]{0,19}$")


class ConfigError(Exception):
    """The stack configuration is invalid; the message lists every problem."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"stack {stack!r}: {len(problems)} configuration problem(s) in Pulumi.{stack}.yaml:\n"
            f"{lines}"
        )


class Section(BaseModel):
    """A stack file section: camelCase keys, nothing unknown, frozen once read."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel,
                              populate_by_name=True)


class SlackSettings(Section):
    team_id: str
    channel_id: str


class NetworkSettings(Section):
    cidr: str = "10.20.0.0/16"
    availability_zones: tuple[str, ...] = ()
    nat_gateways: int = 1
    # Only phase 1 has a host with a public address; SSH is opened to these ranges only.
    admin_cidrs: tuple[str, ...] = ()


class ClusterSize(Section):
    instance_type: str = "t3.medium"
    min_size: int = 1
    max_size: int = 1
    desired: int = 1
    cpu_target: float = 60.0
    # Frontend clusters scale on ALB requests per target per minute instead of CPU.
    requests_target: float = 1000.0


class ComputeSettings(Section):
    ami_parameter: str = "/aws/service/debian/release/12/latest/amd64"
    ssh_key_name: str | None = None
    root_volume_gb: int = 30
    clusters: dict[str, ClusterSize] = {}


class VolumeSettings(Section):
    postgres_gb: int = 50
    redis_gb: int = 5
    exports_gb: int = 20


class DatabaseSettings(Section):
    instance_class: str = "db.t4g.medium"
    engine_version: str = "15"
    allocated_gb: int = 50
    max_allocated_gb: int = 200
    backup_retention_days: int = 30
    multi_az: bool = True
    read_replicas: int = 0
    replica_instance_class: str | None = None


class CacheSettings(Section):
    node_type: str = "cache.t4g.small"
    engine_version: str = "7.1"
    shards: int = 1
    replicas_per_shard: int = 1
    snapshot_retention_days: int = 7
    # disabled (phases 1-2) or enabled (phase 3); "compatible" is the in-between step
    # AWS requires when an existing group moves to cluster mode. Empty: by phase.
    cluster_mode: str = ""

    def effective_cluster_mode(self, phase: int) -> str:
        return self.cluster_mode or ("enabled" if phase == 3 else "disabled")


class BrokerSettings(Section):
    instance_type: str = "mq.m5.large"
    engine_version: str = "3.13"
    deployment_mode: str = "SINGLE_INSTANCE"


class WafSettings(Section):
    # Requests per client IP in any 5-minute window before WAF blocks it.
    rate_limit_per_5_min: int = 2000


class AlarmThresholds(Section):
    latency_p95_seconds: float = 1.0
    latency_p99_seconds: float = 2.5
    error_rate_percent: float = 1.0
    cpu_percent: float = 80.0
    memory_percent: float = 85.0
    disk_used_percent: float = 80.0
    free_storage_gb: float = 10.0
    queue_depth: int = 1000
    replica_lag_seconds: float = 30.0
    # The application's series (monitoring/agent.py): a crisis waiting for its first
    # message, and an outbox event not published.
    crisis_first_send_seconds: float = 300.0
    outbox_age_seconds: float = 120.0


class ObservabilitySettings(Section):
    log_retention_days: int = 90
    thresholds: AlarmThresholds = AlarmThresholds()


class BackupSettings(Section):
    daily_retention_days: int = 30
    archive_transition_days: int = 1
    weekly_retention_days: int = 365
    annual_retention_days: int = 2557
    aws_backup_retention_days: int = 30
    exports_retention_days: int = 7


SECTIONS = ("slack", "network", "compute", "volumes", "database", "cache", "broker", "waf",
            "observability", "backups")


class Settings(Section):
    # Not keys of the `sanctum` namespace: the stack's name and `aws:region`.
    stack: str
    region: str
    phase: int
    domain: str
    hosted_zone: str
    alert_email: str
    pagerduty_endpoint: str | None = None
    slack: SlackSettings | None = None
    network: NetworkSettings = NetworkSettings()
    compute: ComputeSettings = ComputeSettings()
    volumes: VolumeSettings = VolumeSettings()
    database: DatabaseSettings = DatabaseSettings()
    cache: CacheSettings = CacheSettings()
    broker: BrokerSettings = BrokerSettings()
    waf: WafSettings = WafSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    backups: BackupSettings = BackupSettings()

    @model_validator(mode="before")
    @classmethod
    def _as_the_cli_gives_them(cls, raw: Any) -> Any:
        """The Pulumi CLI hands objects over as JSON text, and unset keys as empty."""
        if not isinstance(raw, dict):
            return raw
        values = {key: value for key, value in raw.items() if value is not None and value != ""}
        for key in SECTIONS:
            if isinstance(values.get(key), str):
                with contextlib.suppress(json.JSONDecodeError):  # else "expected an object"
                    values[key] = json.loads(values[key])
        return values

    @field_validator("domain")
    @classmethod
    def _lowercase(cls, value: str) -> str:
        return value.lower()

    @field_validator("hosted_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return value.lower().rstrip(".")

    @property
    def prefix(self) -> str:
        """Prefix of physical names, unique per stack and account."""
        return f"sanctum-{self.stack}"

    @property
    def managed_data(self) -> bool:
        """Phases 2 and 3 use RDS, ElastiCache and Amazon MQ instead of containers."""
        return self.phase >= 2

    def cluster_sizes(self) -> dict[str, ClusterSize]:
        """Sizes of every cluster of this phase: defaults overridden by config."""
        sizes = dict(topology.default_sizes(self.phase))
        sizes.update(self.compute.clusters)
        return sizes


def _known_keys(model: type[BaseModel], seen: set[str] | None = None) -> set[str]:
    """Every key any section knows, for "did you mean" suggestions."""
    seen = set() if seen is None else seen
    for name, info in model.model_fields.items():
        seen.add(info.alias or name)
        for candidate in _models_in(info.annotation):
            _known_keys(candidate, seen)
    return seen


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in getattr(annotation, "__args__", ()) for model in _models_in(arg)]


KNOWN_KEYS = frozenset(_known_keys(Settings)) - {"stack", "region"}
_TYPES = {"int": "int", "float": "float", "bool": "bool", "string": "str"}


def _where(loc: tuple[Any, ...]) -> str:
    if loc[:1] == ("region",):
        return "aws:region"
    if loc[:1] == ("stack",):
        return "stack name"
    return f"{NAMESPACE}:" + ".".join(str(part) for part in loc)


def _problem(error: Any) -> str:
    where, kind, got = _where(error["loc"]), error["type"], error.get("input")
    if kind == "missing":
        extra = " (1, 2 or 3)" if error["loc"] == ("phase",) else ""
        return f"{where}: required, not set{extra}"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(error["loc"][-1]), sorted(KNOWN_KEYS), n=1)
        return f"{where}: unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{where}: expected an object, got {type(got).__name__ if not isinstance(got, str) else repr(got)}"
    if kind in ("tuple_type", "list_type"):
        return f"{where}: expected a list of strings"
    expected = next((name for prefix, name in _TYPES.items() if kind.startswith(prefix)), None)
    if expected:
        return f"{where}: expected {expected}, got {got!r}"
    return f"{where}: {error['msg']}"


def parse_settings(stack: str, region: str | None, raw: Mapping[str, object]) -> Settings:
    """Builds settings from raw config values (strings or parsed objects) or raises ConfigError."""
    try:
        settings = Settings.model_validate({**raw, "stack": stack, "region": region})
    except ValidationError as error:
        raise ConfigError(stack, [_problem(e) for e in error.errors()]) from None
    problems = validate(settings)
    if problems:
        raise ConfigError(stack, problems)
    return settings


# --- cross-field validation -------------------------------------------------------------


def validate(s: Settings) -> list[str]:
    problems: list[str] = []
    problems += _validate_identity(s)
    if s.phase not in topology.PHASES:
        return problems + [f"{NAMESPACE}:phase: must be 1, 2 or 3, got {s.phase}"]
    for check in (_validate_network, _validate_clusters, _validate_volumes, _validate_database,
                  _validate_cache, _validate_broker, _validate_waf, _validate_observability,
                  _validate_backups):
        problems += check(s)
    return problems


def _validate_identity(s: Settings) -> list[str]:
    problems = []
    if not _STACK.match(s.stack):
        problems.append(f"stack name {s.stack!r}: use 1-20 lowercase letters, digits or '-'")
    if s.region and not _REGION.match(s.region):
        problems.append(f"aws:region: {s.region!r} is not an AWS region name")
    if s.domain and not _HOSTNAME.match(s.domain):
        problems.append(f"{NAMESPACE}:domain: {s.domain!r} is not a DNS name")
    if s.domain and s.hosted_zone and not (
        s.domain == s.hosted_zone or s.domain.endswith("." + s.hosted_zone)
    ):
        problems.append(f"{NAMESPACE}:hostedZone: {s.domain!r} is not inside zone {s.hosted_zone!r}")
    if s.alert_email and not _EMAIL.match(s.alert_email):
        problems.append(f"{NAMESPACE}:alertEmail: {s.alert_email!r} is not an email address")
    if s.pagerduty_endpoint and not s.pagerduty_endpoint.startswith("https://"):
        problems.append(f"{NAMESPACE}:pagerdutyEndpoint: must be an https:// URL")
    return problems


def _validate_network(s: Settings) -> list[str]:
    n, key, problems = s.network, f"{NAMESPACE}:network", []
    try:
        net = ipaddress.ip_network(n.cidr)
        if net.version != 4 or not 16 <= net.prefixlen <= 20:
            problems.append(f"{key}.cidr: {n.cidr} must be an IPv4 range from /16 to /20")
    except ValueError:
        problems.append(f"{key}.cidr: {n.cidr!r} is not a CIDR range")
    zones = n.availability_zones
    if not 2 <= len(zones) <= 6 or len(set(zones)) != len(zones):
        problems.append(f"{key}.availabilityZones: list two to six distinct zones")
    problems += [
        f"{key}.availabilityZones: {zone!r} is not in region {s.region!r}"
        for zone in zones
        if not re.fullmatch(re.escape(s.region) + r"[a-z]", zone)
    ]
    if not 0 <= n.nat_gateways <= max(len(zones), 1):
        problems.append(f"{key}.natGateways: between 0 and the number of zones ({len(zones)})")
    if s.managed_data and n.nat_gateways < 1:
        problems.append(f"{key}.natGateways: phase {s.phase} hosts live in private subnets, need >= 1")
    problems += _validate_admin_cidrs(s)
    return problems


def _validate_admin_cidrs(s: Settings) -> list[str]:
    key, problems = f"{NAMESPACE}:network.adminCidrs", []
    if s.phase >= 2 and s.network.admin_cidrs:
        problems.append(f"{key}: phase {s.phase} hosts have no public address; use SSM instead")
    for cidr in s.network.admin_cidrs:
        try:
            if ipaddress.ip_network(cidr).prefixlen == 0:
                problems.append(f"{key}: {cidr} opens SSH to the whole internet")
        except ValueError:
            problems.append(f"{key}: {cidr!r} is not a CIDR range")
    return problems


def _validate_clusters(s: Settings) -> list[str]:
    key, problems = f"{NAMESPACE}:compute.clusters", []
    names = [role.name for role in topology.clusters_for(s.phase)]
    problems += [
        f"{key}.{name}: no such cluster in phase {s.phase} (clusters: {', '.join(names)})"
        for name in s.compute.clusters
        if name not in names
    ]
    for name, size in s.cluster_sizes().items():
        problems += _validate_size(f"{key}.{name}", size, single=s.phase == 1)
    if not s.compute.ami_parameter.startswith("/aws/service/"):
        problems.append(f"{NAMESPACE}:compute.amiParameter: use a public /aws/service/... parameter")
    if not 8 <= s.compute.root_volume_gb <= 1024:
        problems.append(f"{NAMESPACE}:compute.rootVolumeGb: between 8 and 1024")
    return problems


def _validate_size(key: str, size: ClusterSize, single: bool) -> list[str]:
    problems = []
    if not _INSTANCE_TYPE.match(size.instance_type):
        problems.append(f"{key}.instanceType: {size.instance_type!r} is not an EC2 instance type")
    if not 1 <= size.min_size <= size.desired <= size.max_size:
        problems.append(f"{key}: need 1 <= minSize <= desired <= maxSize")
    if single and (size.min_size, size.desired, size.max_size) != (1, 1, 1):
        problems.append(f"{key}: phase 1 runs exactly one host")
    if not 10 <= size.cpu_target <= 90:
        problems.append(f"{key}.cpuTarget: between 10 and 90 percent")
    if size.requests_target <= 0:
        problems.append(f"{key}.requestsTarget: must be positive")
    return problems


def _validate_volumes(s: Settings) -> list[str]:
    v = s.volumes
    return [
        f"{NAMESPACE}:volumes.{to_camel(name)}: between 1 and 16384 GiB"
        for name, size in (("postgres_gb", v.postgres_gb), ("redis_gb", v.redis_gb),
                           ("exports_gb", v.exports_gb))
        if not 1 <= size <= 16384
    ]


def _validate_database(s: Settings) -> list[str]:
    d, key, problems = s.database, f"{NAMESPACE}:database", []
    classes = [d.instance_class] + ([d.replica_instance_class] if d.replica_instance_class else [])
    problems += [f"{key}: {c!r} is not an RDS instance class" for c in classes
                 if not c.startswith("db.")]
    if not re.fullmatch(r"15(\.\d+)?", d.engine_version):
        problems.append(f"{key}.engineVersion: the services run on PostgreSQL 15, got {d.engine_version!r}")
    if not 20 <= d.allocated_gb <= d.max_allocated_gb:
        problems.append(f"{key}: need 20 <= allocatedGb <= maxAllocatedGb")
    if not 1 <= d.backup_retention_days <= 35:
        problems.append(f"{key}.backupRetentionDays: RDS keeps 1 to 35 days")
    if s.managed_data and not d.multi_az:
        problems.append(f"{key}.multiAz: phase {s.phase} requires a Multi-AZ database")
    problems += _validate_replicas(s)
    return problems


def _validate_replicas(s: Settings) -> list[str]:
    key, count = f"{NAMESPACE}:database.readReplicas", s.database.read_replicas
    if s.phase == 3 and not 1 <= count <= 5:
        return [f"{key}: phase 3 needs 1 to 5 read replicas, got {count}"]
    if s.phase < 3 and count:
        return [f"{key}: read replicas arrive in phase 3, got {count} in phase {s.phase}"]
    return []


def _validate_cache(s: Settings) -> list[str]:
    c, key, problems = s.cache, f"{NAMESPACE}:cache", []
    if not c.node_type.startswith("cache."):
        problems.append(f"{key}.nodeType: {c.node_type!r} is not an ElastiCache node type")
    mode = c.effective_cluster_mode(s.phase)
    if mode not in ("disabled", "compatible", "enabled"):
        problems.append(f"{key}.clusterMode: disabled, compatible or enabled, got {mode!r}")
    if mode == "enabled" and c.shards < 2:
        problems.append(f"{key}.shards: cluster mode shards the data, need >= 2")
    if mode != "enabled" and c.shards != 1:
        problems.append(f"{key}.shards: only cluster mode (phase 3) has several shards, keep 1")
    if not 1 <= c.replicas_per_shard <= 5:
        problems.append(f"{key}.replicasPerShard: 1 to 5 (automatic failover needs one)")
    if not 1 <= c.snapshot_retention_days <= 35:
        problems.append(f"{key}.snapshotRetentionDays: 1 to 35")
    if not re.fullmatch(r"7\.\d+", c.engine_version):
        problems.append(f"{key}.engineVersion: Redis 7.x, got {c.engine_version!r}")
    return problems


def _validate_broker(s: Settings) -> list[str]:
    b, key, problems = s.broker, f"{NAMESPACE}:broker", []
    modes = ("SINGLE_INSTANCE", "CLUSTER_MULTI_AZ")
    if b.deployment_mode not in modes:
        problems.append(f"{key}.deploymentMode: one of {', '.join(modes)}")
    if not b.instance_type.startswith("mq."):
        problems.append(f"{key}.instanceType: {b.instance_type!r} is not an Amazon MQ type")
    if b.instance_type == "mq.t3.micro" and b.deployment_mode != "SINGLE_INSTANCE":
        problems.append(f"{key}: mq.t3.micro runs only SINGLE_INSTANCE")
    if not re.fullmatch(r"3\.13|4\.\d+", b.engine_version):
        problems.append(f"{key}.engineVersion: RabbitMQ 3.13 or 4.x, got {b.engine_version!r}")
    return problems


def _validate_waf(s: Settings) -> list[str]:
    if not 10 <= s.waf.rate_limit_per_5_min <= 2_000_000_000:
        return [f"{NAMESPACE}:waf.rateLimitPer5Min: between 10 and 2e9"]
    return []


def _validate_observability(s: Settings) -> list[str]:
    o, key, problems = s.observability, f"{NAMESPACE}:observability", []
    if o.log_retention_days not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(days) for days in LOG_RETENTION_DAYS)
        problems.append(f"{key}.logRetentionDays: {o.log_retention_days} is not one of {allowed}")
    for name in type(o.thresholds).model_fields:
        if getattr(o.thresholds, name) <= 0:
            problems.append(f"{key}.thresholds.{to_camel(name)}: must be positive")
    return problems


def _validate_backups(s: Settings) -> list[str]:
    b, key, problems = s.backups, f"{NAMESPACE}:backups", []
    archived = {"weeklyRetentionDays": (b.weekly_retention_days, "GLACIER"),
                "annualRetentionDays": (b.annual_retention_days, "DEEP_ARCHIVE")}
    for name, (days, storage_class) in archived.items():
        minimum = ARCHIVE_MINIMUM_DAYS[storage_class]
        if days - b.archive_transition_days < minimum:
            problems.append(
                f"{key}.{name}: {storage_class} bills {minimum} days at least; keep archives "
                f">= archiveTransitionDays + {minimum} ({b.archive_transition_days + minimum})"
            )
    for name in ("daily_retention_days", "aws_backup_retention_days", "exports_retention_days"):
        if getattr(b, name) < 1:
            problems.append(f"{key}.{to_camel(name)}: at least 1 day")
    if b.archive_transition_days < 0:
        problems.append(f"{key}.archiveTransitionDays: 0 or more")
    return problems


# --- reading from the Pulumi runtime ----------------------------------------------------


def configured_keys() -> list[str]:
    """Keys of the `sanctum` namespace present in the running stack's config."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = NAMESPACE + ":"
    return sorted(key[len(prefix):] for key in keys if key.startswith(prefix))


def load_settings() -> Settings:
    """Reads the running stack's config; raises ConfigError before any resource exists."""
    import pulumi

    config = pulumi.Config(NAMESPACE)
    raw = {key: config.get(key) for key in configured_keys()}
    region = pulumi.Config("aws").get("region")
    return parse_settings(pulumi.get_stack(), region, raw)

"""Typed stack settings, read from Pulumi config and validated before any resource exists.

Every key lives in the `sanctum` namespace of a stack file (Pulumi.phaseN.yaml); the
region is the AWS provider's own `aws:region`. Sections are objects whose keys are
camelCase in YAML and snake_case here. All problems are collected and reported at
once, so an operator fixes a stack file in one pass.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import ipaddress
import json
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union

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


@dataclass(frozen=True)
class SlackSettings:
    team_id: str
    channel_id: str


@dataclass(frozen=True)
class NetworkSettings:
    cidr: str = "10.20.0.0/16"
    availability_zones: tuple[str, ...] = ()
    nat_gateways: int = 1
    # Only phase 1 has a host with a public address; SSH is opened to these ranges only.
    admin_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterSize:
    instance_type: str = "t3.medium"
    min_size: int = 1
    max_size: int = 1
    desired: int = 1
    cpu_target: float = 60.0
    # Frontend clusters scale on ALB requests per target per minute instead of CPU.
    requests_target: float = 1000.0


@dataclass(frozen=True)
class ComputeSettings:
    ami_parameter: str = "/aws/service/debian/release/12/latest/amd64"
    ssh_key_name: str | None = None
    root_volume_gb: int = 30
    clusters: Mapping[str, ClusterSize] = field(default_factory=dict)


@dataclass(frozen=True)
class VolumeSettings:
    postgres_gb: int = 50
    redis_gb: int = 5
    exports_gb: int = 20


@dataclass(frozen=True)
class DatabaseSettings:
    instance_class: str = "db.t4g.medium"
    engine_version: str = "15"
    allocated_gb: int = 50
    max_allocated_gb: int = 200
    backup_retention_days: int = 30
    multi_az: bool = True
    read_replicas: int = 0
    replica_instance_class: str | None = None


@dataclass(frozen=True)
class CacheSettings:
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


@dataclass(frozen=True)
class BrokerSettings:
    instance_type: str = "mq.m5.large"
    engine_version: str = "3.13"
    deployment_mode: str = "SINGLE_INSTANCE"


@dataclass(frozen=True)
class WafSettings:
    # Requests per client IP in any 5-minute window before WAF blocks it.
    rate_limit_per_5_min: int = 2000


@dataclass(frozen=True)
class AlarmThresholds:
    latency_p95_seconds: float = 1.0
    latency_p99_seconds: float = 2.5
    error_rate_percent: float = 1.0
    cpu_percent: float = 80.0
    memory_percent: float = 85.0
    disk_used_percent: float = 80.0
    free_storage_gb: float = 10.0
    queue_depth: int = 1000
    replica_lag_seconds: float = 30.0


@dataclass(frozen=True)
class ObservabilitySettings:
    log_retention_days: int = 90
    thresholds: AlarmThresholds = AlarmThresholds()


@dataclass(frozen=True)
class BackupSettings:
    daily_retention_days: int = 30
    archive_transition_days: int = 1
    weekly_retention_days: int = 365
    annual_retention_days: int = 2557
    aws_backup_retention_days: int = 30
    exports_retention_days: int = 7


@dataclass(frozen=True)
class Settings:
    stack: str
    region: str
    phase: int
    domain: str
    hosted_zone: str
    alert_email: str
    pagerduty_endpoint: str | None
    slack: SlackSettings | None
    network: NetworkSettings
    compute: ComputeSettings
    volumes: VolumeSettings
    database: DatabaseSettings
    cache: CacheSettings
    broker: BrokerSettings
    waf: WafSettings
    observability: ObservabilitySettings
    backups: BackupSettings

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


KNOWN_KEYS = frozenset((
    "phase", "domain", "hostedZone", "alertEmail", "pagerdutyEndpoint", "slack", "network",
    "compute", "volumes", "database", "cache", "broker", "waf", "observability", "backups",
))

T = TypeVar("T")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _suggest(key: str, known: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Reader:
    """Coerces raw config values into dataclasses, recording every problem."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def section(self, cls: type[T], raw: object, path: str) -> T:
        if isinstance(raw, str):
            raw = self._json(raw, path)
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.problems.append(f"{path}: expected an object, got {type(raw).__name__}")
            raw = {}
        return self._build(cls, typing.cast(dict[str, Any], raw), path)

    def _json(self, text: str, path: str) -> object:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            self.problems.append(f"{path}: expected an object, got {text!r}")
            return {}

    def _build(self, cls: type[T], raw: dict[str, Any], path: str) -> T:
        hints = typing.get_type_hints(cls)
        fields = {camel(f.name): f for f in dataclasses.fields(typing.cast(Any, cls))}
        for key in raw:
            if key not in fields:
                self.problems.append(f"{path}.{key}: unknown key{_suggest(key, fields)}")
        values: dict[str, Any] = {}
        for key, spec in fields.items():
            if key in raw:
                values[spec.name] = self.value(hints[spec.name], raw[key], f"{path}.{key}")
        try:
            return cls(**values)
        except TypeError:
            missing = [k for k, f in fields.items() if k not in raw and _required(f)]
            self.problems.append(f"{path}: missing required key(s) {', '.join(missing)}")
            raise _Abort() from None

    def value(self, hint: Any, raw: object, path: str) -> Any:
        origin = typing.get_origin(hint)
        if origin in (Union, types.UnionType):
            inner = next(arg for arg in typing.get_args(hint) if arg is not type(None))
            return None if raw is None else self.value(inner, raw, path)
        if dataclasses.is_dataclass(hint):
            return self.section(typing.cast(type, hint), raw, path)
        if origin is tuple:
            return self._tuple(raw, path)
        if origin in (collections.abc.Mapping, dict):
            return self._clusters(raw, path)
        return self.scalar(hint, raw, path)

    def _tuple(self, raw: object, path: str) -> tuple[str, ...]:
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            self.problems.append(f"{path}: expected a list of strings")
            return ()
        return tuple(typing.cast(list[str], raw))

    def _clusters(self, raw: object, path: str) -> dict[str, ClusterSize]:
        if not isinstance(raw, dict):
            self.problems.append(f"{path}: expected an object of clusters")
            return {}
        items = typing.cast(dict[str, Any], raw).items()
        return {name: self.section(ClusterSize, spec, f"{path}.{name}") for name, spec in items}

    def scalar(self, hint: Any, raw: object, path: str) -> Any:
        try:
            return _coerce(hint, raw)
        except (TypeError, ValueError):
            self.problems.append(f"{path}: expected {hint.__name__}, got {raw!r}")
            return _placeholder(hint)


class _Abort(Exception):
    """A section could not be built at all; the problem is already recorded."""


def _required(spec: dataclasses.Field[Any]) -> bool:
    return spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING


def _coerce(hint: Any, raw: object) -> Any:
    if hint is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ValueError(raw)
    if hint is int:
        if isinstance(raw, bool) or isinstance(raw, float) and not raw.is_integer():
            raise ValueError(raw)
        return int(typing.cast(Any, raw))
    if hint is float:
        if isinstance(raw, bool):
            raise ValueError(raw)
        return float(typing.cast(Any, raw))
    if hint is str and isinstance(raw, str):
        return raw
    raise TypeError(raw)


def _placeholder(hint: Any) -> Any:
    return {bool: False, int: 0, float: 0.0, str: ""}.get(hint)


def parse_settings(stack: str, region: str | None, raw: Mapping[str, object]) -> Settings:
    """Builds settings from raw config values (strings or parsed objects) or raises ConfigError."""
    reader = _Reader()
    for key in raw:
        if key not in KNOWN_KEYS:
            reader.problems.append(f"{NAMESPACE}:{key}: unknown key{_suggest(key, KNOWN_KEYS)}")
    try:
        settings = _read(reader, stack, region, raw)
    except _Abort:
        raise ConfigError(stack, reader.problems) from None
    problems = reader.problems + validate(settings)
    if problems:
        raise ConfigError(stack, problems)
    return settings


def _read(reader: _Reader, stack: str, region: str | None, raw: Mapping[str, object]) -> Settings:
    def text(key: str, required: bool = True) -> str | None:
        value = raw.get(key)
        if value is None or value == "":
            if required:
                reader.problems.append(f"{NAMESPACE}:{key}: required, not set")
            return None
        return str(value)

    def section(cls: type[T], key: str) -> T:
        return reader.section(cls, raw.get(key), f"{NAMESPACE}:{key}")

    if not region:
        reader.problems.append("aws:region: required, not set")
    phase = 0
    if "phase" in raw:
        phase = reader.scalar(int, raw["phase"], f"{NAMESPACE}:phase")
    else:
        reader.problems.append(f"{NAMESPACE}:phase: required, not set (1, 2 or 3)")
    return Settings(
        stack=stack,
        region=region or "",
        phase=phase,
        domain=(text("domain") or "").lower(),
        hosted_zone=(text("hostedZone") or "").lower().rstrip("."),
        alert_email=text("alertEmail") or "",
        pagerduty_endpoint=text("pagerdutyEndpoint", required=False),
        slack=section(SlackSettings, "slack") if raw.get("slack") is not None else None,
        network=section(NetworkSettings, "network"),
        compute=section(ComputeSettings, "compute"),
        volumes=section(VolumeSettings, "volumes"),
        database=section(DatabaseSettings, "database"),
        cache=section(CacheSettings, "cache"),
        broker=section(BrokerSettings, "broker"),
        waf=section(WafSettings, "waf"),
        observability=section(ObservabilitySettings, "observability"),
        backups=section(BackupSettings, "backups"),
    )


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
        f"{NAMESPACE}:volumes.{camel(name)}: between 1 and 16384 GiB"
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
    for spec in dataclasses.fields(o.thresholds):
        if getattr(o.thresholds, spec.name) <= 0:
            problems.append(f"{key}.thresholds.{camel(spec.name)}: must be positive")
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
            problems.append(f"{key}.{camel(name)}: at least 1 day")
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

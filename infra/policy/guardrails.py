"""Guardrails for the SanctumTools stacks, as pulumi-policy validations.

`pulumi preview --policy-pack infra/policy` runs them wherever the Pulumi CLI exists;
the tests call the same functions on the inputs recorded under mocks. Properties are
Pulumi wire names (camelCase), as the policy engine passes them.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

REQUIRED_TAGS = ("Project", "Stack", "Phase", "Tier", "ManagedBy")
# The only ports the internet may reach: the load balancer's HTTPS and its redirect.
PUBLIC_PORTS = frozenset({80, 443})
WORLD = frozenset({"0.0.0.0/0", "::/0"})
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})
# Resources that hold data nobody can recreate.
STATEFUL_TYPES = frozenset({
    "aws:ebs/volume:Volume",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:secretsmanager/secret:Secret",
    "aws:mq/broker:Broker",
    "aws:backup/vault:Vault",
})
BUCKET = "aws:s3/bucket:Bucket"
SUBNET_GROUPS = ("aws:rds/subnetGroup:SubnetGroup", "aws:elasticache/subnetGroup:SubnetGroup")


def _truthy(value: Any) -> bool:
    # Launch templates carry booleans as strings.
    return value is True or (isinstance(value, str) and value.lower() == "true")


# --- storage encryption --------------------------------------------------------------


def _volume_problems(props: Mapping[str, Any]) -> list[str]:
    if not _truthy(props.get("encrypted")):
        return ["EBS volume is not encrypted"]
    if not props.get("kmsKeyId"):
        return ["EBS volume is not encrypted with a customer-managed KMS key"]
    return []


def _instance_problems(props: Mapping[str, Any]) -> list[str]:
    devices = [props.get("rootBlockDevice") or {}] + list(props.get("ebsBlockDevices") or [])
    return ["instance volume is not encrypted" for device in devices
            if not _truthy(device.get("encrypted"))]


def _launch_template_problems(props: Mapping[str, Any]) -> list[str]:
    mappings = props.get("blockDeviceMappings") or []
    return [f"launch template volume {m.get('deviceName')} is not encrypted" for m in mappings
            if "ebs" in m and not _truthy((m.get("ebs") or {}).get("encrypted"))]


def _encryption_problems(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    checks: dict[str, Any] = {
        "aws:ebs/volume:Volume": _volume_problems,
        "aws:ec2/instance:Instance": _instance_problems,
        "aws:ec2/launchTemplate:LaunchTemplate": _launch_template_problems,
        "aws:rds/instance:Instance": lambda p: (
            [] if _truthy(p.get("storageEncrypted")) else ["RDS storage is not encrypted"]),
        "aws:elasticache/replicationGroup:ReplicationGroup": lambda p: (
            ([] if _truthy(p.get("atRestEncryptionEnabled")) else ["Redis is not encrypted at rest"])
            + ([] if _truthy(p.get("transitEncryptionEnabled")) else ["Redis accepts plain TCP"])),
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
            _sse_problems,
        "aws:cloudwatch/logGroup:LogGroup": lambda p: (
            [] if p.get("kmsKeyId") else ["log group is not encrypted with a KMS key"]),
        "aws:secretsmanager/secret:Secret": lambda p: (
            [] if p.get("kmsKeyId") else ["secret is not encrypted with a customer-managed key"]),
        "aws:sns/topic:Topic": lambda p: (
            [] if p.get("kmsMasterKeyId") else ["SNS topic is not encrypted"]),
        "aws:kms/key:Key": lambda p: (
            [] if _truthy(p.get("enableKeyRotation")) else ["KMS key rotation is off"]),
    }
    check = checks.get(resource_type)
    return check(props) if check else []


def _sse_problems(props: Mapping[str, Any]) -> list[str]:
    rules = props.get("rules") or []
    algorithms = [((rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm"))
                  for rule in rules]
    if not algorithms or any(a not in KMS_ALGORITHMS for a in algorithms):
        return [f"bucket default encryption must be aws:kms, got {algorithms}"]
    return []


def storage_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for problem in _encryption_problems(args.resource_type, args.props):
        report(problem, None)


# --- public databases ----------------------------------------------------------------


def no_public_database(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kinds = {"aws:rds/instance:Instance": "database", "aws:rds/cluster:Cluster": "database",
             "aws:mq/broker:Broker": "message broker"}
    kind = kinds.get(args.resource_type)
    if kind and _truthy(args.props.get("publiclyAccessible")):
        report(f"{kind} is publicly accessible", None)


def _public_subnet_urns(resources: list[PolicyResource]) -> set[str]:
    """Subnets whose route table sends traffic to an internet gateway."""
    internet_tables = {
        dep.urn
        for r in resources if r.resource_type == "aws:ec2/route:Route" and r.props.get("gatewayId")
        for dep in r.property_dependencies.get("routeTableId", [])
    }
    return {
        dep.urn
        for r in resources if r.resource_type == "aws:ec2/routeTableAssociation:RouteTableAssociation"
        if any(t.urn in internet_tables for t in r.property_dependencies.get("routeTableId", []))
        for dep in r.property_dependencies.get("subnetId", [])
    }


def databases_in_private_subnets(args: StackValidationArgs, report: ReportViolation) -> None:
    public = _public_subnet_urns(list(args.resources))
    for resource in args.resources:
        if resource.resource_type in SUBNET_GROUPS or resource.resource_type == "aws:mq/broker:Broker":
            for subnet in resource.property_dependencies.get("subnetIds", []):
                if subnet.urn in public:
                    report(f"{resource.name} places data in public subnet {subnet.name}", resource.urn)


# --- security groups ---------------------------------------------------------------------


def _opens_beyond_web(protocol: Any, from_port: Any, to_port: Any) -> bool:
    if str(protocol) in ("-1", "all"):
        return True
    ports = set(range(int(from_port or 0), int(to_port or 0) + 1))
    return not ports <= PUBLIC_PORTS


def _world_rules(resource_type: str, props: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    if resource_type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        if {props.get("cidrIpv4"), props.get("cidrIpv6")} & WORLD:
            yield props
    elif resource_type == "aws:ec2/securityGroupRule:SecurityGroupRule":
        cidrs = set(props.get("cidrBlocks") or []) | set(props.get("ipv6CidrBlocks") or [])
        if props.get("type") == "ingress" and cidrs & WORLD:
            yield props
    elif resource_type == "aws:ec2/securityGroup:SecurityGroup":
        for rule in props.get("ingress") or []:
            if (set(rule.get("cidrBlocks") or []) | set(rule.get("ipv6CidrBlocks") or [])) & WORLD:
                yield rule


def no_open_security_group(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for rule in _world_rules(args.resource_type, args.props):
        protocol = rule.get("ipProtocol", rule.get("protocol"))
        if _opens_beyond_web(protocol, rule.get("fromPort"), rule.get("toPort")):
            report(f"ingress from the internet on {protocol} {rule.get('fromPort')}-"
                   f"{rule.get('toPort')}; only 80 and 443 may be public", None)


# --- tags and protection -------------------------------------------------------------------


@functools.cache
def is_taggable(resource_type: str) -> bool:
    """Whether the pulumi-aws resource behind a type token accepts `tags`."""
    package, module_path, class_name = resource_type.split(":")
    if package != "aws":
        return False
    module = module_path.split("/")[0]
    try:
        namespace = importlib.import_module(
            "pulumi_aws" if module == "index" else f"pulumi_aws.{module}")
        resource_class = getattr(namespace, class_name)
    except (ImportError, AttributeError):
        return False
    return "tags" in inspect.signature(resource_class._internal_init).parameters


def _tag_keys(tags: Any) -> set[str]:
    if isinstance(tags, Mapping):
        return set(tags)
    if isinstance(tags, list):
        return {str(item.get("key")) for item in tags if isinstance(item, Mapping)}
    return set()


def required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_taggable(args.resource_type):
        return
    missing = [key for key in REQUIRED_TAGS if key not in _tag_keys(args.props.get("tags"))]
    if missing:
        report(f"missing tags: {', '.join(missing)}", None)


def stateful_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    primary_db = (args.resource_type == "aws:rds/instance:Instance"
                  and not args.props.get("replicateSourceDb"))
    if primary_db:
        if not _truthy(args.props.get("deletionProtection")):
            report("database has no deletion protection", None)
        if _truthy(args.props.get("skipFinalSnapshot")):
            report("database would be deleted without a final snapshot", None)
    if (args.resource_type in STATEFUL_TYPES or primary_db) and not args.opts.protect:
        report("stateful resource is not protected (`protect`)", None)


def _bucket_settings(resources: list[PolicyResource], bucket: PolicyResource, type_: str) -> list[PolicyResource]:
    def belongs(resource: PolicyResource) -> bool:
        deps = resource.property_dependencies.get("bucket", [])
        same_name = bucket.props.get("bucket") and resource.props.get("bucket") == bucket.props.get("bucket")
        return any(dep.urn == bucket.urn for dep in deps) or bool(same_name)

    return [r for r in resources if r.resource_type == type_ and belongs(r)]


def buckets_locked_down(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    for bucket in (r for r in resources if r.resource_type == BUCKET):
        encryption = _bucket_settings(
            resources, bucket,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        if not encryption or any(_sse_problems(e.props) for e in encryption):
            report(f"bucket {bucket.name} has no aws:kms default encryption", bucket.urn)
        blocks = _bucket_settings(resources, bucket, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        if not any(all(_truthy(b.props.get(flag)) for flag in flags) for b in blocks):
            report(f"bucket {bucket.name} does not block public access", bucket.urn)


MANDATORY = EnforcementLevel.MANDATORY
POLICIES = [
    ResourceValidationPolicy(
        name="storage-encrypted", description="Volumes, databases, caches, buckets, logs, "
        "secrets and topics are encrypted with KMS; keys rotate.",
        validate=storage_encrypted, enforcement_level=MANDATORY),
    ResourceValidationPolicy(
        name="no-public-databases", description="Databases and brokers are never publicly accessible.",
        validate=no_public_database, enforcement_level=MANDATORY),
    ResourceValidationPolicy(
        name="no-open-security-groups", description="Only ports 80 and 443 accept traffic from the internet.",
        validate=no_open_security_group, enforcement_level=MANDATORY),
    ResourceValidationPolicy(
        name="required-tags", description=f"Taggable resources carry {', '.join(REQUIRED_TAGS)}.",
        validate=required_tags, enforcement_level=MANDATORY),
    ResourceValidationPolicy(
        name="stateful-resources-protected", description="Stateful resources are protected from "
        "deletion; databases keep deletion protection and a final snapshot.",
        validate=stateful_protected, enforcement_level=MANDATORY),
    StackValidationPolicy(
        name="buckets-locked-down", description="Every bucket has KMS default encryption and "
        "blocks public access.", validate=buckets_locked_down, enforcement_level=MANDATORY),
    StackValidationPolicy(
        name="databases-in-private-subnets", description="Database, cache and broker subnets have "
        "no route to an internet gateway.", validate=databases_in_private_subnets,
        enforcement_level=MANDATORY),
]

"""The guardrail policy pack, called on the inputs recorded from each phase's program."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import guardrails
import pytest
from infra_harness import Resource, Run, violations

Mutation = Callable[[Resource, Run], None]


def test_policy_pack_covers_the_guardrails() -> None:
    names = {policy.name for policy in guardrails.POLICIES}
    assert {"storage-encrypted", "no-public-databases", "no-open-security-groups",
            "required-tags", "stateful-resources-protected", "buckets-locked-down",
            "databases-in-private-subnets"} == names
    assert all(p.enforcement_level == guardrails.MANDATORY for p in guardrails.POLICIES)


def test_recorded_stacks_pass_every_policy(phase_run: Run) -> None:
    assert violations(guardrails.POLICIES, phase_run.resources) == []


def test_tags_policy_checks_only_taggable_resources() -> None:
    assert guardrails.is_taggable("aws:s3/bucket:Bucket")
    assert guardrails.is_taggable("aws:autoscaling/group:Group")
    assert not guardrails.is_taggable("aws:s3/bucketPolicy:BucketPolicy")
    assert not guardrails.is_taggable("random:index/randomPassword:RandomPassword")
    assert not guardrails.is_taggable("aws:nosuch/thing:Thing")


# --- each violation is detected on a deliberately bad input --------------------------------


def _set(path: str, value: Any) -> Mutation:
    def mutate(resource: Resource, _run: Run) -> None:
        *parents, last = path.split(".")
        target: Any = resource.inputs
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            target.pop(last, None)
        else:
            target[int(last) if last.isdigit() else last] = value
    return mutate


_DELETE = object()


def _unprotect(resource: Resource, _run: Run) -> None:
    resource.protect = False


def _drop_tag(key: str) -> Mutation:
    def mutate(resource: Resource, _run: Run) -> None:
        resource.inputs["tags"] = [t for t in resource.inputs["tags"] if t["key"] != key]
    return mutate


def _inline_world_ingress(resource: Resource, _run: Run) -> None:
    resource.inputs["ingress"] = [{"protocol": "tcp", "fromPort": 5432, "toPort": 5432,
                                   "ipv6CidrBlocks": ["::/0"]}]


def _remove_from_run(resource: Resource, run: Run) -> None:
    run.resources.remove(resource)


def _place_in_public_subnets(resource: Resource, run: Run) -> None:
    public = [r.urn for r in run.resources if r.type == "aws:ec2/subnet:Subnet"
              and r.name.startswith("public-")]
    resource.property_dependencies["subnetIds"] = public


BAD_INPUTS = [
    # (policy, phase, type, logical name, mutation)
    ("storage-encrypted", 1, "aws:ebs/volume:Volume", "postgres-volume", _set("encrypted", False)),
    ("storage-encrypted", 1, "aws:ebs/volume:Volume", "redis-volume", _set("kmsKeyId", _DELETE)),
    ("storage-encrypted", 1, "aws:ec2/instance:Instance", "host", _set("rootBlockDevice.encrypted", False)),
    ("storage-encrypted", 2, "aws:rds/instance:Instance", "postgres", _set("storageEncrypted", False)),
    ("storage-encrypted", 2, "aws:elasticache/replicationGroup:ReplicationGroup", "redis",
     _set("transitEncryptionEnabled", False)),
    ("storage-encrypted", 2, "aws:ec2/launchTemplate:LaunchTemplate", "app-template",
     _set("blockDeviceMappings.0.ebs.encrypted", "false")),
    ("storage-encrypted", 1,
     "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
     "backup-encryption", _set("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", "AES256")),
    ("storage-encrypted", 1, "aws:cloudwatch/logGroup:LogGroup", "app-logs", _set("kmsKeyId", _DELETE)),
    ("storage-encrypted", 1, "aws:kms/key:Key", "s3-key", _set("enableKeyRotation", False)),
    ("no-public-databases", 2, "aws:rds/instance:Instance", "postgres", _set("publiclyAccessible", True)),
    ("no-public-databases", 3, "aws:mq/broker:Broker", "broker-cluster", _set("publiclyAccessible", True)),
    ("no-open-security-groups", 2, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     "database-from-app", _set("cidrIpv4", "0.0.0.0/0")),
    ("no-open-security-groups", 1, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     "alb-in-443", _set("ipProtocol", "-1")),
    ("no-open-security-groups", 1, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     "alb-in-80", _set("toPort", 8080)),
    ("no-open-security-groups", 1, "aws:ec2/securityGroup:SecurityGroup", "app-sg", _inline_world_ingress),
    ("required-tags", 1, "aws:s3/bucket:Bucket", "exports-bucket", _set("tags", _DELETE)),
    ("required-tags", 2, "aws:autoscaling/group:Group", "app", _drop_tag("Tier")),
    ("required-tags", 3, "aws:ec2/vpc:Vpc", "vpc", _set("tags.ManagedBy", _DELETE)),
    ("stateful-resources-protected", 2, "aws:rds/instance:Instance", "postgres", _unprotect),
    ("stateful-resources-protected", 2, "aws:rds/instance:Instance", "postgres",
     _set("skipFinalSnapshot", True)),
    ("stateful-resources-protected", 1, "aws:ebs/volume:Volume", "exports-volume", _unprotect),
    ("buckets-locked-down", 1,
     "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
     "exports-encryption", _remove_from_run),
    ("buckets-locked-down", 2, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
     "backup-public-access", _set("restrictPublicBuckets", False)),
    ("databases-in-private-subnets", 2, "aws:rds/subnetGroup:SubnetGroup", "postgres-subnets",
     _place_in_public_subnets),
    ("databases-in-private-subnets", 3, "aws:elasticache/subnetGroup:SubnetGroup", "redis-subnets",
     _place_in_public_subnets),
]


# A non-KMS default encryption is also the bucket-level rule's concern.
ALSO_REPORTED = {"backup-encryption": {"buckets-locked-down"}}


@pytest.mark.parametrize(
    "policy,phase,type_,name,mutation", BAD_INPUTS,
    ids=[f"{policy}:{name}:{getattr(m, '__name__', '')}" for policy, _, _, name, m in BAD_INPUTS])
def test_bad_input_is_a_violation(runs: dict[int, Run], policy: str, phase: int, type_: str,
                                  name: str, mutation: Mutation) -> None:
    run = copy.deepcopy(runs[phase])
    target = run.one(type_, name)
    mutation(target, run)
    found = violations(guardrails.POLICIES, run.resources)
    assert found, "the bad input went unnoticed"
    assert {p for p, _, _ in found} == {policy} | ALSO_REPORTED.get(name, set()), found

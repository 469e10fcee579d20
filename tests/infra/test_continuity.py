"""Moving a stack from one phase to the next keeps what persists.

Pulumi matches resources by URN (type chain and logical name); a changed URN, or a
changed input that AWS cannot update in place, means delete-and-recreate. The runs
here are one stack ("production") taking the phase 1, 2, then 3 stack files.
"""

from __future__ import annotations

import pytest
from infra_harness import Resource, Run

# Inputs AWS (and so the provider) can only set at creation, per persistent type.
CREATE_ONLY = {
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone", "vpcId"),
    "aws:ec2/securityGroup:SecurityGroup": ("description", "vpcId"),
    "aws:kms/key:Key": ("keyUsage", "customerMasterKeySpec"),
    "aws:secretsmanager/secret:Secret": ("name", "kmsKeyId"),
    "aws:s3/bucket:Bucket": ("bucketPrefix",),
    "aws:lb/loadBalancer:LoadBalancer": ("internal", "loadBalancerType"),
    "aws:lb/targetGroup:TargetGroup": ("port", "protocol", "targetType", "vpcId"),
    "aws:acm/certificate:Certificate": ("domainName", "validationMethod", "keyAlgorithm"),
    "aws:wafv2/webAcl:WebAcl": ("scope",),
    "aws:cloudwatch/logGroup:LogGroup": ("name",),
    "aws:sns/topic:Topic": (),
    "aws:backup/vault:Vault": ("kmsKeyArn",),
    "aws:ecr/repository:Repository": ("name",),
    "aws:iam/role:Role": (),
    "aws:route53/record:Record": ("name", "type"),
    "aws:rds/instance:Instance": ("identifier", "engine", "dbName", "username",
                                  "storageEncrypted", "kmsKeyId"),
    "aws:rds/parameterGroup:ParameterGroup": ("family",),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "replicationGroupId", "engine", "atRestEncryptionEnabled", "kmsKeyId"),
}
# Declared only while the single host exists; the volumes stay in AWS (retainOnDelete).
PHASE1_ONLY = {"host", "host-ip", "host-record", "postgres-volume", "redis-volume",
               "exports-volume"}


def persistent(run: Run) -> dict[str, Resource]:
    return {r.logical_urn: r for r in run.resources
            if r.type in CREATE_ONLY and r.name not in PHASE1_ONLY}


def test_every_persistent_type_is_exercised(migration_runs: dict[int, Run]) -> None:
    seen = {r.type for run in migration_runs.values() for r in persistent(run).values()}
    assert seen == set(CREATE_ONLY)


@pytest.mark.parametrize("earlier,later", [(1, 2), (2, 3), (1, 3)])
def test_shared_resources_keep_their_logical_names(migration_runs: dict[int, Run], earlier: int, later: int) -> None:
    before, after = persistent(migration_runs[earlier]), persistent(migration_runs[later])
    replaced_broker = {urn for urn, r in before.items() if r.type == "aws:mq/broker:Broker"}
    missing = sorted(set(before) - set(after) - replaced_broker)
    assert not missing, f"phase {later} would delete or replace: {missing}"


@pytest.mark.parametrize("earlier,later", [(1, 2), (2, 3)])
def test_shared_resources_keep_their_create_only_inputs(migration_runs: dict[int, Run], earlier: int, later: int) -> None:
    before, after = persistent(migration_runs[earlier]), persistent(migration_runs[later])
    changed = [
        (urn, key, before[urn].inputs.get(key), after[urn].inputs.get(key))
        for urn in set(before) & set(after)
        for key in CREATE_ONLY[before[urn].type]
        if before[urn].inputs.get(key) != after[urn].inputs.get(key)
    ]
    assert not changed


def test_core_resources_are_shared_by_all_phases(migration_runs: dict[int, Run]) -> None:
    shared = set(persistent(migration_runs[1])) & set(persistent(migration_runs[2])) & set(persistent(migration_runs[3]))
    names = {urn.rsplit("::", 1)[-1] for urn in shared}
    assert {"vpc", "public-a", "private-b", "alb-sg", "app-sg", "rds-key", "database-secret",
            "exports-bucket", "backup-bucket", "entry", "app", "certificate", "web-acl",
            "app-logs", "alarms", "backup-vault", "images", "host-role", "entry-record"} <= names


def test_managed_data_persists_from_phase2_to_phase3(migration_runs: dict[int, Run]) -> None:
    phase2, phase3 = persistent(migration_runs[2]), persistent(migration_runs[3])
    for name in ("postgres", "redis", "database-sg", "cache-sg", "broker-sg", "postgres-params",
                 "postgres-logs", "redis-slow-logs"):
        urns = [urn for urn in phase2 if urn.endswith("::" + name)]
        assert len(urns) == 1 and urns[0] in phase3, name


def test_clustered_broker_is_a_new_broker_beside_the_old_one(migration_runs: dict[int, Run]) -> None:
    (single,) = migration_runs[2].of_type("aws:mq/broker:Broker")
    (cluster,) = migration_runs[3].of_type("aws:mq/broker:Broker")
    # AWS cannot change a broker's deployment mode: a shared URN would mean an in-place
    # replacement of a protected resource. Distinct names let both run during the switch.
    assert single.inputs["deploymentMode"] != cluster.inputs["deploymentMode"]
    assert single.logical_urn != cluster.logical_urn
    assert single.inputs["brokerName"] != cluster.inputs["brokerName"]

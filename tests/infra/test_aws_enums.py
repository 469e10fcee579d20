"""Recorded inputs hold values the AWS APIs accept, per the API models botocore ships.

Under mocks a bad enum value passes silently (the provider would only fail at
`pulumi up`), so every enum-typed input the program sets is checked here,
case-insensitively (pulumi-aws writes `RabbitMQ` where the API says `RABBITMQ`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from infra_harness import Run

# (resource type, input path) -> (botocore service, enum shape). `[]` walks a list.
ENUM_INPUTS: dict[tuple[str, str], tuple[str, str]] = {
    ("aws:ec2/instance:Instance", "instanceType"): ("ec2", "InstanceType"),
    ("aws:ec2/instance:Instance", "metadataOptions.httpTokens"): ("ec2", "HttpTokensState"),
    ("aws:ec2/instance:Instance", "metadataOptions.httpEndpoint"): ("ec2", "InstanceMetadataEndpointState"),
    ("aws:ec2/instance:Instance", "rootBlockDevice.volumeType"): ("ec2", "VolumeType"),
    ("aws:ec2/launchTemplate:LaunchTemplate", "instanceType"): ("ec2", "InstanceType"),
    ("aws:ec2/launchTemplate:LaunchTemplate", "metadataOptions.httpTokens"):
        ("ec2", "LaunchTemplateHttpTokensState"),
    ("aws:ec2/launchTemplate:LaunchTemplate", "metadataOptions.httpEndpoint"):
        ("ec2", "LaunchTemplateInstanceMetadataEndpointState"),
    ("aws:ec2/launchTemplate:LaunchTemplate", "blockDeviceMappings[].ebs.volumeType"): ("ec2", "VolumeType"),
    ("aws:ec2/launchTemplate:LaunchTemplate", "tagSpecifications[].resourceType"): ("ec2", "ResourceType"),
    ("aws:ebs/volume:Volume", "type"): ("ec2", "VolumeType"),
    ("aws:ec2/eip:Eip", "domain"): ("ec2", "DomainType"),
    ("aws:ec2/flowLog:FlowLog", "trafficType"): ("ec2", "TrafficType"),
    ("aws:ec2/flowLog:FlowLog", "logDestinationType"): ("ec2", "LogDestinationType"),
    ("aws:ec2/natGateway:NatGateway", "connectivityType"): ("ec2", "ConnectivityType"),
    ("aws:ec2/vpcEndpoint:VpcEndpoint", "vpcEndpointType"): ("ec2", "VpcEndpointType"),
    ("aws:lb/loadBalancer:LoadBalancer", "loadBalancerType"): ("elbv2", "LoadBalancerTypeEnum"),
    ("aws:lb/loadBalancer:LoadBalancer", "ipAddressType"): ("elbv2", "IpAddressType"),
    ("aws:lb/targetGroup:TargetGroup", "protocol"): ("elbv2", "ProtocolEnum"),
    ("aws:lb/targetGroup:TargetGroup", "targetType"): ("elbv2", "TargetTypeEnum"),
    ("aws:lb/targetGroup:TargetGroup", "healthCheck.protocol"): ("elbv2", "ProtocolEnum"),
    ("aws:lb/listener:Listener", "protocol"): ("elbv2", "ProtocolEnum"),
    ("aws:lb/listener:Listener", "defaultActions[].type"): ("elbv2", "ActionTypeEnum"),
    ("aws:lb/listener:Listener", "defaultActions[].redirect.protocol"): ("elbv2", "ProtocolEnum"),
    ("aws:lb/listener:Listener", "defaultActions[].redirect.statusCode"):
        ("elbv2", "RedirectActionStatusCodeEnum"),
    ("aws:wafv2/webAcl:WebAcl", "scope"): ("wafv2", "Scope"),
    ("aws:wafv2/webAcl:WebAcl", "rules[].statement.rateBasedStatement.aggregateKeyType"):
        ("wafv2", "RateBasedStatementAggregateKeyType"),
    ("aws:autoscaling/policy:Policy",
     "targetTrackingConfiguration.predefinedMetricSpecification.predefinedMetricType"):
        ("autoscaling", "MetricType"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "comparisonOperator"): ("cloudwatch", "ComparisonOperator"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "statistic"): ("cloudwatch", "Statistic"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "metricQueries[].metric.stat"): ("cloudwatch", "Statistic"),
    ("aws:mq/broker:Broker", "engineType"): ("mq", "EngineType"),
    ("aws:mq/broker:Broker", "deploymentMode"): ("mq", "DeploymentMode"),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "transitEncryptionMode"):
        ("elasticache", "TransitEncryptionMode"),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "clusterMode"): ("elasticache", "ClusterMode"),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "logDeliveryConfigurations[].destinationType"):
        ("elasticache", "DestinationType"),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "logDeliveryConfigurations[].logFormat"):
        ("elasticache", "LogFormat"),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "logDeliveryConfigurations[].logType"):
        ("elasticache", "LogType"),
    ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "rules[].status"):
        ("s3", "ExpirationStatus"),
    ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "rules[].transitions[].storageClass"):
        ("s3", "TransitionStorageClass"),
    ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
     "rules[].applyServerSideEncryptionByDefault.sseAlgorithm"): ("s3", "ServerSideEncryption"),
    ("aws:s3/bucketVersioning:BucketVersioning", "versioningConfiguration.status"):
        ("s3", "BucketVersioningStatus"),
    ("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "rule.objectOwnership"):
        ("s3", "ObjectOwnership"),
    ("aws:kms/key:Key", "keyUsage"): ("kms", "KeyUsageType"),
    ("aws:kms/key:Key", "customerMasterKeySpec"): ("kms", "KeySpec"),
    ("aws:route53/record:Record", "type"): ("route53", "RRType"),
    ("aws:acm/certificate:Certificate", "validationMethod"): ("acm", "ValidationMethod"),
    ("aws:acm/certificate:Certificate", "keyAlgorithm"): ("acm", "KeyAlgorithm"),
    ("aws:ecr/repository:Repository", "imageTagMutability"): ("ecr", "ImageTagMutability"),
    ("aws:ecr/repository:Repository", "encryptionConfigurations[].encryptionType"): ("ecr", "EncryptionType"),
}


@functools.cache
def aws_enum(service: str, shape: str) -> frozenset[str]:
    model = _session().get_service_model(service)
    return frozenset(value.casefold() for value in model.shape_for(shape).enum)


@functools.lru_cache(maxsize=1)
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def values_at(value: Any, path: list[str]) -> Iterator[Any]:
    if not path:
        yield value
        return
    head, rest = path[0], path[1:]
    many = head.endswith("[]")
    key = head.removesuffix("[]")
    if not isinstance(value, dict) or key not in value:
        return
    items = value[key] if many else [value[key]]
    for item in items or []:
        yield from values_at(item, rest)


def invalid_values(runs: list[Run]) -> list[tuple[str, str, str, Any]]:
    bad = []
    for run in runs:
        for (type_, path), (service, shape) in ENUM_INPUTS.items():
            for resource in run.of_type(type_):
                for value in values_at(resource.inputs, path.split(".")):
                    if str(value).casefold() not in aws_enum(service, shape):
                        bad.append((run.stack, resource.name, path, value))
    return bad


@pytest.mark.parametrize("service,shape", sorted(set(ENUM_INPUTS.values())))
def test_each_checked_shape_is_an_aws_enum(service: str, shape: str) -> None:
    assert len(aws_enum(service, shape)) >= 2


def test_recorded_inputs_are_valid_aws_enum_values(runs: dict[int, Run]) -> None:
    assert invalid_values(list(runs.values())) == []


def test_every_checked_input_is_set_in_some_phase(runs: dict[int, Run]) -> None:
    unused = [
        key for key in ENUM_INPUTS
        if not any(list(values_at(r.inputs, key[1].split(".")))
                   for run in runs.values() for r in run.of_type(key[0]))
    ]
    assert unused == []


def test_a_wrong_value_is_caught(runs: dict[int, Run]) -> None:
    import copy

    run = copy.deepcopy(runs[3])
    run.one("aws:ec2/launchTemplate:LaunchTemplate", "backend-template").inputs["instanceType"] = "t3.mediun"
    run.one("aws:mq/broker:Broker", "broker-cluster").inputs["deploymentMode"] = "CLUSTER"
    assert {(name, value) for _, name, _, value in invalid_values([run])} == {
        ("backend-template", "t3.mediun"), ("broker-cluster", "CLUSTER")}

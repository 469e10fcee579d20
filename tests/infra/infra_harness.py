"""Runs the Pulumi program under Pulumi's own mocks and records every resource.

The program reads its real stack file (infra/Pulumi.phaseN.yaml) the way the Pulumi
CLI passes it: scalar values as strings, objects as JSON. The recording keeps each
resource's type, logical name, URN, parent, inputs (wire names, camelCase), options
(protect, retainOnDelete, ignoreChanges) and the fake outputs the mocks returned.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import config as runtime_config
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
PROJECT = "sanctumtools"
ACCOUNT = "123456789012"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270"


def mock_password(name: str) -> str:
    return ("Mock" + name.replace("-", "")).ljust(32, "x")


def stack_config(phase_or_stack: int | str) -> dict[str, Any]:
    """The `config:` mapping of a real stack file."""
    stack = f"phase{phase_or_stack}" if isinstance(phase_or_stack, int) else phase_or_stack
    document = yaml.safe_load((INFRA / f"Pulumi.{stack}.yaml").read_text())
    return dict(document["config"])


def as_cli_config(config: dict[str, Any]) -> dict[str, str]:
    """What the CLI hands a Python program: strings, with objects and lists as JSON."""
    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    return {key: text(value) for key, value in config.items()}


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


def unwrap(value: Any) -> Any:
    """Removes the mock monitor's secret wrappers, recursively."""
    if is_secret(value):
        return unwrap(value.get("value"))
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


@dataclass
class Resource:
    type: str
    name: str
    urn: str
    parent: str
    id: str
    raw_inputs: dict[str, Any]
    outputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    custom: bool
    # Input property -> URNs of the resources its value came from.
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    inputs: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.inputs = unwrap(self.raw_inputs)

    @property
    def logical_urn(self) -> str:
        """The URN without its stack: what must stay equal from one phase to the next."""
        return self.urn.split("::", 1)[1]


@dataclass
class Run:
    stack: str
    resources: list[Resource]
    outputs: dict[str, Any]

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> Resource:
        found = [r for r in self.of_type(type_) if r.name == name]
        assert len(found) == 1, f"expected one {type_} named {name}, found {len(found)}"
        return found[0]

    def by_id(self, resource_id: str) -> Resource:
        found = [r for r in self.resources if r.custom and r.id == resource_id]
        assert len(found) == 1, f"no resource with id {resource_id}"
        return found[0]

    def custom(self) -> Iterator[Resource]:
        return (r for r in self.resources if r.custom)


# --- fake provider outputs -------------------------------------------------------------

def _arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def fake_outputs(typ: str, name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    """A physical id and plausible outputs for a resource, in wire (camelCase) names."""
    service = typ.split(":")[1].split("/")[0]
    out: dict[str, Any] = {**inputs, "arn": _arn(service, region, f"{name}")}
    rid = f"{name}-{typ.rsplit(':', 1)[-1].lower()}-id"
    special: dict[str, Callable[[], None]] = {
        "aws:s3/bucket:Bucket": lambda: out.update(
            bucket=inputs.get("bucketPrefix", "") + "mock", arn=f"arn:aws:s3:::{inputs.get('bucketPrefix', '')}mock"),
        "aws:kms/key:Key": lambda: out.update(keyId=f"{name}-key-id", arn=_arn("kms", region, f"key/{name}")),
        "aws:cloudwatch/logGroup:LogGroup": lambda: out.update(
            arn=_arn("logs", region, f"log-group:{inputs['name']}")),
        # Marked secret as the real engine does (additionalSecretOutputs), and distinct
        # per password so tests can follow where each value flows.
        "random:index/randomPassword:RandomPassword": lambda: out.update(
            result={SECRET_SIG: SECRET_VALUE_SIG, "value": mock_password(name)}),
        "aws:lb/loadBalancer:LoadBalancer": lambda: out.update(
            dnsName=f"{name}-123.{region}.elb.amazonaws.com", zoneId="Z35SXDOTRQ7X7K",
            arnSuffix=f"app/{name}/0123456789abcdef"),
        "aws:lb/targetGroup:TargetGroup": lambda: out.update(arnSuffix=f"targetgroup/{name}/fedcba9876543210"),
        "aws:ec2/eip:Eip": lambda: out.update(publicIp="203.0.113.10", allocationId=f"eipalloc-{name}"),
        "aws:ec2/instance:Instance": lambda: out.update(privateIp="10.20.0.10"),
        "aws:rds/instance:Instance": lambda: out.update(
            address=f"{inputs['identifier']}.abc.{region}.rds.amazonaws.com",
            endpoint=f"{inputs['identifier']}.abc.{region}.rds.amazonaws.com:5432"),
        "aws:elasticache/replicationGroup:ReplicationGroup": lambda: out.update(
            primaryEndpointAddress=f"master.{name}.cache.amazonaws.com",
            configurationEndpointAddress=f"clustercfg.{name}.cache.amazonaws.com"),
        "aws:mq/broker:Broker": lambda: out.update(instances=[{
            "endpoints": [f"amqps://b-1234.mq.{region}.amazonaws.com:5671"]}]),
        "aws:acm/certificate:Certificate": lambda: out.update(domainValidationOptions=[{
            "domainName": inputs["domainName"], "resourceRecordName": f"_abc.{inputs['domainName']}.",
            "resourceRecordType": "CNAME", "resourceRecordValue": "_def.acm-validations.aws."}]),
        "aws:route53/record:Record": lambda: out.update(fqdn=inputs["name"]),
        "aws:ecr/repository:Repository": lambda: out.update(
            repositoryUrl=f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{inputs['name']}"),
        "aws:autoscaling/group:Group": lambda: out.update(name=f"{name}-asg-mock"),
        "aws:ec2/launchTemplate:LaunchTemplate": lambda: out.update(latestVersion=1),
        "aws:rds/subnetGroup:SubnetGroup": lambda: out.update(name=f"{name}-mock"),
        "aws:rds/parameterGroup:ParameterGroup": lambda: out.update(name=f"{name}-mock"),
        "aws:elasticache/subnetGroup:SubnetGroup": lambda: out.update(name=f"{name}-mock"),
        "aws:backup/vault:Vault": lambda: out.update(name=f"{name}-mock"),
        "aws:iam/role:Role": lambda: out.update(name=f"{name}-mock"),
        "aws:iam/instanceProfile:InstanceProfile": lambda: out.update(name=f"{name}-mock"),
    }
    special.get(typ, lambda: None)()
    if typ == "aws:s3/bucket:Bucket":
        rid = out["bucket"]
    return rid, out


class RecordingMocks(Mocks):
    def __init__(self, region: str) -> None:
        self.region = region

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return fake_outputs(args.typ, args.name, unwrap(args.inputs), self.region)

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci",
                    "userId": "AIDAMOCK", "id": ACCOUNT}
        if args.token == "aws:route53/getZone:getZone":
            return {"zoneId": "Z0MOCKZONE", "name": args.args["name"], "id": "Z0MOCKZONE"}
        if args.token == "aws:ssm/getParameter:getParameter":
            return {"value": "ami-0123456789abcdef0", "insecureValue": "ami-0123456789abcdef0",
                    "name": args.args["name"], "type": "String", "version": 1,
                    "arn": _arn("ssm", self.region, "parameter" + args.args["name"]),
                    "id": args.args["name"]}
        raise AssertionError(f"the program calls an invoke the mocks do not know: {args.token}")


class RecordingMonitor(MockMonitor):
    """Keeps what the plain mock monitor drops: options and parent of each registration."""

    def __init__(self, mocks: RecordingMocks, sink: list[Resource]) -> None:
        super().__init__(mocks)
        self.recorded = sink
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = self.resources[response.urn]
        resource = Resource(
            type=request.type, name=request.name, urn=response.urn, parent=request.parent,
            id=registration.id or "", raw_inputs=rpc.deserialize_properties(request.object),
            outputs=dict(registration.state), protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            ignore_changes=list(request.ignoreChanges), custom=bool(request.custom),
            property_dependencies={key: list(deps.urns)
                                   for key, deps in request.propertyDependencies.items()},
        )
        with self._lock:
            self.recorded.append(resource)
        return response


def run_program(stack: str, config: dict[str, Any], program: Callable[[], Any],
                sink: list[Resource] | None = None) -> Run:
    """Runs `program` (the real entry point) under mocks with `config` as the stack config.

    Registrations land in `sink` as they happen, so a caller can see them even when the
    program fails.
    """
    region = str(config.get("aws:region", "us-east-1"))
    mocks = RecordingMocks(region)
    monitor = RecordingMonitor(mocks, sink if sink is not None else [])
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    runtime_config.set_all_config(as_cli_config(config))
    captured: dict[str, Any] = {}

    @pulumi.runtime.test
    def body() -> Any:
        outputs = program()
        return pulumi.Output.from_input(outputs).apply(lambda values: captured.update(values or {}))

    body()
    return Run(stack, list(monitor.recorded), unwrap(captured))


# --- policy pack inputs ------------------------------------------------------------------

def _options(resource: Resource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect, ignore_changes=resource.ignore_changes,
        delete_before_replace=None, aliases=[], custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[], parent=resource.parent or None,
    )


def resource_args(resource: Resource) -> ResourceValidationArgs:
    """What the policy engine passes a resource validation during `pulumi preview`."""
    return ResourceValidationArgs(
        resource_type=resource.type, props=resource.inputs, urn=resource.urn,
        name=resource.name, opts=_options(resource), provider=None,
    )


def stack_args(resources: list[Resource]) -> StackValidationArgs:
    """What the policy engine passes a stack validation: resources linked by dependencies."""
    policy_resources = {
        r.urn: PolicyResource(
            resource_type=r.type, props={**r.outputs, **r.inputs}, urn=r.urn, name=r.name,
            opts=_options(r), provider=None, parent=None, dependencies=[],
            property_dependencies={})
        for r in resources if r.custom
    }
    for r in resources:
        if r.urn in policy_resources:
            policy_resources[r.urn].property_dependencies = {
                key: [policy_resources[u] for u in urns if u in policy_resources]
                for key, urns in r.property_dependencies.items()
            }
    return StackValidationArgs(resources=list(policy_resources.values()))


def violations(policies: list[Any], run_resources: list[Resource]) -> list[tuple[str, str, str]]:
    """(policy, resource name, message) for every violation the pack reports."""
    found: list[tuple[str, str, str]] = []
    for policy in policies:
        if isinstance(policy, ResourceValidationPolicy):
            for resource in (r for r in run_resources if r.custom):
                policy.validate(resource_args(resource),
                                lambda message, urn=None, r=resource, p=policy: found.append(
                                    (p.name, r.name, message)))
        elif isinstance(policy, StackValidationPolicy):
            policy.validate(stack_args(run_resources),
                            lambda message, urn=None, p=policy: found.append(
                                (p.name, (urn or "").rsplit("::", 1)[-1], message)))
    return found

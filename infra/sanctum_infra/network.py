"""Network tier: VPC over two or more zones, public and private subnets, NAT, flow logs,
and security groups that open only what each tier needs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .base import Tier, assume_role_policy, policy_document, statement
from .settings import Settings

HTTPS, HTTP, SSH, SMTP_SUBMISSION = 443, 80, 22, 587
POSTGRES, REDIS, AMQPS = 5432, 6379, 5671
ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class SubnetPlan:
    zone: str
    suffix: str
    public_cidr: str
    private_cidr: str


def plan_subnets(cidr: str, zones: tuple[str, ...]) -> list[SubnetPlan]:
    """Cuts the VPC into sixteen equal blocks: public subnets take the first, private the ninth on.

    Adding a zone later adds subnets without moving existing ones.
    """
    network = ipaddress.ip_network(cidr)
    blocks = list(network.subnets(prefixlen_diff=4))
    return [
        SubnetPlan(zone, zone[-1], str(blocks[index]), str(blocks[8 + index]))
        for index, zone in enumerate(zones)
    ]


class Network(Tier):
    kind = "Network"

    def __init__(
        self,
        name: str,
        settings: Settings,
        logs_key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, settings, opts)
        self.plan = plan_subnets(settings.network.cidr, settings.network.availability_zones)
        self.vpc = aws.ec2.Vpc(
            "vpc",
            cidr_block=settings.network.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=self.tags("vpc"),
            opts=self.child(),
        )
        self._lock_default_security_group()
        self.public_subnets = [self._subnet(p, public=True) for p in self.plan]
        self.private_subnets = [self._subnet(p, public=False) for p in self.plan]
        self._public_routes()
        nats = [self._nat(p, subnet) for p, subnet in
                zip(self.plan[: settings.network.nat_gateways], self.public_subnets, strict=False)]
        route_tables = [self._private_routes(p, subnet, nats) for p, subnet in
                        zip(self.plan, self.private_subnets, strict=True)]
        self._s3_endpoint(route_tables + [self.public_route_table])
        self._flow_logs(logs_key_arn)
        self._security_groups()
        self.register_outputs({"vpc_id": self.vpc.id})

    @property
    def public_subnet_ids(self) -> list[pulumi.Output[str]]:
        return [subnet.id for subnet in self.public_subnets]

    @property
    def private_subnet_ids(self) -> list[pulumi.Output[str]]:
        return [subnet.id for subnet in self.private_subnets]

    def _lock_default_security_group(self) -> None:
        # Without rules, nothing placed in the default group by mistake can talk.
        aws.ec2.DefaultSecurityGroup(
            "default-sg", vpc_id=self.vpc.id, tags=self.tags("default-sg"), opts=self.child()
        )

    def _subnet(self, plan: SubnetPlan, public: bool) -> aws.ec2.Subnet:
        kind = "public" if public else "private"
        return aws.ec2.Subnet(
            f"{kind}-{plan.suffix}",
            vpc_id=self.vpc.id,
            cidr_block=plan.public_cidr if public else plan.private_cidr,
            availability_zone=plan.zone,
            # Public addresses are given explicitly (Elastic IP), never by default.
            map_public_ip_on_launch=False,
            tags={**self.tags(f"{kind}-{plan.suffix}"), "Access": kind},
            opts=self.child(),
        )

    def _public_routes(self) -> None:
        gateway = aws.ec2.InternetGateway(
            "internet-gateway", vpc_id=self.vpc.id, tags=self.tags("internet-gateway"),
            opts=self.child(),
        )
        self.public_route_table = aws.ec2.RouteTable(
            "public-routes", vpc_id=self.vpc.id, tags=self.tags("public-routes"), opts=self.child()
        )
        aws.ec2.Route(
            "public-default-route",
            route_table_id=self.public_route_table.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=gateway.id,
            opts=self.child(),
        )
        for plan, subnet in zip(self.plan, self.public_subnets, strict=True):
            aws.ec2.RouteTableAssociation(
                f"public-{plan.suffix}-routes",
                subnet_id=subnet.id,
                route_table_id=self.public_route_table.id,
                opts=self.child(),
            )

    def _nat(self, plan: SubnetPlan, subnet: aws.ec2.Subnet) -> aws.ec2.NatGateway:
        address = aws.ec2.Eip(
            f"nat-{plan.suffix}-ip", domain="vpc", tags=self.tags(f"nat-{plan.suffix}-ip"),
            opts=self.child(),
        )
        return aws.ec2.NatGateway(
            f"nat-{plan.suffix}",
            allocation_id=address.id,
            subnet_id=subnet.id,
            connectivity_type="public",
            tags=self.tags(f"nat-{plan.suffix}"),
            opts=self.child(),
        )

    def _private_routes(
        self, plan: SubnetPlan, subnet: aws.ec2.Subnet, nats: list[aws.ec2.NatGateway]
    ) -> aws.ec2.RouteTable:
        table = aws.ec2.RouteTable(
            f"private-{plan.suffix}-routes", vpc_id=self.vpc.id,
            tags=self.tags(f"private-{plan.suffix}-routes"), opts=self.child(),
        )
        if nats:
            # Each zone uses its own NAT when there is one, else the last one.
            nat = nats[min(self.plan.index(plan), len(nats) - 1)]
            aws.ec2.Route(
                f"private-{plan.suffix}-default-route",
                route_table_id=table.id,
                destination_cidr_block=ANYWHERE,
                nat_gateway_id=nat.id,
                opts=self.child(),
            )
        aws.ec2.RouteTableAssociation(
            f"private-{plan.suffix}-association", subnet_id=subnet.id, route_table_id=table.id,
            opts=self.child(),
        )
        return table

    def _s3_endpoint(self, tables: list[aws.ec2.RouteTable]) -> None:
        # Backups and exports reach S3 without paying NAT data charges.
        aws.ec2.VpcEndpoint(
            "s3-endpoint",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{self.settings.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in tables],
            tags=self.tags("s3-endpoint"),
            opts=self.child(),
        )

    def _flow_logs(self, logs_key_arn: pulumi.Input[str]) -> None:
        self.flow_log_group = self.log_group(
            "flow-logs", f"/sanctum/{self.settings.stack}/vpc-flow", logs_key_arn
        )
        role = aws.iam.Role(
            "flow-logs-role",
            assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com"),
            tags=self.tags("flow-logs-role"),
            opts=self.child(),
        )
        aws.iam.RolePolicy(
            "flow-logs-write",
            role=role.id,
            policy=policy_document(statement(
                ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                [pulumi.Output.concat(self.flow_log_group.arn, ":*")],
            )),
            opts=self.child(),
        )
        aws.ec2.FlowLog(
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=600,
            tags=self.tags("flow-log"),
            opts=self.child(),
        )

    # --- security groups -----------------------------------------------------------------

    def _security_groups(self) -> None:
        s = self.settings
        self.alb_sg = self._group("alb", "Load balancer: HTTPS and HTTP (redirect) from anywhere")
        self.app_sg = self._group("app", "Hosts behind the load balancer")
        self.worker_sg = self._group("workers", "Hosts without HTTP traffic") if s.phase == 3 else None
        self.database_sg = self.cache_sg = self.broker_sg = None
        if s.managed_data:
            self.database_sg = self._group("database", "PostgreSQL from the hosts only")
            self.cache_sg = self._group("cache", "Redis from the hosts only")
            self.broker_sg = self._group("broker", "AMQPS from the hosts only")
        self._entry_rules()
        for name, group in self.host_groups.items():
            self._host_egress(name, group)
        self._data_rules()

    @property
    def host_groups(self) -> dict[str, aws.ec2.SecurityGroup]:
        groups = {"app": self.app_sg, "workers": self.worker_sg}
        return {name: group for name, group in groups.items() if group is not None}

    def _group(self, name: str, description: str) -> aws.ec2.SecurityGroup:
        return aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=self.vpc.id,
            description=description,
            tags=self.tags(f"{name}-sg"),
            opts=self.child(),
        )

    def _entry_rules(self) -> None:
        for port in (HTTPS, HTTP):
            self._ingress(f"alb-in-{port}", self.alb_sg, port, cidr=ANYWHERE)
        self._egress("alb-to-app", self.alb_sg, HTTPS, group=self.app_sg)
        self._ingress("app-from-alb", self.app_sg, HTTPS, group=self.alb_sg)
        for index, cidr in enumerate(self.settings.network.admin_cidrs):
            self._ingress(f"app-ssh-{index}", self.app_sg, SSH, cidr=cidr)

    def _host_egress(self, name: str, group: aws.ec2.SecurityGroup) -> None:
        # HTTPS for AWS APIs and the image registry, HTTP for Debian mirrors, SMTP
        # submission for crisis emails.
        for port in (HTTPS, HTTP, SMTP_SUBMISSION):
            self._egress(f"{name}-out-{port}", group, port, cidr=ANYWHERE)

    def _data_rules(self) -> None:
        pairs = [(self.database_sg, POSTGRES, "database"), (self.cache_sg, REDIS, "cache"),
                 (self.broker_sg, AMQPS, "broker")]
        for target, port, label in pairs:
            if target is None:
                continue
            for host_name, host in self.host_groups.items():
                self._ingress(f"{label}-from-{host_name}", target, port, group=host)
                self._egress(f"{host_name}-to-{label}", host, port, group=target)

    def _ingress(self, name: str, target: aws.ec2.SecurityGroup, port: int, *,
                 cidr: str | None = None,
                 group: aws.ec2.SecurityGroup | None = None) -> None:
        self._rule(aws.vpc.SecurityGroupIngressRule, name, target, port, cidr, group)

    def _egress(self, name: str, target: aws.ec2.SecurityGroup, port: int, *,
                cidr: str | None = None,
                group: aws.ec2.SecurityGroup | None = None) -> None:
        self._rule(aws.vpc.SecurityGroupEgressRule, name, target, port, cidr, group)

    def _rule(self, kind: type[aws.vpc.SecurityGroupIngressRule] | type[aws.vpc.SecurityGroupEgressRule],
              name: str, target: aws.ec2.SecurityGroup, port: int,
              cidr: str | None, group: aws.ec2.SecurityGroup | None) -> None:
        """One TCP port, to or from one CIDR or one other security group."""
        kind(
            name,
            security_group_id=target.id,
            description=name,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4=cidr,
            referenced_security_group_id=group.id if group is not None else None,
            tags=self.tags(name),
            opts=self.child(),
        )

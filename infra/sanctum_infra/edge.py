"""Edge tier: the public entry. An Application Load Balancer in every phase (TLS with an
ACM certificate, HTTP redirected, WAF attached), its target group and the DNS name.

Phase 3's seed diagram draws an API Gateway. WAF cannot attach to an API Gateway v2 HTTP
API, and a REST API would need a VPC link and an extra NLB hop to reach the same hosts,
so the ALB stays the entry: it carries WAF, routes to the frontend cluster, and keeps
the DNS name and certificate unchanged from phase 1 to phase 3.
"""

from __future__ import annotations

import functools

import pulumi
import pulumi_aws as aws

from .base import Tier
from .network import HTTP, HTTPS, Network
from .observability import Metric, Observability
from .settings import Settings

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HEALTH_CHECK_PATH = "/health"


ALB = "AWS/ApplicationELB"


class Edge(Tier):
    kind = "Edge"

    def __init__(
        self,
        name: str,
        settings: Settings,
        network: Network,
        web_acl_arn: pulumi.Input[str],
        observability: Observability,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, settings, opts)
        self.zone_id = aws.route53.get_zone_output(
            name=settings.hosted_zone, private_zone=False,
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).zone_id
        certificate_arn = self._certificate()
        self.load_balancer = aws.lb.LoadBalancer(
            "entry",
            load_balancer_type="application",
            internal=False,
            ip_address_type="ipv4",
            security_groups=[network.alb_sg.id],
            subnets=network.public_subnet_ids,
            drop_invalid_header_fields=True,
            enable_deletion_protection=True,
            idle_timeout=60,
            tags=self.tags("entry"),
            opts=self.child(),
        )
        self.target_group = self._target_group(network)
        self._listeners(certificate_arn)
        self.web_acl_association = aws.wafv2.WebAclAssociation(
            "web-acl-association",
            resource_arn=self.load_balancer.arn,
            web_acl_arn=web_acl_arn,
            opts=self.child(),
        )
        self.record = self._alias_record()
        self.url = f"https://{settings.domain}"
        self._alarms(observability)
        self.register_outputs({"url": self.url, "entry_dns": self.load_balancer.dns_name})

    def _alarms(self, observability: Observability) -> None:
        t = self.settings.observability.thresholds
        lb = {"LoadBalancer": self.load_balancer.arn_suffix}
        latency = Metric(ALB, "TargetResponseTime", lb)
        alarm = functools.partial(observability.alarm, self)
        alarm("latency-p95", "p95 latency above target", t.latency_p95_seconds,
              metric=latency, statistic="p95", periods=5)
        alarm("latency-p99", "p99 latency above target", t.latency_p99_seconds,
              metric=latency, statistic="p99", periods=5)
        alarm("error-rate", "share of requests answered 5xx above target", t.error_rate_percent,
              queries=self._error_rate_queries(), periods=5, datapoints=3, missing="notBreaching")
        targets = {**lb, "TargetGroup": self.target_group.arn_suffix}
        alarm("unhealthy-hosts", "a host behind the load balancer fails its health check", 0,
              metric=Metric(ALB, "UnHealthyHostCount", targets), statistic="Maximum")

    def _error_rate_queries(self) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict]:
        lb = {"LoadBalancer": self.load_balancer.arn_suffix}

        def count(query_id: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgsDict:
            return {"id": query_id, "metric": {
                "namespace": ALB, "metric_name": metric_name, "dimensions": lb,
                "period": 60, "stat": "Sum"}}

        return [
            count("target5xx", "HTTPCode_Target_5XX_Count"),
            count("elb5xx", "HTTPCode_ELB_5XX_Count"),
            count("requests", "RequestCount"),
            {"id": "rate", "label": "5xx error rate (%)", "return_data": True,
             "expression": "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / FILL(requests, 1)"},
        ]

    def _certificate(self) -> pulumi.Output[str]:
        certificate = aws.acm.Certificate(
            "certificate",
            domain_name=self.settings.domain,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            tags=self.tags("certificate"),
            opts=self.child(),
        )
        option = certificate.domain_validation_options[0]
        record = aws.route53.Record(
            "certificate-validation-record",
            zone_id=self.zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=300,
            allow_overwrite=True,
            opts=self.child(),
        )
        validation = aws.acm.CertificateValidation(
            "certificate-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
            opts=self.child(),
        )
        return validation.certificate_arn

    def _target_group(self, network: Network) -> aws.lb.TargetGroup:
        # nginx terminates TLS on the hosts too, so traffic stays encrypted inside the VPC.
        return aws.lb.TargetGroup(
            "app",
            port=HTTPS,
            protocol="HTTPS",
            target_type="instance",
            vpc_id=network.vpc.id,
            deregistration_delay=30,
            health_check={
                "enabled": True,
                "protocol": "HTTPS",
                "path": HEALTH_CHECK_PATH,
                "matcher": "200",
                "interval": 15,
                "timeout": 5,
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
            },
            tags=self.tags("app-targets"),
            opts=self.child(),
        )

    def _listeners(self, certificate_arn: pulumi.Input[str]) -> None:
        aws.lb.Listener(
            "https",
            load_balancer_arn=self.load_balancer.arn,
            port=HTTPS,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=certificate_arn,
            default_actions=[{"type": "forward", "target_group_arn": self.target_group.arn}],
            tags=self.tags("https"),
            opts=self.child(),
        )
        aws.lb.Listener(
            "http-redirect",
            load_balancer_arn=self.load_balancer.arn,
            port=HTTP,
            protocol="HTTP",
            default_actions=[{
                "type": "redirect",
                "redirect": {"port": str(HTTPS), "protocol": "HTTPS", "status_code": "HTTP_301"},
            }],
            tags=self.tags("http-redirect"),
            opts=self.child(),
        )

    def _alias_record(self) -> aws.route53.Record:
        return aws.route53.Record(
            "entry-record",
            zone_id=self.zone_id,
            name=self.settings.domain,
            type="A",
            aliases=[{
                "name": self.load_balancer.dns_name,
                "zone_id": self.load_balancer.zone_id,
                "evaluate_target_health": True,
            }],
            opts=self.child(),
        )

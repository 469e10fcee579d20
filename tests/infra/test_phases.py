"""Each phase's program, run against its real stack file, holds the issue's invariants."""

from __future__ import annotations

import base64
import json
import shlex

import pytest
from infra_harness import Resource, Run, stack_config

INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
RDS = "aws:rds/instance:Instance"
REDIS = "aws:elasticache/replicationGroup:ReplicationGroup"
BROKER = "aws:mq/broker:Broker"
ASG = "aws:autoscaling/group:Group"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SUBNET = "aws:ec2/subnet:Subnet"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"
BUCKET = "aws:s3/bucket:Bucket"


def private_subnet_ids(run: Run) -> set[str]:
    return {r.id for r in run.of_type(SUBNET) if r.name.startswith("private-")}


def public_subnet_ids(run: Run) -> set[str]:
    return {r.id for r in run.of_type(SUBNET) if r.name.startswith("public-")}


def key_arn(run: Run, purpose: str) -> str:
    return run.one("aws:kms/key:Key", f"{purpose}-key").outputs["arn"]


def sg_id(run: Run, name: str) -> str:
    return run.one(SG, f"{name}-sg").id


def config_section(phase: int, key: str) -> dict:
    return stack_config(phase).get(f"sanctum:{key}", {})


# --- every phase ---------------------------------------------------------------------------


def test_network_spans_two_or_more_zones(phase_run: Run) -> None:
    subnets = phase_run.of_type(SUBNET)
    for kind in ("public", "private"):
        zones = {s.inputs["availabilityZone"] for s in subnets if s.name.startswith(kind)}
        assert len(zones) >= 2, kind
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)


def test_private_subnets_reach_internet_only_through_nat(phase_run: Run) -> None:
    routes = phase_run.of_type("aws:ec2/route:Route")
    private_routes = [r for r in routes if r.name.startswith("private-")]
    assert all("natGatewayId" in r.inputs and "gatewayId" not in r.inputs for r in private_routes)
    nats = phase_run.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == int(config_section(int(phase_run.stack[-1]), "network")["natGateways"])
    assert {n.inputs["subnetId"] for n in nats} <= public_subnet_ids(phase_run)


def test_kms_keys_rotate_for_every_purpose(phase_run: Run) -> None:
    keys = phase_run.of_type("aws:kms/key:Key")
    assert {k.name for k in keys} == {f"{p}-key" for p in ("rds", "ebs", "s3", "logs", "secrets")}
    assert all(k.inputs["enableKeyRotation"] is True for k in keys)


def test_secrets_manager_holds_each_secret_under_the_secrets_key(phase_run: Run) -> None:
    secrets = phase_run.of_type("aws:secretsmanager/secret:Secret")
    assert {s.name for s in secrets} == {
        f"{n}-secret" for n in ("database", "broker", "redis", "jwt", "service-auth")}
    assert {s.inputs["kmsKeyId"] for s in secrets} == {key_arn(phase_run, "secrets")}


def test_buckets_are_encrypted_versioned_and_private(phase_run: Run) -> None:
    buckets = {b.outputs["bucket"]: b for b in phase_run.of_type(BUCKET)}
    assert {b.name for b in buckets.values()} == {"exports-bucket", "backup-bucket"}
    sse = phase_run.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    for config in sse:
        rule = config.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        assert rule == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn(phase_run, "s3")}
    blocks = phase_run.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    versioning = phase_run.of_type("aws:s3/bucketVersioning:BucketVersioning")
    for settings in (sse, blocks, versioning):
        assert {s.inputs["bucket"] for s in settings} == set(buckets)
    assert all(all(b.inputs[flag] is True for flag in ("blockPublicAcls", "blockPublicPolicy",
               "ignorePublicAcls", "restrictPublicBuckets")) for b in blocks)
    assert all(v.inputs["versioningConfiguration"]["status"] == "Enabled" for v in versioning)


def test_waf_guards_the_public_entry(phase_run: Run) -> None:
    acl = phase_run.one("aws:wafv2/webAcl:WebAcl", "web-acl")
    entry = phase_run.one("aws:lb/loadBalancer:LoadBalancer", "entry")
    association = phase_run.one("aws:wafv2/webAclAssociation:WebAclAssociation", "web-acl-association")
    assert association.inputs["resourceArn"] == entry.outputs["arn"]
    assert association.inputs["webAclArn"] == acl.outputs["arn"]
    rules = {rule["name"]: rule for rule in acl.inputs["rules"]}
    rate = rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"]
    assert rate["aggregateKeyType"] == "IP"
    assert rate["limit"] == config_section(int(phase_run.stack[-1]), "waf")["rateLimitPer5Min"]
    managed = {r["statement"]["managedRuleGroupStatement"]["name"] for r in rules.values()
               if "managedRuleGroupStatement" in r["statement"]}
    assert {"AWSManagedRulesSQLiRuleSet", "AWSManagedRulesCommonRuleSet"} <= managed
    assert entry.inputs["internal"] is False and entry.inputs["loadBalancerType"] == "application"


def test_entry_serves_tls_and_redirects_http(phase_run: Run) -> None:
    listeners = {lsn.inputs["port"]: lsn for lsn in phase_run.of_type("aws:lb/listener:Listener")}
    assert set(listeners) == {443, 80}
    https, http = listeners[443], listeners[80]
    validation = phase_run.one("aws:acm/certificateValidation:CertificateValidation",
                               "certificate-validation")
    assert https.inputs["protocol"] == "HTTPS"
    assert https.inputs["certificateArn"] == validation.inputs["certificateArn"]
    assert https.inputs["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    redirect = http.inputs["defaultActions"][0]["redirect"]
    assert redirect == {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"}
    group = phase_run.one("aws:lb/targetGroup:TargetGroup", "app")
    assert group.inputs["protocol"] == "HTTPS" and group.inputs["healthCheck"]["path"] == "/health"


def test_only_the_entry_is_open_to_the_internet(phase_run: Run) -> None:
    alb = sg_id(phase_run, "alb")
    for rule in phase_run.of_type(INGRESS):
        if rule.inputs.get("cidrIpv4") == "0.0.0.0/0":
            assert rule.inputs["securityGroupId"] == alb, rule.name
            assert rule.inputs["fromPort"] == rule.inputs["toPort"] in (80, 443)
        else:
            assert "referencedSecurityGroupId" in rule.inputs or rule.name.startswith("app-ssh")


def test_every_alarm_notifies_the_topic(phase_run: Run) -> None:
    topic = phase_run.one("aws:sns/topic:Topic", "alarms").outputs["arn"]
    alarms = phase_run.of_type(ALARM)
    assert len(alarms) >= 8
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [topic], alarm.name
        assert alarm.inputs["okActions"] == [topic], alarm.name
    subscription = phase_run.one("aws:sns/topicSubscription:TopicSubscription", "alarm-email")
    assert subscription.inputs["endpoint"] == stack_config(int(phase_run.stack[-1]))["sanctum:alertEmail"]


def test_latency_error_and_health_alarms_watch_the_entry(phase_run: Run) -> None:
    alarms = {a.name: a.inputs for a in phase_run.of_type(ALARM)}
    assert alarms["latency-p95-alarm"]["extendedStatistic"] == "p95"
    assert alarms["latency-p99-alarm"]["extendedStatistic"] == "p99"
    assert alarms["unhealthy-hosts-alarm"]["metricName"] == "UnHealthyHostCount"
    expression = [q for q in alarms["error-rate-alarm"]["metricQueries"] if q.get("returnData")]
    assert "100 *" in expression[0]["expression"]
    metrics = {q["metric"]["metricName"] for q in alarms["error-rate-alarm"]["metricQueries"]
               if "metric" in q}
    assert metrics == {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"}


def test_log_groups_keep_the_configured_retention_encrypted(phase_run: Run) -> None:
    days = config_section(int(phase_run.stack[-1]), "observability")["logRetentionDays"]
    groups = phase_run.of_type(LOG_GROUP)
    assert {"app-logs", "system-logs", "flow-logs", "waf-logs"} <= {g.name for g in groups}
    for group in groups:
        assert group.inputs["retentionInDays"] == days, group.name
        assert group.inputs["kmsKeyId"] == key_arn(phase_run, "logs"), group.name
    assert phase_run.one(LOG_GROUP, "waf-logs").inputs["name"].startswith("aws-waf-logs-")


def test_dashboard_shows_traffic_errors_latency_and_database(phase_run: Run) -> None:
    body = json.loads(phase_run.one("aws:cloudwatch/dashboard:Dashboard", "dashboard")
                      .inputs["dashboardBody"])
    rows = [row for w in body["widgets"] for row in w["properties"]["metrics"]]
    names = {row[1] for row in rows}
    assert {"RequestCount", "HTTPCode_Target_5XX_Count", "TargetResponseTime"} <= names
    stats = {row[-1].get("stat") for row in rows if row[1] == "TargetResponseTime"}
    assert stats == {"p50", "p95", "p99"}
    titles = {w["properties"]["title"] for w in body["widgets"]}
    assert "Database" in titles


def test_backup_lifecycle_keeps_dailies_30_days_and_archives_long_lived_only(phase_run: Run) -> None:
    lifecycle = phase_run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                              "backup-lifecycle")
    rules = {r["filter"]["prefix"]: r for r in lifecycle.inputs["rules"]}
    assert rules["daily/"]["expiration"]["days"] == 30
    assert "transitions" not in rules["daily/"] and "transitions" not in rules["wal/"]
    # pgBackRest expires its own repository: lifecycle only drops what it deleted.
    assert "expiration" not in rules["wal/"]
    minimum = {"GLACIER": 90, "DEEP_ARCHIVE": 180}
    archived = {p: r for p, r in rules.items() if "transitions" in r}
    assert set(archived) == {"weekly/", "annual/"}
    for prefix, rule in archived.items():
        transition = rule["transitions"][0]
        stays = rule["expiration"]["days"] - transition["days"]
        assert stays >= minimum[transition["storageClass"]], prefix


def test_aws_backup_keeps_daily_recovery_points_30_days(phase_run: Run) -> None:
    plan = phase_run.one("aws:backup/plan:Plan", "backup-plan")
    assert plan.inputs["rules"][0]["lifecycle"]["deleteAfter"] == 30
    assert plan.inputs["rules"][0]["schedule"] == "cron(0 3 * * ? *)"
    selection = phase_run.one("aws:backup/selection:Selection", "backup-selection")
    protected = {r.outputs["arn"] for r in phase_run.of_type(VOLUME)} | {
        r.outputs["arn"] for r in phase_run.of_type(RDS) if "replicateSourceDb" not in r.inputs}
    assert set(selection.inputs["resources"]) == protected and protected


def test_host_role_is_scoped(phase_run: Run) -> None:
    policy = json.loads(phase_run.one("aws:iam/rolePolicy:RolePolicy", "host-permissions")
                        .inputs["policy"])
    unscoped_allowed = {"cloudwatch:PutMetricData", "ec2:DescribeTags", "ec2:DescribeVolumes",
                        "ecr:GetAuthorizationToken", "sns:Publish"}
    for statement in policy["Statement"]:
        assert not any(action.endswith(":*") or action == "*" for action in statement["Action"])
        if statement["Resource"] == "*":
            assert set(statement["Action"]) <= unscoped_allowed, statement["Sid"]
    secrets = next(s for s in policy["Statement"] if s["Sid"] == "Secrets")
    assert len(secrets["Resource"]) == 5


def test_hosts_require_imdsv2_and_encrypted_root_volumes(phase_run: Run) -> None:
    hosts = phase_run.of_type(INSTANCE) + phase_run.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert hosts
    for host in hosts:
        assert host.inputs["metadataOptions"]["httpTokens"] == "required"
        root = host.inputs.get("rootBlockDevice") or host.inputs["blockDeviceMappings"][0]["ebs"]
        assert root["encrypted"] in (True, "true") and root["kmsKeyId"] == key_arn(phase_run, "ebs")


def test_stateful_resources_are_protected(phase_run: Run) -> None:
    protected = {(r.type, r.name) for r in phase_run.resources if r.protect}
    expected = {("aws:kms/key:Key", f"{p}-key") for p in ("rds", "ebs", "s3", "logs", "secrets")}
    expected |= {("aws:secretsmanager/secret:Secret", f"{n}-secret")
                 for n in ("database", "broker", "redis", "jwt", "service-auth")}
    expected |= {(BUCKET, "exports-bucket"), (BUCKET, "backup-bucket"),
                 ("aws:backup/vault:Vault", "backup-vault")}
    phase = int(phase_run.stack[-1])
    if phase == 1:
        expected |= {(VOLUME, f"{p}-volume") for p in ("postgres", "redis", "exports")}
    else:
        broker = "broker" if phase == 2 else "broker-cluster"
        expected |= {(RDS, "postgres"), (REDIS, "redis"), (BROKER, broker)}
    assert protected == expected
    assert all(not b.inputs.get("forceDestroy") for b in phase_run.of_type(BUCKET))


def test_phase_outputs_for_ansible(phase_run: Run) -> None:
    outputs = phase_run.outputs
    for name in ("url", "exports_bucket", "backup_bucket", "deploy_prefix", "db_endpoint",
                 "redis_endpoint", "broker_endpoint", "alarm_topic_arn", "log_groups",
                 "secret_arns", "image_repository_url"):
        assert outputs.get(name), name
    assert outputs["url"] == "https://sanctumtools.com"
    assert outputs["deploy_prefix"].startswith("s3://") and outputs["deploy_prefix"].endswith("/deploy/")
    assert set(outputs["log_groups"]) == {"app", "system", "flow", "waf"}


# --- phase 1 -----------------------------------------------------------------------------


def test_phase1_single_host_with_elastic_ip_and_dns(runs: dict[int, Run]) -> None:
    run = runs[1]
    (host,) = run.of_type(INSTANCE)
    assert host.inputs["instanceType"] == "t3.medium"
    assert host.inputs["subnetId"] in public_subnet_ids(run)
    assert host.inputs["vpcSecurityGroupIds"] == [sg_id(run, "app")]
    eip = run.one("aws:ec2/eip:Eip", "host-ip")
    assert eip.inputs == {**eip.inputs, "domain": "vpc", "instance": host.id}
    record = run.one("aws:route53/record:Record", "host-record")
    assert record.inputs["records"] == [eip.outputs["publicIp"]]
    assert run.outputs["public_ip"] == eip.outputs["publicIp"] and run.outputs["instance_id"] == host.id
    attachment = run.one("aws:lb/targetGroupAttachment:TargetGroupAttachment", "host-target")
    assert attachment.inputs["targetId"] == host.id
    assert not run.of_type(RDS) + run.of_type(REDIS) + run.of_type(BROKER) + run.of_type(ASG)


def test_phase1_data_volumes_encrypted_attached_and_kept(runs: dict[int, Run]) -> None:
    run = runs[1]
    (host,) = run.of_type(INSTANCE)
    zone = run.by_id(host.inputs["subnetId"]).inputs["availabilityZone"]
    volumes = {v.id: v for v in run.of_type(VOLUME)}
    assert {v.name for v in volumes.values()} == {"postgres-volume", "redis-volume", "exports-volume"}
    for volume in volumes.values():
        assert volume.inputs["encrypted"] is True and volume.inputs["kmsKeyId"] == key_arn(run, "ebs")
        assert volume.inputs["availabilityZone"] == zone
        assert volume.protect and volume.retain_on_delete
    attachments = run.of_type("aws:ec2/volumeAttachment:VolumeAttachment")
    assert {a.inputs["volumeId"] for a in attachments} == set(volumes)
    assert {a.inputs["instanceId"] for a in attachments} == {host.id}


def test_phase1_host_is_reachable_only_through_the_load_balancer(runs: dict[int, Run]) -> None:
    run = runs[1]
    app_rules = [r for r in run.of_type(INGRESS) if r.inputs["securityGroupId"] == sg_id(run, "app")]
    assert [(r.inputs["fromPort"], r.inputs.get("referencedSecurityGroupId")) for r in app_rules] == [
        (443, sg_id(run, "alb"))]


def test_phase1_user_data_starts_docker_compose_on_mounted_volumes(runs: dict[int, Run]) -> None:
    (host,) = runs[1].of_type(INSTANCE)
    script = host.inputs["userData"]
    assert "docker-compose-plugin" in script
    assert "--env-file /etc/sanctum/sanctum.env up --detach" in script
    assert "COMPOSE_PROFILES=data" in script
    for volume in runs[1].of_type(VOLUME):
        assert f"mount_volume {volume.id} {volume.inputs['tags']['Mount']}" in script


# --- phase 2 -----------------------------------------------------------------------------


def test_phase2_database_is_multi_az_encrypted_private_postgres15(runs: dict[int, Run]) -> None:
    run = runs[2]
    (db,) = run.of_type(RDS)
    assert db.inputs["multiAz"] is True
    assert db.inputs["engine"] == "postgres" and db.inputs["engineVersion"].split(".")[0] == "15"
    assert db.inputs["storageEncrypted"] is True and db.inputs["kmsKeyId"] == key_arn(run, "rds")
    assert db.inputs["publiclyAccessible"] is False
    assert db.inputs["deletionProtection"] is True and db.inputs["skipFinalSnapshot"] is False
    assert db.inputs["backupRetentionPeriod"] == 30
    subnets = run.one("aws:rds/subnetGroup:SubnetGroup", "postgres-subnets")
    assert set(subnets.inputs["subnetIds"]) == private_subnet_ids(run)
    assert db.inputs["vpcSecurityGroupIds"] == [sg_id(run, "database")]
    params = run.one("aws:rds/parameterGroup:ParameterGroup", "postgres-params").inputs["parameters"]
    assert {"name": "rds.force_ssl", "value": "1"} in params


def test_phase2_redis_has_tls_auth_token_and_failover(runs: dict[int, Run]) -> None:
    run = runs[2]
    (redis,) = run.of_type(REDIS)
    assert redis.inputs["transitEncryptionEnabled"] is True
    assert redis.inputs["transitEncryptionMode"] == "required"
    assert redis.inputs["atRestEncryptionEnabled"] is True
    assert redis.inputs["authToken"] and "authToken" in _secret_inputs(redis)
    assert redis.inputs["automaticFailoverEnabled"] is True and redis.inputs["multiAzEnabled"] is True
    assert redis.inputs["clusterMode"] == "disabled" and redis.inputs["numCacheClusters"] == 2
    assert redis.inputs["snapshotRetentionLimit"] == 7
    subnets = run.one("aws:elasticache/subnetGroup:SubnetGroup", "redis-subnets")
    assert set(subnets.inputs["subnetIds"]) == private_subnet_ids(run)


def test_phase2_broker_is_private_rabbitmq_over_amqps(runs: dict[int, Run]) -> None:
    run = runs[2]
    (broker,) = run.of_type(BROKER)
    assert broker.inputs["engineType"] == "RabbitMQ" and broker.inputs["publiclyAccessible"] is False
    assert broker.inputs["autoMinorVersionUpgrade"] is True
    assert set(broker.inputs["subnetIds"]) <= private_subnet_ids(run)
    rule = run.one(INGRESS, "broker-from-app")
    assert rule.inputs["fromPort"] == 5671 and rule.inputs["referencedSecurityGroupId"] == sg_id(run, "app")
    assert run.outputs["broker_endpoint"].startswith("amqps://")


def test_phase2_three_hosts_behind_the_load_balancer(runs: dict[int, Run]) -> None:
    run = runs[2]
    (group,) = run.of_type(ASG)
    assert (group.inputs["minSize"], group.inputs["desiredCapacity"]) == (3, 3)
    assert set(group.inputs["vpcZoneIdentifiers"]) == private_subnet_ids(run)
    assert group.inputs["targetGroupArns"] == [run.one("aws:lb/targetGroup:TargetGroup", "app").outputs["arn"]]
    assert group.inputs["healthCheckType"] == "ELB"
    assert not run.of_type(INSTANCE) and not run.of_type(VOLUME)


# --- phase 3 -----------------------------------------------------------------------------


def test_phase3_read_replicas_follow_the_primary(runs: dict[int, Run]) -> None:
    run = runs[3]
    primary = run.one(RDS, "postgres")
    replicas = [r for r in run.of_type(RDS) if r is not primary]
    assert len(replicas) == config_section(3, "database")["readReplicas"] >= 1
    for replica in replicas:
        assert replica.inputs["replicateSourceDb"] == primary.inputs["identifier"]
        assert replica.inputs["publiclyAccessible"] is False
        assert replica.inputs["storageEncrypted"] is True
    assert primary.inputs["multiAz"] is True
    assert len(run.outputs["db_reader_endpoints"]) == len(replicas)
    lag_alarms = [a for a in run.of_type(ALARM) if a.inputs.get("metricName") == "ReplicaLag"]
    assert len(lag_alarms) == len(replicas)


def test_phase3_redis_runs_in_cluster_mode(runs: dict[int, Run]) -> None:
    (redis,) = runs[3].of_type(REDIS)
    assert redis.inputs["clusterMode"] == "enabled"
    assert redis.inputs["numNodeGroups"] == config_section(3, "cache")["shards"] >= 2
    assert redis.inputs["parameterGroupName"].endswith(".cluster.on")
    assert "numCacheClusters" not in redis.inputs
    assert runs[3].outputs["redis_endpoint"].startswith("clustercfg.")


def test_phase3_service_clusters_scale_by_target_tracking(runs: dict[int, Run]) -> None:
    run = runs[3]
    groups = {g.name: g for g in run.of_type(ASG)}
    assert set(groups) == {"frontend", "backend", "analytics"}
    policies = {p.inputs["autoscalingGroupName"]: p.inputs for p in run.of_type("aws:autoscaling/policy:Policy")}
    metric = {name: policies[g.outputs["name"]]["targetTrackingConfiguration"]
              ["predefinedMetricSpecification"]["predefinedMetricType"] for name, g in groups.items()}
    assert metric == {"frontend": "ALBRequestCountPerTarget", "backend": "ASGAverageCPUUtilization",
                      "analytics": "ASGAverageCPUUtilization"}
    assert all(p["policyType"] == "TargetTrackingScaling" for p in policies.values())
    assert groups["frontend"].inputs["targetGroupArns"] and not groups["backend"].inputs["targetGroupArns"]


def test_phase3_every_service_runs_in_exactly_one_cluster(runs: dict[int, Run]) -> None:
    from sanctum_infra import topology, userdata

    started: dict[str, list[str]] = {}
    for template in runs[3].of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        script = base64.b64decode(template.inputs["userData"]).decode()
        # The host starts the services of its containers file that compose enables.
        line = next(row for row in script.splitlines() if row.endswith(f">{userdata.CONTAINERS_FILE}"))
        for name in shlex.split(line)[1].split():
            started.setdefault(name, []).append(template.name)
    assert {name: len(where) for name, where in started.items() if name in topology.SERVICES} == {
        name: 1 for name in topology.SERVICES}
    assert started["gateway"] == ["frontend-template"] and started["nginx"] == ["frontend-template"]
    assert started["pattern_analysis"] == started["export_reports"] == ["analytics-template"]


def test_phase3_worker_clusters_accept_no_inbound_traffic(runs: dict[int, Run]) -> None:
    run = runs[3]
    workers = sg_id(run, "workers")
    assert not [r for r in run.of_type(INGRESS) if r.inputs["securityGroupId"] == workers]
    templates = {t.name: t.inputs["vpcSecurityGroupIds"] for t in
                 run.of_type("aws:ec2/launchTemplate:LaunchTemplate")}
    assert templates == {"frontend-template": [sg_id(run, "app")],
                         "backend-template": [workers], "analytics-template": [workers]}


def test_phase3_broker_is_a_multi_az_cluster(runs: dict[int, Run]) -> None:
    run = runs[3]
    (broker,) = run.of_type(BROKER)
    assert broker.inputs["deploymentMode"] == "CLUSTER_MULTI_AZ"
    assert set(broker.inputs["subnetIds"]) == private_subnet_ids(run)
    assert len(private_subnet_ids(run)) == 3


@pytest.mark.parametrize("phase", [2, 3])
def test_managed_data_alarms(runs: dict[int, Run], phase: int) -> None:
    names = {a.name for a in runs[phase].of_type(ALARM)}
    assert {"database-cpu-alarm", "database-free-storage-alarm", "database-memory-alarm",
            "broker-queue-depth-alarm"} <= names
    assert sum(1 for n in names if n.startswith("redis-") and n.endswith("-memory-alarm")) >= 2


def _secret_inputs(resource: Resource) -> set[str]:
    from infra_harness import is_secret

    return {key for key, value in resource.raw_inputs.items() if is_secret(value)}


def test_backup_freshness_alarm_matches_the_backup_tool(phase_run: Run) -> None:
    alarm = phase_run.one(ALARM, "backup-postgres-alarm").inputs
    assert (alarm["namespace"], alarm["metricName"]) == ("Sanctum/Backup", "Success")
    assert alarm["dimensions"] == {"Job": "postgres", "Environment": phase_run.stack}
    assert alarm["treatMissingData"] == "breaching"
    assert alarm["period"] * alarm["evaluationPeriods"] == 26 * 3600


def test_optional_pagerduty_and_slack_receive_the_alarms() -> None:
    from infra_harness import run_program
    from sanctum_infra.program import run

    config = stack_config(1)
    config["sanctum:pagerdutyEndpoint"] = "https://events.pagerduty.com/integration/abc/enqueue"
    config["sanctum:slack"] = {"teamId": "T0123", "channelId": "C0456"}
    recorded = run_program("phase1", config, run)
    topic = recorded.one("aws:sns/topic:Topic", "alarms").outputs["arn"]
    pagerduty = recorded.one("aws:sns/topicSubscription:TopicSubscription", "alarm-pagerduty")
    assert (pagerduty.inputs["protocol"], pagerduty.inputs["topic"]) == ("https", topic)
    slack = recorded.one("aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration", "alarm-slack")
    assert slack.inputs["snsTopicArns"] == [topic] and slack.inputs["slackChannelId"] == "C0456"

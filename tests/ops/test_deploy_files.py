"""The files a host runs from: rendered with real values and checked by the real tools
(nginx -t with Debian's nginx, systemd-analyze, ansible-inventory), or parsed."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml
from ops_support import ANSIBLE, ROOT, render_role_template, self_signed_certificate, venv_tool

from services import registry

PHASE1_OUTPUTS = json.loads((ANSIBLE / "inventory/examples/phase1.outputs.json").read_text())
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
COMPOSE_IMAGE_PREFIX = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sanctum:"


def compose_bin() -> str:
    path = os.environ.get("SANCTUM_COMPOSE_BIN") or str(ROOT / ".tools/bin/docker-compose")
    assert Path(path).exists(), f"{path}: run tests/ops/ensure-compose.sh (scripts/test-ops.sh does)"
    return path


def load_infra_module(name: str):
    """infra/sanctum_infra/<name>.py by path (plain Python, no Pulumi needed for these)."""
    path = ROOT / "infra" / "sanctum_infra" / f"{name}.py"
    if not path.exists():
        pytest.skip(f"{path} not in this checkout")
    spec = importlib.util.spec_from_file_location(f"sanctum_infra_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# The architecture's twelve services, as infra deploys them.
SERVICES = load_infra_module("topology").SERVICES


def infra_constant(module: str, name: str):
    """A literal constant of infra/sanctum_infra/<module>.py, read without importing it."""
    path = ROOT / "infra" / "sanctum_infra" / f"{module}.py"
    if not path.exists():
        pytest.skip(f"{path} not in this checkout")
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in {path}")


# --- nginx -----------------------------------------------------------------------------


def render_nginx(tmp_path: Path, **overrides) -> Path:
    (tmp_path / "conf.d").mkdir(exist_ok=True)
    (tmp_path / "temp").mkdir(exist_ok=True)
    self_signed_certificate(tmp_path / "server.key", tmp_path / "server.crt", "api.sanctumtools.com")
    values = dict(
        sanctum_root="/opt/sanctum",
        sanctum_domain="api.sanctumtools.com",
        sanctum_vpc_cidrs=["10.20.0.0/16"],
        nginx_conf_d=str(tmp_path / "conf.d"),
        nginx_tls_certificate=str(tmp_path / "server.crt"),
        nginx_tls_certificate_key=str(tmp_path / "server.key"),
        nginx_pid_path=str(tmp_path / "nginx.pid"),
        nginx_error_log=str(tmp_path / "error.log"),
        nginx_access_log=str(tmp_path / "access.log"),
        nginx_temp_dir=str(tmp_path / "temp"),
        # Outside Docker there is no embedded DNS nor a `gateway` host.
        nginx_resolver="127.0.0.1",
        nginx_gateway_upstream="127.0.0.1:8000",
    )
    values.update(overrides)
    (tmp_path / "nginx.conf").write_text(render_role_template("nginx", "nginx.conf.j2", **values))
    site = render_role_template("nginx", "sanctum.conf.j2", **values)
    (tmp_path / "conf.d" / "sanctum.conf").write_text(site)
    return tmp_path / "nginx.conf"


def nginx_test(conf: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            "nginx",
            "-t",
            "-c",
            str(conf),
            "-p",
            str(conf.parent),
            "-e",
            str(conf.parent / "error.log"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_nginx_config_passes_nginx_t(tmp_path):
    conf = render_nginx(tmp_path)
    result = nginx_test(conf)
    assert result.returncode == 0, result.stderr
    site = (tmp_path / "conf.d" / "sanctum.conf").read_text()
    for expected in (
        "return 301 https://$host$request_uri;",  # HTTP to HTTPS
        "listen 443 ssl http2 default_server;",
        "limit_req zone=api burst=40 nodelay;",
        "limit_req zone=auth burst=5 nodelay;",
        "gzip on;",
        "client_max_body_size 64k;",  # the gateway's MAX_BODY_BYTES
        "set $gateway http://127.0.0.1:8000;",
        "set_real_ip_from 10.20.0.0/16;",
        "server_name api.sanctumtools.com;",
    ):
        assert expected in site
    assert "$request " not in conf.read_text()  # the access log never records query strings


def test_nginx_t_catches_a_bad_value(tmp_path):
    conf = render_nginx(tmp_path, nginx_client_max_body_size="64 kilobytes")
    assert nginx_test(conf).returncode != 0


# --- compose ---------------------------------------------------------------------------


def test_compose_names_every_service_with_a_health_check():
    services = COMPOSE["services"]
    assert set(services) == {
        "nginx",
        "gateway",
        *SERVICES,
        "postgres",
        "redis",
        "rabbitmq",
        "migrate",
        "backup",
        # profile `monitoring` (tests/monitoring checks their files)
        "prometheus",
        "alertmanager",
        "grafana",
        "node-exporter",
    }
    built = {name: process.path for name, process in registry.SERVICES.items()}
    for name in SERVICES:
        command = services[name]["command"]
        assert command[:4] == ["nameko", "run", "--config", "/app/config.yaml"]
        if name in built:  # the same process `make run` starts
            assert command[4] == built[name]
            assert "profiles" not in services[name]
        else:  # named by the architecture, not built yet: off unless asked for
            assert command[4].startswith(f"services.{name}.service:")
            assert services[name]["profiles"] == ["planned"]
        assert services[name]["healthcheck"]["test"] == [
            "CMD",
            "python",
            "-m",
            "services.ops.health",
            name,
        ]
    assert services["gateway"]["command"][-1] == registry.GATEWAY.path
    assert "/health" in " ".join(services["gateway"]["healthcheck"]["test"])
    for name, service in services.items():
        if name not in ("migrate", "backup"):
            assert "healthcheck" in service, name
            assert service["restart"] == "unless-stopped", name


def test_compose_dependencies_and_volumes_are_consistent():
    services, volumes = COMPOSE["services"], COMPOSE["volumes"]
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            wanted = (
                "service_completed_successfully" if dependency == "migrate" else "service_healthy"
            )
            assert rule["condition"] == wanted
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if not source.startswith(("/", ".", "$")):
                assert source in volumes, f"{name} mounts undeclared volume {source}"
    # The seed's Phase 1 volumes, as named volumes.
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "redis-data:/var/lib/redis" in services["redis"]["volumes"]
    assert "exports:/app/exports" in services["export_reports"]["volumes"]
    redis_command = services["redis"]["command"]
    assert redis_command[0] == "redis-server"  # so the image's entrypoint drops root
    assert redis_command[redis_command.index("--dir") + 1] == "/var/lib/redis"


def compose_config(tmp_path: Path, **env: str) -> dict:
    """compose's own reading of compose.yaml (Docker Compose v2, no engine needed) with
    an environment file like a host's."""
    values = {
        "SANCTUM_IMAGE": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sanctum",
        "SANCTUM_IMAGE_TAG": "test",
        "DATABASE_URL": "postgresql+psycopg://sanctum:pw@postgres:5432/sanctum",
        "REDIS_URL": "redis://:pw@redis:6379/0",
        "AMQP_URI": "pyamqp://sanctum:pw@rabbitmq:5672/",
        "AWS_REGION": "eu-west-1",
        "POSTGRES_PASSWORD": "pw",
        "REDIS_PASSWORD": "pw",
        "RABBITMQ_DEFAULT_PASS": "pw",
        "BACKUP_BUCKET": "backups",
        **env,
    }
    env_file = tmp_path / "sanctum.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    result = subprocess.run(
        [compose_bin(), "--project-directory", str(ROOT), "--env-file", str(env_file),
         "config", "--format", "json"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_monitoring_profile_is_valid_and_off_by_default(tmp_path):
    """`--profile monitoring` adds Prometheus, Alertmanager, Grafana and the node exporter
    (monitoring/README.md); a host's bare `up` (COMPOSE_PROFILES=data) starts none of them."""
    from monitoring import catalogue

    monitoring = {"prometheus", "alertmanager", "grafana", "node-exporter"}
    services = compose_config(tmp_path, COMPOSE_PROFILES="data,monitoring")["services"]
    assert monitoring <= set(services)
    textfile = [v for v in services["node-exporter"]["volumes"] if v["target"] == "/textfile"]
    assert textfile[0]["source"] == catalogue.BACKUP_TEXTFILE_DIR
    assert not monitoring & set(compose_config(tmp_path, COMPOSE_PROFILES="data")["services"])


def test_compose_fits_the_phase1_host(tmp_path):
    """What a bare `docker compose up -d` starts on the phase 1 host (COMPOSE_PROFILES=data:
    the data services, never the `planned` ones) fits a t3.medium, and every process of
    the application image gets at least 160 MiB (92-154 MiB measured resident). Limits are
    ceilings: export_reports reaches its 384 MiB only while a report is drawn."""
    services = compose_config(tmp_path, COMPOSE_PROFILES="data")["services"]
    assert {"postgres", "redis", "rabbitmq"} <= set(services)
    assert not {n for n in SERVICES if n not in registry.SERVICES} & set(services)
    running = [s for n, s in services.items() if n != "migrate"]
    total = sum(int(s["mem_limit"]) for s in running) // 2**20
    assert total <= 4096 - 384, f"{total} MiB of limits leave too little for the OS on 4 GiB"
    app = [n for n, s in services.items() if s["image"].startswith(COMPOSE_IMAGE_PREFIX)]
    assert "gateway" in app and "migrate" in app
    for name in app:
        assert int(services[name]["mem_limit"]) >= 160 * 2**20, name


def test_compose_starts_no_data_service_with_managed_data_stores(tmp_path):
    services = compose_config(tmp_path, COMPOSE_PROFILES="")["services"]
    assert not {"postgres", "redis", "rabbitmq", "backup"} & set(services)
    assert not {n for n in SERVICES if n not in registry.SERVICES} & set(services)


def test_compose_matches_the_infrastructure_contract():
    topology = load_infra_module("topology")
    assert set(topology.SERVICES + topology.EDGE + topology.DATA) <= set(COMPOSE["services"])
    mounts = infra_constant("data", "VOLUME_MOUNTS")
    devices = {v["driver_opts"]["device"] for v in COMPOSE["volumes"].values() if v}
    for purpose in ("postgres", "redis"):
        assert any(mounts[purpose] in device for device in devices)


def test_compose_variables_are_all_provided():
    """Every ${VAR:?} the compose file requires is in the env file the host gets:
    written at first boot (infra userdata) or by the Ansible stack role."""
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "compose.yaml").read_text()))
    stack_env = yaml.safe_load((ANSIBLE / "roles/stack/defaults/main.yml").read_text())["stack_env"]
    provided = set(stack_env)
    for module in ("userdata", "compute"):  # the first-boot env file's keys
        text = (ROOT / f"infra/sanctum_infra/{module}.py").read_text()
        provided |= set(re.findall(r'"([A-Z][A-Z0-9_]+)":', text))
    assert required and required <= provided, sorted(required - provided)


# --- image -----------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_and_runs_as_non_root():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", text, re.MULTILINE)
    assert [name for _, name in stages] == ["builder", "runtime", "backup"]
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11-slim", text)
    runtime = text.split(" AS runtime")[1].split(" AS backup")[0]
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime
    users = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert users[-1] == "10001:10001" and users[0] == "10001:10001"
    assert "postgresql-client-15" in text and "redis-tools" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in (".git", ".venv", "var", ".env", "**/*.pem", "tests"):
        assert pattern in ignored


def test_image_sets_the_thread_pool_and_malloc_arenas_for_every_container():
    """One image for the gateway and the services: its ENV reaches every container of
    both deployment paths, and compose does not override it."""
    runtime = (ROOT / "Dockerfile").read_text().split(" AS runtime")[1].split(" AS backup")[0]
    env = dict(re.findall(r"\b([A-Z_]+)=(\S+)", runtime.split("RUN ", 1)[0]))
    assert env["EVENTLET_THREADPOOL_SIZE"] == "2" and env["MALLOC_ARENA_MAX"] == "2"
    compose_text = (ROOT / "compose.yaml").read_text()
    assert "EVENTLET_THREADPOOL_SIZE" not in compose_text.split("services:", 1)[1]
    assert "MALLOC_ARENA_MAX" not in compose_text.split("services:", 1)[1]


def test_migrations_run_under_the_advisory_lock_inside_the_image():
    command = COMPOSE["services"]["migrate"]["command"]
    assert command[:2] == ["sh", "-c"]
    assert command[2].startswith(
        "python deploy/migrate_lock.py alembic -c migrations/alembic.ini upgrade head && "
    )
    dockerfile = (ROOT / "Dockerfile").read_text()
    runtime = dockerfile.split(" AS runtime")[1].split(" AS backup")[0]
    assert "COPY deploy/migrate_lock.py ./deploy/migrate_lock.py" in runtime
    ignored = (ROOT / ".dockerignore").read_text().split()
    # deploy/ stays out of the build context, except the wrapper.
    assert ignored.index("!deploy/migrate_lock.py") > ignored.index("deploy")


# --- backup schedule -------------------------------------------------------------------


def jobs() -> list[dict]:
    return yaml.safe_load((ANSIBLE / "roles/backup_schedule/defaults/main.yml").read_text())[
        "backup_schedule_jobs"
    ]


@pytest.mark.parametrize("job", jobs(), ids=lambda j: j["name"])
def test_backup_units_pass_systemd_analyze(job, tmp_path):
    values = {
        "sanctum_root": "/opt/sanctum",
        "sanctum_backup_bucket": "b",
        "sanctum_region": "eu-west-1",
        "sanctum_compose": "docker compose --project-directory /opt/sanctum --env-file /etc/sanctum/sanctum.env",
        "backup_schedule_job": job,
        "backup_schedule_docker": "/bin/echo",
        "backup_schedule_log_dir": str(tmp_path),
    }
    name = f"sanctum-backup-{job['name']}"
    for kind in ("service", "timer"):
        (tmp_path / f"{name}.{kind}").write_text(
            render_role_template("backup_schedule", f"job.{kind}.j2", **values)
        )
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / f"{name}.timer")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    timer = configparser.ConfigParser(interpolation=None)
    timer.read(tmp_path / f"{name}.timer")
    on_calendar = timer["Timer"]["OnCalendar"]
    assert (
        subprocess.run(
            ["systemd-analyze", "calendar", on_calendar], capture_output=True, check=False
        ).returncode
        == 0
    )
    service = (tmp_path / f"{name}.service").read_text()
    assert "{{" not in service and "--env-file /etc/sanctum/sanctum.env" in service
    expected = "pgbackrest --stanza=sanctum" if "pgbackrest" in job["name"] else "run --rm backup"
    assert expected in service
    if "on_success" in job:
        assert f"OnSuccess=sanctum-backup-{job['on_success']}.service" in service
    if "then_run" in job:
        assert "ExecStartPost=/bin/echo compose --project-directory" in service


def test_every_backup_is_verified_right_after():
    """`latest` is the newest verified backup, so each backup job verifies what it made."""
    by_name = {j["name"]: j for j in jobs()}
    assert by_name["postgres"]["on_success"] == "verify"
    assert by_name["verify"]["command"] == "run --rm backup verify newest"
    assert by_name["redis"]["then_run"] == "run --rm backup verify newest-redis"


def test_schedule_matches_the_seed():
    by_name = {j["name"]: j for j in jobs()}
    assert by_name["postgres"]["on_calendar"].startswith("*-*-* ")  # daily
    assert by_name["redis"]["on_calendar"] == "hourly"
    assert "wal-status" in by_name and "pgbackrest-full" in by_name


# --- CloudWatch agent ------------------------------------------------------------------


def hostfiles_filters():
    path = ANSIBLE / "plugins/filter/sanctum_hostfiles.py"
    spec = importlib.util.spec_from_file_location("sanctum_hostfiles_filters", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FilterModule().filters()


SYSTEM_LOGS = [  # what the first boot and every backup job write, written out by hand
    "/var/log/sanctum-bootstrap.log", "/var/log/cloud-init-output.log",
    "/var/log/sanctum/backup-postgres.log", "/var/log/sanctum/backup-redis.log",
    "/var/log/sanctum/backup-prune.log", "/var/log/sanctum/backup-verify.log",
    "/var/log/sanctum/backup-wal-status.log", "/var/log/sanctum/backup-pgbackrest-full.log",
    "/var/log/sanctum/backup-pgbackrest-diff.log", "/var/log/auth.log",
]


def _declaration(dimensions: list[str], names: list[str]) -> dict:
    return {"source_labels": ["job"], "label_matcher": "^sanctum$", "dimensions": [dimensions],
            "metric_selectors": [f"^{name}$" for name in names]}


def test_cloudwatch_agent_config_matches_the_alarms_and_ships_backup_logs():
    """Ansible renders the agent's configuration (the first boot writes the same text):
    the memory and disk series the host alarms watch, per instance and per volume, every
    backup job's log, and the application's Prometheus series the alarms read. Compared
    with the configuration written out by hand."""
    tasks = yaml.safe_load((ANSIBLE / "roles/cloudwatch_agent/tasks/config.yml").read_text())
    assert "sanctum_cloudwatch_agent_json" in tasks[0]["ansible.builtin.copy"]["content"]
    disks = ["/", "/var/lib/sanctum/postgres", "/var/lib/sanctum/redis", "/var/lib/sanctum/exports"]
    text = hostfiles_filters()["sanctum_cloudwatch_agent_json"](
        "InstanceId", disks, "/sanctum/phase1/system"
    )
    counted = ["sanctum_crises_detected_total", "sanctum_alerts_sent_total",
               "sanctum_alerts_failed_total", "sanctum_crisis_oldest_unsent_age_seconds",
               "sanctum_dead_letter_messages", "sanctum_outbox_pending_rows",
               "sanctum_outbox_oldest_pending_age_seconds", "sanctum_queue_messages"]
    assert json.loads(text) == {
        "agent": {"metrics_collection_interval": 60, "omit_hostname": True},
        "metrics": {
            "namespace": "CWAgent",
            "append_dimensions": {"InstanceId": "${aws:InstanceId}"},
            "aggregation_dimensions": [["InstanceId"], ["InstanceId", "path"]],
            "metrics_collected": {
                "mem": {"measurement": ["used_percent"]},
                "disk": {"measurement": ["used_percent"], "resources": disks, "drop_device": True},
            },
        },
        "logs": {
            "logs_collected": {"files": {"collect_list": [
                {"file_path": path, "log_group_name": "/sanctum/phase1/system",
                 "log_stream_name": "{instance_id}/" + path.split("/")[-1]} for path in SYSTEM_LOGS]}},
            "metrics_collected": {"prometheus": {
                "log_group_name": "/sanctum/phase1/system",
                "prometheus_config_path": "/opt/aws/amazon-cloudwatch-agent/etc/sanctum-prometheus.yaml",
                "emf_processor": {
                    "metric_declaration_dedup": True,
                    "metric_namespace": "Sanctum/App",
                    "metric_unit": {
                        "sanctum_crises_detected_total": "Count", "sanctum_alerts_sent_total": "Count",
                        "sanctum_alerts_failed_total": "Count",
                        "sanctum_crisis_oldest_unsent_age_seconds": "Seconds",
                        "sanctum_dead_letter_messages": "Count", "sanctum_outbox_pending_rows": "Count",
                        "sanctum_outbox_oldest_pending_age_seconds": "Seconds",
                        "sanctum_queue_messages": "Count", "sanctum_http_requests_total": "Count",
                        "sanctum_rpc_requests_total": "Count", "process_resident_memory_bytes": "Bytes"},
                    "metric_declaration": [
                        _declaration(["job"], counted),
                        _declaration(["job", "status"], ["sanctum_http_requests_total"]),
                        _declaration(["job", "outcome"], ["sanctum_rpc_requests_total"]),
                        _declaration(["job", "process"], ["process_resident_memory_bytes"]),
                    ],
                },
            }},
        },
    }
    # Every backup job the schedule runs has its log among them.
    for job in jobs():
        assert f"/var/log/sanctum/backup-{job['name']}.log" in SYSTEM_LOGS, job["name"]
    # The scrape file both paths write, named in the agent's configuration.
    assert "sanctum_cloudwatch_agent_prometheus" in tasks[1]["ansible.builtin.copy"]["content"]
    scrape = json.loads(hostfiles_filters()["sanctum_cloudwatch_agent_prometheus"]("InstanceId"))
    targets = [target for config in scrape["scrape_configs"] for group in config["static_configs"]
               for target in group["targets"]]
    assert sorted(targets) == [f"127.0.0.1:{port}" for port in range(3000, 3013)]


def test_cluster_members_aggregate_by_their_group_only():
    config = json.loads(hostfiles_filters()["sanctum_cloudwatch_agent_json"](
        "AutoScalingGroupName", ["/"], "/sanctum/phase2/system"))["metrics"]
    assert config["append_dimensions"] == {"AutoScalingGroupName": "${aws:AutoScalingGroupName}"}
    assert config["aggregation_dimensions"] == [["AutoScalingGroupName"]]
    assert config["metrics_collected"]["disk"]["resources"] == ["/"]


def test_host_files_have_one_source():
    """daemon.json and the agent configuration are rendered by monitoring/hostfiles.py: no
    second copy of them lives in the Ansible roles."""
    for role in ("docker", "cloudwatch_agent"):
        assert not (ANSIBLE / "roles" / role / "templates").exists(), role
    filters = hostfiles_filters()
    daemon = json.loads(filters["sanctum_docker_daemon_json"]("eu-west-1", "/sanctum/phase1/app", "i-1"))
    assert daemon["log-opts"] == {
        "awslogs-region": "eu-west-1",
        "awslogs-group": "/sanctum/phase1/app",
        "tag": "i-1/{{.Name}}",
    }
    client = json.loads(filters["sanctum_docker_client_config"]("1.dkr.ecr.eu-west-1.amazonaws.com"))
    assert client == {"credHelpers": {"1.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}}


# --- playbooks -------------------------------------------------------------------------


def included(tasks: list[dict]) -> list[tuple[str, str]]:
    return [
        (t["ansible.builtin.include_role"]["name"], t["ansible.builtin.include_role"].get("tasks_from", "main"))
        for t in tasks
        if "ansible.builtin.include_role" in t
    ]


def test_site_configures_pgbackrest_before_the_stack_and_publishes_last():
    (play,) = yaml.safe_load((ANSIBLE / "site.yml").read_text())
    assert included(play["tasks"]) == [
        ("backup_schedule", "pgbackrest"),
        ("stack", "main"),
        ("backup_schedule", "main"),
        ("stack", "publish"),
    ]


def test_deploy_publishes_the_release_after_every_host_runs_it():
    rollout, publish = yaml.safe_load((ANSIBLE / "deploy.yml").read_text())
    assert rollout["serial"] == 1 and rollout["max_fail_percentage"] == 0
    assert ("stack", "services") in included(rollout["tasks"])
    assert included(publish["tasks"]) == [("stack", "publish")]
    restore = yaml.safe_load((ANSIBLE / "restore.yml").read_text())
    assert included(restore[0]["tasks"])[0] == ("backup_schedule", "pgbackrest")
    assert ("stack", "publish") in included(restore[1]["tasks"])


# --- inventory from Pulumi outputs -----------------------------------------------------


def inventory(tmp_path: Path, outputs: dict, env: dict | None = None) -> dict:
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    (tmp_path / "stack.pulumi.yml").write_text(
        "plugin: sanctum_pulumi\noutputs_file: outputs.json\n"
    )
    result = subprocess.run(
        [venv_tool("ansible-inventory"), "-i", str(tmp_path / "stack.pulumi.yml"), "--list"],
        cwd=ANSIBLE,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return _plain(json.loads(result.stdout))


def _plain(value):
    """ansible-inventory marks values as unsafe ({"__ansible_unsafe": v}); unwrap them."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_phase1_inventory_from_stack_outputs(tmp_path):
    found = inventory(tmp_path, PHASE1_OUTPUTS)
    host = "host.api.sanctumtools.com"
    assert found["host"]["hosts"] == [host]
    assert "phase1" in found["sanctum"]["children"]
    hostvars = found["_meta"]["hostvars"][host]
    assert hostvars["ansible_host"] == "203.0.113.10" and hostvars["ansible_user"] == "admin"
    assert hostvars["pulumi_backup_bucket"] == PHASE1_OUTPUTS["backup_bucket"]
    assert hostvars["sanctum_phase"] == 1


def test_phase2_inventory_lists_the_auto_scaling_group(tmp_path, moto_endpoint):
    ec2 = boto3.client("ec2", endpoint_url=moto_endpoint, region_name="eu-west-1")
    autoscaling = boto3.client("autoscaling", endpoint_url=moto_endpoint, region_name="eu-west-1")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName="app", LaunchTemplateData={"ImageId": image, "InstanceType": "t3.medium"}
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="sanctum-phase2-app",
        LaunchTemplate={"LaunchTemplateName": "app"},
        MinSize=3,
        MaxSize=6,
        DesiredCapacity=3,
        AvailabilityZones=["eu-west-1a"],
    )
    outputs = json.loads((ANSIBLE / "inventory/examples/phase2.outputs.json").read_text())

    found = inventory(tmp_path, outputs, env={"SANCTUM_AWS_ENDPOINT_URL": moto_endpoint})

    assert len(found["app"]["hosts"]) == 3
    addresses = {found["_meta"]["hostvars"][h]["ansible_host"] for h in found["app"]["hosts"]}
    assert len(addresses) == 3 and all(a.startswith(("10.", "172.")) for a in addresses)
    assert "phase2" in found["sanctum"]["children"]


def test_bare_host_units_are_the_same_schedule_and_pass_systemd_analyze(tmp_path):
    """deploy/backup_units.py: the role's jobs for a host without Docker."""
    out = tmp_path / "units"
    rendered = subprocess.run(
        [sys.executable, "deploy/backup_units.py", "--root", str(ROOT), "--out", str(out),
         "--log-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    names = {job["name"] for job in jobs()}
    assert {p.name for p in out.iterdir()} == {
        f"sanctum-backup-{n}.{kind}" for n in names for kind in ("service", "timer")
    }
    timers = sorted(str(p) for p in out.glob("*.timer"))
    result = subprocess.run(["systemd-analyze", "verify", *timers], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    postgres = (out / "sanctum-backup-postgres.service").read_text()
    assert f"ExecStart={ROOT}/.venv/bin/sanctum-backup --no-progress postgres" in postgres
    assert "OnSuccess=sanctum-backup-verify.service" in postgres and "docker" not in postgres
    full = (out / "sanctum-backup-pgbackrest-full.service").read_text()
    assert "User=postgres" in full
    assert "ExecStart=/usr/bin/pgbackrest --stanza=sanctum --type=full backup" in full

"""The first-boot script of every host (EC2 user data), rendered from plain values.

It installs Docker with the compose plugin and the CloudWatch agent, mounts the phase 1
data volumes, writes secrets from Secrets Manager to files that only root and the
containers' group (uid 10001) can read, writes the environment file, then starts this
host's containers from the release that Ansible publishes under the deploy prefix of the
backup bucket (RELEASE_FILES). If no release is there yet, the host stays ready and
Ansible's first deploy starts it.

A host that boots on its own ends up with the files, environment and permissions that
Ansible's site.yml gives a host: tests/infra/test_host_agreement.py runs both on one
sandbox and compares them.

Secrets are read on the host at boot: no secret value is ever part of the user data.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from monitoring import agent, catalogue, hostfiles

# EC2 refuses user data above 16 KiB.
USER_DATA_LIMIT = 16 * 1024
ETC = "/etc/sanctum"
SECRETS_DIR = f"{ETC}/secrets"
ENV_FILE = f"{ETC}/sanctum.env"
COMPOSE_DIR = "/opt/sanctum"
# Paths inside the containers (compose mounts SECRETS_DIR at /run/secrets).
CONTAINER_SECRETS = "/run/secrets"
RDS_CA_FILE = "rds-ca.pem"
# uid of the `sanctum` user in the application image (Dockerfile).
CONTAINER_UID = 10001
# The compose services this host runs (topology.py) on one line; empty means every
# service compose enables. Ansible's stack role reads it (sanctum_containers_file).
CONTAINERS_FILE = f"{ETC}/containers"
# The backup tool's state, shared with its container (Ansible: stack_backup_state_dir).
BACKUP_STATE_DIR = "/var/lib/sanctum-backup"
# The release Ansible publishes under the deploy prefix (its stack_release_files): the
# compose file, release.env (SANCTUM_IMAGE_TAG, COMPOSE_PROFILES, ...: the lines Ansible
# keeps in the environment file) and every file compose refers to, except tls/ (each
# host makes its own key).
RELEASE_ENV = "release.env"
RELEASE_FILES = (
    "compose.yaml",
    RELEASE_ENV,
    "deploy/nginx/Dockerfile",
    "deploy/postgres/Dockerfile",
    "nginx/nginx.conf",
    "nginx/conf.d/sanctum.conf",
)
# Phase 1 only: PostgreSQL runs in a container and archives its WAL with pgBackRest.
DATA_RELEASE_FILES = ("pgbackrest/pgbackrest.conf",)
# Images built on the host from deploy/; the others come from the registry.
HOST_BUILT = ("nginx", "postgres")
# The one-shot schema job: started through the services' depends_on, never by name.
ONE_SHOT = ("migrate",)
# Pulled with the release, started on demand (`docker compose run --rm backup ...`).
PULLED_TOOLS = ("backup",)
# nginx's self-signed certificate for the load balancer's HTTPS hop (Ansible: nginx_tls_days).
TLS_DAYS = 825
_SAFE = re.compile(r"^[A-Za-z0-9._:/@+=,{}-]*$")


@dataclass(frozen=True)
class Endpoints:
    """Where the services find PostgreSQL, Redis and RabbitMQ."""

    database_host: str
    redis_host: str
    broker_host: str
    managed: bool
    redis_cluster: bool = False

    def environment(self) -> dict[str, str]:
        """Connection URLs; ${...} are filled on the host from Secrets Manager."""
        # compose interpolates the variables of every service, also of those whose
        # profile is off (the data services in phases 2 and 3): without these it refuses
        # every command. The values are the ones already in the URLs below.
        data_services = {
            "POSTGRES_USER": "sanctum",
            "POSTGRES_DB": "sanctum",
            "POSTGRES_PASSWORD": "${DB_PASSWORD}",
            "REDIS_PASSWORD": "${REDIS_TOKEN}",
            "RABBITMQ_DEFAULT_USER": "sanctum",
            "RABBITMQ_DEFAULT_PASS": "${BROKER_PASSWORD}",
        }
        if not self.managed:
            return {
                "DATABASE_URL": "postgresql+psycopg://sanctum:${DB_PASSWORD}@postgres:5432/sanctum",
                "REDIS_URL": "redis://:${REDIS_TOKEN}@redis:6379/0",
                "AMQP_URI": "pyamqp://sanctum:${BROKER_PASSWORD}@rabbitmq:5672/",
                **data_services,
                # A bare `docker compose up -d` starts PostgreSQL, Redis and RabbitMQ too;
                # the `planned` profile (services not built yet) stays off.
                "COMPOSE_PROFILES": "data",
            }
        return {
            **data_services,
            "DATABASE_URL": "postgresql+psycopg://sanctum:${DB_PASSWORD}@"
            f"{self.database_host}:5432/sanctum?sslmode=verify-full"
            f"&sslrootcert={CONTAINER_SECRETS}/{RDS_CA_FILE}",
            "REDIS_URL": f"rediss://:${{REDIS_TOKEN}}@{self.redis_host}:6379/0",
            "REDIS_CLUSTER": "true" if self.redis_cluster else "false",
            "AMQP_URI": f"amqps://sanctum:${{BROKER_PASSWORD}}@{self.broker_host}:5671/",
            # Managed services: no profile, so neither the data services nor `planned`.
            "COMPOSE_PROFILES": "",
        }


@dataclass(frozen=True)
class HostConfig:
    region: str
    cluster: str
    # Compose services to start; empty means every service compose enables.
    containers: tuple[str, ...]
    deploy_uri: str
    registry: str
    # The API's public name: the subject of nginx's certificate, as Ansible makes it.
    domain: str
    app_log_group: str
    system_log_group: str
    metric_dimension: str
    secret_ids: Mapping[str, str]
    endpoints: Endpoints
    environment: Mapping[str, str] = field(default_factory=dict)
    # Mount point -> EBS volume id (phase 1 only).
    volumes: Mapping[str, str] = field(default_factory=dict)


def render(config: HostConfig) -> str:
    script = "\n".join([
        _header(config),
        _INSTALL,
        _docker(config),
        _cloudwatch_agent(config),
        _mounts(config),
        _SECRETS_FUNCTIONS,
        _secrets(config),
        _environment(config),
        _queue_depth_timer() if config.volumes else "",
        _start(config),
    ])
    if len(script.encode()) > USER_DATA_LIMIT:
        raise ValueError(f"user data is {len(script.encode())} bytes, EC2 allows {USER_DATA_LIMIT}")
    return script


def release_files(config: HostConfig) -> tuple[str, ...]:
    """The files a host of this configuration needs from the deploy prefix."""
    return RELEASE_FILES + (DATA_RELEASE_FILES if not config.endpoints.managed else ())


def _check(value: str) -> str:
    if not _SAFE.match(value):
        raise ValueError(f"unexpected characters in user data value {value!r}")
    return value


def _header(c: HostConfig) -> str:
    return f"""#!/bin/bash
# SanctumTools host bootstrap ({_check(c.cluster)}), rendered by infra/sanctum_infra/userdata.py.
set -euo pipefail
exec >>/var/log/sanctum-bootstrap.log 2>&1
echo "bootstrap started $(date -Is)"
export DEBIAN_FRONTEND=noninteractive AWS_DEFAULT_REGION={_check(c.region)}
IMDS_TOKEN=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token \\
  -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
INSTANCE_ID=$(curl -fsS -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" \\
  http://169.254.169.254/latest/meta-data/instance-id)
install -d -m 0755 {ETC} {COMPOSE_DIR}
install -d -m 0700 {SECRETS_DIR}
install -d -m 0770 -g {CONTAINER_UID} {BACKUP_STATE_DIR}"""


_INSTALL = """
# Docker Engine and the compose plugin from Docker's Debian repository.
apt-get update -q
apt-get install -y -q ca-certificates curl gnupg jq awscli nvme-cli openssl \\
  amazon-ecr-credential-helper
install -d -m 0755 /etc/apt/keyrings
curl -fsSL https://download.docker.com/linux/debian/gpg -o /etc/apt/keyrings/docker.asc
. /etc/os-release
echo "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] \\
https://download.docker.com/linux/debian $VERSION_CODENAME stable" >/etc/apt/sources.list.d/docker.list
apt-get update -q
apt-get install -y -q docker-ce docker-ce-cli containerd.io docker-compose-plugin"""


def _docker(c: HostConfig) -> str:
    # $INSTANCE_ID is expanded by the (unquoted) heredoc; nothing else in it has a `$`.
    daemon = hostfiles.docker_daemon_json(
        _check(c.region), _check(c.app_log_group), "$INSTANCE_ID")
    client = hostfiles.docker_client_config(_check(c.registry))
    return f"""
# Docker: containers log to CloudWatch; images come from ECR through the instance role.
# The same files as Ansible's docker role writes (monitoring/hostfiles.py).
install -d -m 0755 /etc/docker
cat >{hostfiles.DOCKER_DAEMON_JSON} <<EOF
{daemon}EOF
install -d -m 0700 /root/.docker
cat >{hostfiles.DOCKER_CLIENT_CONFIG} <<'EOF'
{client}EOF
chmod 0600 {hostfiles.DOCKER_CLIENT_CONFIG}
systemctl enable --now docker
systemctl restart docker"""


def _cloudwatch_agent(c: HostConfig) -> str:
    disks = ("/",) + tuple(c.volumes)
    config = hostfiles.cloudwatch_agent_json(
        agent.agent_config(c.metric_dimension, disks, c.system_log_group))
    scrape = hostfiles.cloudwatch_agent_prometheus(agent.prometheus_scrape_config())
    bucket = f"amazoncloudwatch-agent-{c.region}"
    path, home = hostfiles.CLOUDWATCH_AGENT_CONFIG, hostfiles.CLOUDWATCH_AGENT_HOME
    return f"""
# CloudWatch agent: memory and disk metrics for the alarms, host and backup logs, the
# application's Prometheus series (the files Ansible's cloudwatch_agent role writes:
# monitoring/hostfiles.py and agent.py).
curl -fsSLo /tmp/cwagent.deb \\
  https://{bucket}.s3.{c.region}.amazonaws.com/debian/amd64/latest/amazon-cloudwatch-agent.deb
dpkg -i /tmp/cwagent.deb
cat >{hostfiles.CLOUDWATCH_AGENT_PROMETHEUS_CONFIG} <<'EOF'
{scrape}EOF
cat >{path} <<'EOF'
{config}EOF
{home}/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:{path}"""


def _mounts(c: HostConfig) -> str:
    if not c.volumes:
        return ""
    calls = "\n".join(
        f"mount_volume {_check(volume_id)} {_check(path)}" for path, volume_id in c.volumes.items()
    )
    return f"""
# Data volumes: attached after boot, found by volume id, formatted only when blank.
mount_volume() {{
  local device=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${{1//-/}}
  for _ in $(seq 120); do [ -e "$device" ] && break; sleep 5; done
  blkid "$device" >/dev/null || mkfs.ext4 -q "$device"
  install -d "$2"
  echo "UUID=$(blkid -s UUID -o value "$device") $2 ext4 defaults,nofail 0 2" >>/etc/fstab
  mount "$2"
}}
{calls}"""


_SECRETS_FUNCTIONS = """
secret() { aws secretsmanager get-secret-value --secret-id "$1" --query SecretString --output text; }
field() { jq -er --arg key "$2" '.[$key]' <<<"$1"; }"""


def _secrets(c: HostConfig) -> str:
    ids = {name: _check(arn) for name, arn in c.secret_ids.items()}
    return f"""
# Secrets: created root-only, then readable by the containers' group (uid {CONTAINER_UID}):
# the modes Ansible's stack role gives them (group {CONTAINER_UID}, 0640, directory 0750).
umask 077
DB_SECRET=$(secret {ids['database']})
DB_PASSWORD=$(field "$DB_SECRET" password)
BROKER_PASSWORD=$(field "$(secret {ids['broker']})" password)
REDIS_TOKEN=$(field "$(secret {ids['redis']})" auth_token)
field "$(secret {ids['service-auth']})" secret >{SECRETS_DIR}/service_auth.key
JWT_SECRET=$(secret {ids['jwt']})
field "$JWT_SECRET" private_pem >{SECRETS_DIR}/jwt_private.pem
field "$JWT_SECRET" public_pem >{SECRETS_DIR}/jwt_public.pem{_rds_ca(c)}
chgrp {CONTAINER_UID} {SECRETS_DIR} {SECRETS_DIR}/*
chmod 0750 {SECRETS_DIR}
chmod 0640 {SECRETS_DIR}/*
umask 022"""


def _rds_ca(c: HostConfig) -> str:
    if not c.endpoints.managed:
        return ""
    url = f"https://truststore.pki.rds.amazonaws.com/{c.region}/{c.region}-bundle.pem"
    return f"\ncurl -fsSLo {SECRETS_DIR}/{RDS_CA_FILE} {url}"


def environment(c: HostConfig) -> dict[str, str]:
    """Every variable of the host's environment file, before ${...} expansion.

    release.env (from the deploy prefix) then adds or replaces the lines Ansible's stack
    role owns (its stack_env): SANCTUM_IMAGE_TAG, SANCTUM_ENVIRONMENT, COMPOSE_PROFILES...
    """
    return {
        **c.endpoints.environment(),
        **c.environment,
        "SANCTUM_SECRETS_DIR": SECRETS_DIR,
        "JWT_PRIVATE_KEY_FILE": f"{CONTAINER_SECRETS}/jwt_private.pem",
        "JWT_PUBLIC_KEY_FILE": f"{CONTAINER_SECRETS}/jwt_public.pem",
        "SERVICE_AUTH_SECRET_FILE": f"{CONTAINER_SECRETS}/service_auth.key",
        "PSYCOPG_WAIT_FUNC": "wait_select",
        "AWS_REGION": c.region,
    }


def _environment(c: HostConfig) -> str:
    lines = "\n".join(f"{_check(key)}={value}" for key, value in sorted(environment(c).items()))
    return f"""
cat >{ENV_FILE} <<EOF
{lines}
EOF
chmod 0600 {ENV_FILE}"""


def _queue_depth_timer() -> str:
    namespace, metric = catalogue.APP_NAMESPACE, catalogue.QUEUE_DEPTH_METRIC
    return f"""
# Phase 1 runs RabbitMQ in a container: publish its total queue depth for the alarm.
cat >/usr/local/bin/sanctum-queue-depth <<'EOF'
#!/bin/bash
set -euo pipefail
id=$(cat /var/lib/cloud/data/instance-id)
depth=$(docker compose --project-directory {COMPOSE_DIR} --env-file {ENV_FILE} exec -T rabbitmq \\
  rabbitmqctl list_queues --quiet --no-table-headers messages | awk '{{s+=$1}} END {{print s+0}}')
aws cloudwatch put-metric-data --namespace {namespace} --metric-name {metric} \\
  --dimensions InstanceId="$id" --value "$depth"
EOF
chmod 0755 /usr/local/bin/sanctum-queue-depth
cat >/etc/systemd/system/sanctum-queue-depth.service <<'EOF'
[Unit]
Description=Publish RabbitMQ queue depth to CloudWatch
[Service]
Type=oneshot
ExecStart=/usr/local/bin/sanctum-queue-depth
EOF
cat >/etc/systemd/system/sanctum-queue-depth.timer <<'EOF'
[Unit]
Description=Publish RabbitMQ queue depth every minute
[Timer]
OnBootSec=2min
OnUnitActiveSec=1min
[Install]
WantedBy=timers.target
EOF
systemctl daemon-reload
systemctl enable --now sanctum-queue-depth.timer"""


def _start(c: HostConfig) -> str:
    containers = " ".join(_check(name) for name in c.containers)
    required = " ".join(release_files(c))
    compose = f"docker compose --project-directory {COMPOSE_DIR} --env-file {ENV_FILE}"
    domain, release = _check(c.domain), f"{COMPOSE_DIR}/{RELEASE_ENV}"
    return f"""
# This host's containers, from the release Ansible published under the deploy prefix:
# compose.yaml, release.env and the files compose refers to.
echo {shlex.quote(containers)} >{CONTAINERS_FILE}
aws s3 sync --only-show-errors {_check(c.deploy_uri)} {COMPOSE_DIR}/
if [ ! -f {COMPOSE_DIR}/compose.yaml ] || [ ! -f {release} ]; then
  echo "no release under {c.deploy_uri} yet: the first Ansible deploy starts the stack"
  exit 0
fi
for file in {required}; do
  [ -f "{COMPOSE_DIR}/$file" ] || {{ echo "release incomplete: $file is missing"; exit 1; }}
done
# release.env's lines replace those keys of the environment file (as Ansible's lineinfile).
awk -F= 'NR == FNR {{ if (/^[A-Z][A-Z0-9_]*=/) {{ keys[$1] = 1; lines[++n] = $0 }} next }}
  !($1 in keys) {{ print }}
  END {{ for (i = 1; i <= n; i++) print lines[i] }}' {release} {ENV_FILE} >{ENV_FILE}.new
chmod 0600 {ENV_FILE}.new
mv {ENV_FILE}.new {ENV_FILE}
rm {release}
if [ ! -f {COMPOSE_DIR}/tls/server.crt ]; then
  # The load balancer does not verify its targets' certificate; nginx still needs one.
  install -d -m 0755 {COMPOSE_DIR}/tls
  openssl req -x509 -newkey rsa:2048 -nodes -days {TLS_DAYS} -subj /CN={domain} \\
    -addext subjectAltName=DNS:{domain} \\
    -keyout {COMPOSE_DIR}/tls/server.key -out {COMPOSE_DIR}/tls/server.crt
  chmod 0600 {COMPOSE_DIR}/tls/server.key
fi
# The services compose enables here (COMPOSE_PROFILES: `planned` is never on) among those
# this host runs; the same choice as Ansible's stack role (tasks/services.yml).
enabled=$({compose} config --services)
wanted=$(cat {CONTAINERS_FILE})
services=$(for name in ${{wanted:-$enabled}}; do
  if grep -qxF "$name" <<<"$enabled" && ! grep -qwF "$name" <<<"{' '.join(ONE_SHOT)}"; then
    echo "$name"
  fi
done | xargs)
built=$(for name in $services; do
  if grep -qwF "$name" <<<"{' '.join(HOST_BUILT)}"; then echo "$name"; fi
done | xargs)
pulled=$(for name in $services; do
  if ! grep -qwF "$name" <<<"{' '.join(HOST_BUILT)}"; then echo "$name"; fi
done | xargs)
if [ -n "$built" ]; then {compose} build --quiet $built; fi
{compose} pull --quiet $pulled {' '.join(ONE_SHOT + PULLED_TOOLS)}
{compose} up --detach --remove-orphans $services
echo "bootstrap finished $(date -Is)"
"""

"""A host configured by Ansible and a host that booted on its own end up the same.

For each phase (and phase 3's frontend and backend clusters), on sandbox directories
(host_sandbox.py):
1. the first host boots with the real user data while no release is published yet
   (it stops after writing secrets and the environment file, as on AWS);
2. Ansible runs the roles site.yml runs for the stack on it (docker and CloudWatch agent
   configuration, nginx, pgBackRest, stack, publish), which publishes the release to a
   local stand-in for the deploy prefix;
3. a second host boots with the same user data (Auto Scaling, a replaced host) and
   starts from that release.
Then both hosts are compared: files, environment, permissions, the services started.
"""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from host_sandbox import ANSIBLE, Sandbox, compose_bin
from infra_harness import Run
from sanctum_infra import topology, userdata

from monitoring import hostfiles

TAG = "2025.06.01-abc1234"
CONTAINER_GID = userdata.CONTAINER_UID
HOSTS = [(1, "host"), (2, "app"), (3, "frontend"), (3, "backend")]
# The stack part of site.yml, with the roles' configuration tasks (their install tasks
# need apt and a real Docker engine).
SITE = [{
    "name": "The stack part of site.yml on a sandbox",
    "hosts": "sanctum",
    "gather_facts": False,
    "tasks": [
        {"name": "Docker daemon and client", "ansible.builtin.include_role": {"name": "docker", "tasks_from": "config"}},
        {"name": "CloudWatch agent", "ansible.builtin.include_role": {"name": "cloudwatch_agent", "tasks_from": "config"}},
        {"name": "nginx", "ansible.builtin.include_role": {"name": "nginx"}},
        {"name": "pgBackRest", "ansible.builtin.include_role": {"name": "backup_schedule", "tasks_from": "pgbackrest"}},
        {"name": "Stack", "ansible.builtin.include_role": {"name": "stack"}},
        {"name": "Publish", "ansible.builtin.include_role": {"name": "stack", "tasks_from": "publish"}},
    ],
}]
WRITTEN_BY_BOTH = (hostfiles.DOCKER_DAEMON_JSON, hostfiles.DOCKER_CLIENT_CONFIG,
                   hostfiles.CLOUDWATCH_AGENT_CONFIG, hostfiles.CLOUDWATCH_AGENT_PROMETHEUS_CONFIG)


def user_data(run: Run, cluster: str) -> str:
    if run.outputs["phase"] == 1:
        (instance,) = run.of_type("aws:ec2/instance:Instance")
        return instance.inputs["userData"]
    template = run.one("aws:ec2/launchTemplate:LaunchTemplate", f"{cluster}-template")
    return base64.b64decode(template.inputs["userData"]).decode()


@dataclass
class Hosts:
    phase: int
    cluster: str
    outputs: dict[str, Any]
    ansible: Sandbox  # booted before any release, then configured by Ansible
    booted: Sandbox  # booted from the release Ansible published
    untouched: dict[str, tuple[int, int]]  # host files: (inode, mtime) before and after Ansible

    @property
    def published(self) -> dict[str, str]:
        prefix = self.ansible.s3 / self.outputs["deploy_prefix"].removeprefix("s3://")
        return {p.relative_to(prefix).as_posix(): p.read_text()
                for p in sorted(prefix.rglob("*")) if p.is_file()}


def _identity(box: Sandbox, path: str) -> tuple[int, int]:
    info = box.path(path).stat()
    return info.st_ino, info.st_mtime_ns


@pytest.fixture(scope="module", params=HOSTS, ids=[f"phase{p}-{c}" for p, c in HOSTS])
def hosts(request: pytest.FixtureRequest, runs: dict[int, Run],
          tmp_path_factory: pytest.TempPathFactory) -> Hosts:
    phase, cluster = request.param
    run, script = runs[phase], user_data(runs[phase], cluster)
    base = tmp_path_factory.mktemp(f"phase{phase}-{cluster}")
    first = Sandbox.create(base / "first", base / "s3")

    booted = first.boot(script)
    assert booted.returncode == 0, first.boot_log() + booted.stderr
    assert "no release under" in first.boot_log()
    before = {path: _identity(first, path) for path in WRITTEN_BY_BOTH}

    played = first.ansible(SITE, first.ansible_vars(run.outputs, TAG))
    assert played.returncode == 0, played.stdout[-6000:] + played.stderr[-3000:]
    untouched = {path: before[path] for path in WRITTEN_BY_BOTH if _identity(first, path) == before[path]}

    later = Sandbox.create(base / "later", base / "s3")
    booted = later.boot(script)
    assert booted.returncode == 0, later.boot_log() + booted.stderr
    assert "bootstrap finished" in later.boot_log(), later.boot_log()
    return Hosts(phase, cluster, run.outputs, first, later, untouched)


def test_ansible_publishes_the_files_the_boot_script_fetches(hosts: Hosts) -> None:
    expected = set(userdata.RELEASE_FILES) | (set(userdata.DATA_RELEASE_FILES) if hosts.phase == 1 else set())
    assert set(hosts.published) == expected
    # Every file the phase's services refer to is in the release, except tls/ (each
    # host makes its own key).
    compose = yaml.safe_load(hosts.published["compose.yaml"])
    profiles = {"data"} if hosts.phase == 1 else set()
    referred = set()
    for service in compose["services"].values():
        if not set(service.get("profiles", [])) <= profiles:
            continue
        build = service.get("build")
        context = build if isinstance(build, str) else (build or {}).get("context")
        if context and context != ".":  # "." is the application image, built by CI
            referred.add(f"{context.removeprefix('./')}/Dockerfile")
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and not source.startswith("./tls"):
                referred.add(source.removeprefix("./"))
    published_dirs = {p.rsplit("/", i)[0] for p in hosts.published for i in range(1, p.count("/") + 1)}
    for path in referred:
        assert path in hosts.published or path in published_dirs, path
    # Ansible's own list of them is the user data's.
    defaults = yaml.safe_load((ANSIBLE / "roles/stack/defaults/main.yml").read_text())
    assert tuple(defaults["stack_release_files"]) == userdata.RELEASE_FILES
    assert tuple(defaults["stack_data_release_files"]) == userdata.DATA_RELEASE_FILES


def test_release_env_gives_the_image_tag_and_the_phase_profiles(hosts: Hosts) -> None:
    release = dict(line.split("=", 1) for line in hosts.published["release.env"].splitlines())
    profiles = "data" if hosts.phase == 1 else ""
    assert release["SANCTUM_IMAGE_TAG"] == TAG
    assert release["COMPOSE_PROFILES"] == profiles
    assert release["SANCTUM_ENVIRONMENT"] == f"phase{hosts.phase}"
    env = hosts.booted.env_file()
    assert {key: env[key] for key in release} == release
    assert not hosts.booted.path("/opt/sanctum/release.env").exists()


def test_environment_files_are_the_same(hosts: Hosts) -> None:
    first, later = hosts.ansible.env_file(), hosts.booted.env_file()
    assert first == later
    assert later["COMPOSE_PROFILES"] == ("data" if hosts.phase == 1 else "")
    for box in (hosts.ansible, hosts.booted):
        assert box.mode("/etc/sanctum/sanctum.env") == (0o600, 0, 0)


def test_stack_directory_is_the_same(hosts: Hosts) -> None:
    assert hosts.ansible.tree("/opt/sanctum", skip=("tls",)) == hosts.booted.tree("/opt/sanctum", skip=("tls",))
    domain = hosts.outputs["url"].removeprefix("https://")
    for box in (hosts.ansible, hosts.booted):
        assert box.mode("/opt/sanctum")[0] == 0o755
        assert box.mode("/opt/sanctum/tls")[0] == 0o755
        assert box.mode("/opt/sanctum/tls/server.key")[0] == 0o600
        assert box.mode("/opt/sanctum/tls/server.crt")[0] == 0o644
        subject = subprocess.run(["openssl", "x509", "-noout", "-subject", "-ext", "subjectAltName",
                                  "-in", str(box.path("/opt/sanctum/tls/server.crt"))],
                                 capture_output=True, text=True, check=True).stdout
        assert f"CN = {domain}" in subject and f"DNS:{domain}" in subject


def test_secrets_are_readable_by_the_containers_group_only(hosts: Hosts) -> None:
    trees = [box.tree("/etc/sanctum/secrets") for box in (hosts.ansible, hosts.booted)]
    assert trees[0] == trees[1]
    names = {"jwt_private.pem", "jwt_public.pem", "service_auth.key"}
    assert set(trees[1]) == names | ({userdata.RDS_CA_FILE} if hosts.phase > 1 else set())
    for kind, mode, gid, _ in trees[1].values():
        assert (kind, mode, gid) == ("file", 0o640, CONTAINER_GID)
    for box in (hosts.ansible, hosts.booted):
        assert box.mode("/etc/sanctum/secrets") == (0o750, 0, CONTAINER_GID)
        assert box.mode("/var/lib/sanctum-backup") == (0o770, 0, CONTAINER_GID)


def test_host_files_are_written_once_with_the_same_bytes(hosts: Hosts) -> None:
    for path in WRITTEN_BY_BOTH:
        assert hosts.ansible.path(path).read_bytes() == hosts.booted.path(path).read_bytes(), path
        assert hosts.ansible.mode(path) == hosts.booted.mode(path), path
    # Ansible found nothing to change on a host that had just booted.
    assert set(hosts.untouched) == set(WRITTEN_BY_BOTH)
    daemon = json.loads(hosts.booted.path(hostfiles.DOCKER_DAEMON_JSON).read_text())
    assert daemon["log-opts"]["tag"].startswith("i-") and daemon["log-opts"]["tag"].endswith("/{{.Name}}")
    assert daemon["live-restore"] and daemon["no-new-privileges"]
    client = json.loads(hosts.booted.path(hostfiles.DOCKER_CLIENT_CONFIG).read_text())
    assert list(client["credHelpers"].values()) == ["ecr-login"]
    assert hosts.booted.mode(hostfiles.DOCKER_CLIENT_CONFIG)[0] == 0o600


def test_the_same_services_start_and_never_a_planned_one(hosts: Hosts) -> None:
    started = hosts.booted.compose_services("up")
    assert started and hosts.ansible.compose_services("up") == started
    for command in ("pull", "build"):
        assert hosts.ansible.compose_services(command) == hosts.booted.compose_services(command)
    assert hosts.booted.compose_services("pull") == (started - {"nginx", "postgres"}) | {"migrate", "backup"}
    assert hosts.booted.compose_services("build") == started & {"nginx", "postgres"}
    compose = yaml.safe_load(hosts.published["compose.yaml"])
    planned = {n for n, s in compose["services"].items() if "planned" in s.get("profiles", [])}
    built = {n for n in topology.SERVICES if n not in planned}
    role = next(r for r in topology.clusters_for(hosts.phase) if r.name == hosts.cluster)
    expected = {n for n in role.containers if n not in planned}
    if hosts.phase > 1:
        expected -= set(topology.DATA)
    assert started == expected
    assert not started & planned and built & set(role.containers) <= started


def _compose_config(box: Sandbox) -> dict[str, Any]:
    result = subprocess.run(
        [compose_bin(), "--project-directory", str(box.path("/opt/sanctum")),
         "--env-file", str(box.path("/etc/sanctum/sanctum.env")), "config", "--format", "json"],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(box.unmoved(result.stdout))


def test_containers_get_the_same_environment(hosts: Hosts) -> None:
    """compose's view of the stack (every container's environment, mounts, limits) from
    each host's files is the same, and holds the settings both paths must give."""
    config = _compose_config(hosts.booted)
    assert _compose_config(hosts.ansible) == config
    gateway = config["services"]["gateway"]
    assert gateway["environment"]["TRUSTED_PROXY_HOPS"] == "1"
    assert gateway["environment"]["SANCTUM_ENVIRONMENT"] == f"phase{hosts.phase}"
    assert gateway["image"].endswith(f":{TAG}")
    for name, service in config["services"].items():
        if service["image"] == gateway["image"]:
            # measured 92-120 MiB per domain service (issue 13 bench): 160 MiB leaves headroom
            assert int(service["mem_limit"]) >= 160 * 2**20, name
            assert service["volumes"][0]["source"] == userdata.SECRETS_DIR
    assert set(config["services"]) & set(topology.DATA) == (set(topology.DATA) if hosts.phase == 1 else set())

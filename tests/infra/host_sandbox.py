"""A host on the local disk: runs the real first-boot script and the real Ansible roles
against a sandbox directory, with stand-ins for what needs AWS, systemd or a Docker engine.

- The user data runs with its absolute paths (/etc, /opt, /var, /root, /dev/disk ...)
  moved under the sandbox root; nothing else of it is changed.
- Stand-ins on PATH: `aws` (Secrets Manager answers, S3 as a directory tree), `curl`
  (instance metadata, downloads), `docker` (logs every call; `docker compose config`
  runs the real Docker Compose v2 binary, which needs no engine), and no-op apt-get,
  dpkg, systemctl, mount, blkid, mkfs.ext4.
- Ansible runs the roles with connection=local and the same paths as variables.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
ANSIBLE = REPO / "ansible"
INSTANCE_ID = "i-0123456789sandbox"
# Absolute paths of the user data that move under the sandbox root.
_MOVED = re.compile(r"(?<![\w.:/-])(/etc/|/opt/|/var/|/usr/local/bin/|/dev/disk/|/root/|/tmp/)")


def compose_bin() -> str:
    path = os.environ.get("SANCTUM_COMPOSE_BIN") or str(REPO / ".tools/bin/docker-compose")
    if not Path(path).exists():
        raise RuntimeError(
            f"Docker Compose v2 not found at {path}: run tests/ops/ensure-compose.sh "
            "(scripts/test-infra.sh and scripts/test-ops.sh do)")
    return path


def secret_value(secret_id: str) -> dict[str, str]:
    """What the Secrets Manager stand-in returns, the same on every sandbox."""
    name = secret_id.rsplit(":", 1)[-1]
    return {"password": f"pw-{name}", "auth_token": f"token-{name}", "secret": f"key-{name}",
            "private_pem": "-----BEGIN PRIVATE KEY-----\nsandbox\n-----END PRIVATE KEY-----",
            "public_pem": "-----BEGIN PUBLIC KEY-----\nsandbox\n-----END PUBLIC KEY-----"}


_AWS = r'''
import json, os, shutil, sys
from pathlib import Path
sys.path.insert(0, os.environ["SANDBOX_HELPERS"])
from host_sandbox import secret_value

args = sys.argv[1:]
with open(os.environ["SANDBOX_LOG"], "a") as log:
    log.write(json.dumps(["aws", *args]) + "\n")

def local(uri):
    if uri.startswith("s3://"):
        return Path(os.environ["SANDBOX_S3"]) / uri[5:]
    return Path(uri)

def value(flag):
    return args[args.index(flag) + 1] if flag in args else None

positional = [a for i, a in enumerate(args) if not a.startswith("--")
              and not (i and args[i - 1] in ("--exclude", "--secret-id", "--query", "--output"))]
if args[:2] == ["secretsmanager", "get-secret-value"]:
    print(json.dumps(secret_value(value("--secret-id"))))
elif args[:2] == ["s3", "sync"]:
    source, target = local(positional[2]), local(positional[3])
    excluded = value("--exclude")
    copied = set()
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source).as_posix()
            if path.is_file() and relative != excluded:
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target / relative)
                copied.add(relative)
    if "--delete" in args and target.is_dir():
        for path in list(target.rglob("*")):
            relative = path.relative_to(target).as_posix()
            if path.is_file() and relative not in copied and relative != excluded:
                path.unlink()
elif args[:2] == ["s3", "cp"]:
    target = local(positional[3])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(local(positional[2]), target)
'''

_CURL = r'''
import json, os, sys
args = sys.argv[1:]
with open(os.environ["SANDBOX_LOG"], "a") as log:
    log.write(json.dumps(["curl", *args]) + "\n")
url = [a for a in args if a.startswith("http")][-1]
out = None
for i, a in enumerate(args):
    if a == "-o" or (a.startswith("-") and not a.startswith("--") and a.endswith("o")):
        out = args[i + 1]
if url.endswith("/api/token"):
    print("imds-token")
elif url.endswith("/instance-id"):
    print(os.environ["SANDBOX_INSTANCE_ID"])
elif out:
    with open(out, "w") as handle:
        handle.write(f"downloaded from {url}\n")
'''

_DOCKER = r'''
import json, os, sys
args = sys.argv[1:]
with open(os.environ["SANDBOX_LOG"], "a") as log:
    log.write(json.dumps(["docker", *args]) + "\n")
if args[:1] == ["compose"] and "config" in args:
    os.execv(os.environ["SANDBOX_COMPOSE"], [os.environ["SANDBOX_COMPOSE"], *args[1:]])
'''

_BLKID = r'''
import sys
if "-o" in sys.argv:
    print("0b1d2c3e-sandbox-uuid")
'''


@dataclass
class Sandbox:
    root: Path
    s3: Path
    log: Path
    bin: Path

    @classmethod
    def create(cls, root: Path, s3: Path) -> Sandbox:
        box = cls(root=root, s3=s3, log=root / "calls.jsonl", bin=root / "stand-ins")
        for directory in ("etc/apt/sources.list.d", "etc/systemd/system", "var/log", "root",
                          "tmp", "usr/local/bin", "dev/disk/by-id",
                          # what the CloudWatch agent package installs
                          "opt/aws/amazon-cloudwatch-agent/etc"):
            (root / directory).mkdir(parents=True, exist_ok=True)
        (root / "etc/os-release").write_text("ID=debian\nVERSION_CODENAME=bookworm\n")
        s3.mkdir(parents=True, exist_ok=True)
        box.bin.mkdir(exist_ok=True)
        python = sys.executable
        for name, source in (("aws", _AWS), ("curl", _CURL), ("docker", _DOCKER), ("blkid", _BLKID)):
            _executable(box.bin / name, f"#!{python}\n{source}")
        for name in ("apt-get", "dpkg", "systemctl", "mount", "mkfs.ext4"):
            _executable(box.bin / name, "#!/bin/sh\nexit 0\n")
        ctl = root / "opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
        ctl.parent.mkdir(parents=True, exist_ok=True)
        _executable(ctl, "#!/bin/sh\nexit 0\n")
        return box

    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.root / "root"),
            "SANDBOX_LOG": str(self.log),
            "SANDBOX_S3": str(self.s3),
            "SANDBOX_HELPERS": str(Path(__file__).parent),
            "SANDBOX_INSTANCE_ID": INSTANCE_ID,
            "SANDBOX_COMPOSE": compose_bin(),
            "LANG": "C.UTF-8",
        }

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def unmoved(self, text: str) -> str:
        return text.replace(str(self.root), "")

    # --- the first-boot script ----------------------------------------------------------

    def move(self, script: str) -> str:
        """The script with its commands' absolute paths under the sandbox root; the
        files it writes (heredoc bodies) keep theirs: they are the host's content."""
        lines, in_heredoc = [], False
        for line in script.splitlines():
            if in_heredoc:
                in_heredoc = line != "EOF"
            else:
                in_heredoc = bool(re.search(r"<<'?EOF'?$", line))
                line = _MOVED.sub(lambda m: f"{self.root}{m.group(1)}", line)
            lines.append(line)
        return "\n".join(lines) + "\n"

    def boot(self, script: str) -> subprocess.CompletedProcess[str]:
        moved = self.move(script)
        for volume_id in re.findall(r"^mount_volume (\S+) ", script, re.MULTILINE):
            device = self.path(f"/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_{volume_id.replace('-', '')}")
            device.touch()
        (self.root / "user-data.sh").write_text(moved)
        return subprocess.run(["bash", str(self.root / "user-data.sh")], env=self.env(),
                              capture_output=True, text=True, timeout=120, check=False)

    def boot_log(self) -> str:
        path = self.path("/var/log/sanctum-bootstrap.log")
        return path.read_text() if path.exists() else ""

    # --- Ansible ------------------------------------------------------------------------

    def ansible_vars(self, outputs: dict[str, Any], image_tag: str) -> dict[str, Any]:
        """The inventory plugin's variables for these stack outputs, with the host's
        absolute paths moved under the sandbox root."""
        variables: dict[str, Any] = {f"pulumi_{k}": v for k, v in outputs.items()}
        variables.update(
            sanctum_phase=int(outputs["phase"]),
            instance_id=INSTANCE_ID,
            sanctum_image_tag=image_tag,
            sanctum_repo_root=str(REPO),
            sanctum_root=str(self.path("/opt/sanctum")),
            sanctum_env_file=str(self.path("/etc/sanctum/sanctum.env")),
            sanctum_secrets_dir=str(self.path("/etc/sanctum/secrets")),
            sanctum_containers_file=str(self.path("/etc/sanctum/containers")),
            stack_backup_state_dir=str(self.path("/var/lib/sanctum-backup")),
            stack_aws_cli=str(self.bin / "aws"),
            docker_daemon_config_path=str(self.path("/etc/docker/daemon.json")),
            docker_client_config_path=str(self.path("/root/.docker/config.json")),
            cloudwatch_agent_home=str(self.path("/opt/aws/amazon-cloudwatch-agent")),
        )
        return variables

    def ansible(self, playbook: list[dict[str, Any]], variables: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        work = self.root.parent / f"{self.root.name}-ansible"
        work.mkdir(exist_ok=True)
        (work / "group_vars").mkdir(exist_ok=True)
        # The project's group variables, as an inventory beside them would load them.
        (work / "group_vars" / "sanctum.yml").write_text(
            (ANSIBLE / "group_vars/all/main.yml").read_text())
        (work / "inventory.yml").write_text(yaml.safe_dump({"sanctum": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        (work / "playbook.yml").write_text(yaml.safe_dump(playbook, sort_keys=False))
        (work / "vars.json").write_text(json.dumps(variables))
        env = {
            **os.environ, **self.env(),
            "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"),
            "ANSIBLE_ROLES_PATH": str(ANSIBLE / "roles"),
            "ANSIBLE_FILTER_PLUGINS": str(ANSIBLE / "plugins/filter"),
            "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
            "ANSIBLE_REMOTE_TEMP": str(work / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
        }
        command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(work / "inventory.yml"),
                   "-e", f"@{work / 'vars.json'}", str(work / "playbook.yml")]
        return subprocess.run(command, env=env, cwd=work, capture_output=True, text=True,
                              timeout=300, check=False)

    # --- what the host ended up with ----------------------------------------------------

    def calls(self, program: str) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [c[1:] for c in map(json.loads, self.log.read_text().splitlines()) if c[0] == program]

    def compose_services(self, command: str) -> set[str]:
        """The services named by the last `docker compose ... <command>` call (none if
        it was never called)."""
        found = [c for c in self.calls("docker") if command in c and c[0] == "compose"]
        if not found:
            return set()
        last = found[-1]
        options_with_value = {"--project-directory", "--env-file", "--wait-timeout"}
        names, skip = [], False
        for arg in last[last.index(command) + 1:]:
            if skip:
                skip = False
            elif arg in options_with_value:
                skip = True
            elif not arg.startswith("-"):
                names.append(arg)
        return set(names)

    def env_file(self) -> dict[str, str]:
        text = self.unmoved(self.path("/etc/sanctum/sanctum.env").read_text())
        return dict(line.split("=", 1) for line in text.splitlines() if line.strip())

    def tree(self, absolute: str, skip: tuple[str, ...] = ()) -> dict[str, tuple[str, int, int, str]]:
        """relative path -> (kind, mode, gid, content) under a directory of the host."""
        base = self.path(absolute)
        found: dict[str, tuple[str, int, int, str]] = {}
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(base).as_posix()
            if any(relative == s or relative.startswith(s + "/") for s in skip):
                continue
            info = path.lstat()
            content = self.unmoved(path.read_text()) if path.is_file() else ""
            found[relative] = ("dir" if path.is_dir() else "file", stat.S_IMODE(info.st_mode),
                               info.st_gid, content)
        return found

    def mode(self, absolute: str) -> tuple[int, int, int]:
        info = self.path(absolute).stat()
        return stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def quote(words: list[str]) -> str:
    return " ".join(shlex.quote(w) for w in words)

"""The backup schedule's systemd units for a bare Debian host (no Docker), rendered from
the Ansible role's own job list and templates (ansible/roles/backup_schedule), so the
compose host and the bare host run the same jobs at the same times.

    sudo .venv/bin/python deploy/backup_units.py --root "$PWD" --out /etc/systemd/system
    sudo systemctl daemon-reload
    sudo systemctl enable --now $(cd /etc/systemd/system && ls sanctum-backup-*.timer)

Needs `make deps-all` (ansible-core's templating).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

if __package__ in (None, ""):  # run as a script: the repository root holds `deploy`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from deploy.ansible_templates import render_role_template  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ROLE = ROOT / "ansible" / "roles" / "backup_schedule"


def render(template: str, variables: dict) -> str:
    return render_role_template("backup_schedule", template, variables)


def units(root: Path, env_file: str, log_dir: str) -> dict[str, str]:
    """File name -> text of every unit of the bare host's schedule."""
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables = {
        **{k: v for k, v in defaults.items() if k != "backup_schedule_active_jobs"},
        "ansible_managed": "rendered by deploy/backup_units.py",
        "backup_schedule_runner": "bare",
        "backup_schedule_root": str(root),
        "backup_schedule_env_file": env_file,
        "backup_schedule_log_dir": log_dir,
        "sanctum_root": str(root),
    }
    result = {}
    for job in defaults["backup_schedule_jobs"]:
        for kind in ("service", "timer"):
            text = render(f"job.{kind}.j2", {**variables, "backup_schedule_job": job})
            result[f"sanctum-backup-{job['name']}.{kind}"] = text
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout with .venv (default: this one)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the units")
    parser.add_argument("--env-file", default="/etc/sanctum/backup.env")
    parser.add_argument("--log-dir", default="/var/log/sanctum")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in units(args.root.resolve(), args.env_file, args.log_dir).items():
        (args.out / name).write_text(text)
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

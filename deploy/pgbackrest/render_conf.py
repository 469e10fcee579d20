"""pgBackRest's configuration for any host, from the Ansible role's own template.

The compose host gets it from Ansible (roles/backup_schedule); a bare Debian host and
a development machine render the same template with this script (`make deps-all`
installs ansible-core, whose templating it uses):

    .venv/bin/python deploy/pgbackrest/render_conf.py --bucket BUCKET --region eu-west-2 \\
        --pg-path /var/lib/postgresql/15/main --pg-user postgres > /etc/pgbackrest/pgbackrest.conf

Every role default not given here keeps its value (ansible/roles/backup_schedule/defaults).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

if __package__ in (None, ""):  # run as a script: the repository root holds `deploy`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from deploy.ansible_templates import render_role_template  # noqa: E402

ROLE = Path(__file__).resolve().parents[2] / "ansible" / "roles" / "backup_schedule"
OPTIONS = {  # flag -> the role variable it sets
    "bucket": "sanctum_backup_bucket",
    "region": "sanctum_region",
    "endpoint": "backup_schedule_pgbackrest_endpoint",
    "repo_path": "backup_schedule_pgbackrest_repo_path",
    "key_type": "backup_schedule_pgbackrest_key_type",
    "key": "backup_schedule_pgbackrest_key",
    "key_secret": "backup_schedule_pgbackrest_key_secret",
    "kms_key_id": "backup_schedule_pgbackrest_kms_key_id",
    "stanza": "backup_schedule_stanza",
    "pg_path": "backup_schedule_pg_path",
    "pg_user": "backup_schedule_pg_user",
    "pg_port": "backup_schedule_pg_port",
    "pg_socket_path": "backup_schedule_pg_socket_path",
}


def render(values: dict) -> str:
    """The template rendered with the role's defaults and `values` (role variable names)."""
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()) or {}
    variables = {"ansible_managed": "rendered by deploy/pgbackrest/render_conf.py", **defaults, **values}
    return render_role_template("backup_schedule", "pgbackrest.conf.j2", variables)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--region", required=True)
    for name in OPTIONS:
        if name not in ("bucket", "region"):
            parser.add_argument(f"--{name.replace('_', '-')}")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="an extra [global] line, e.g. archive-async=y (repeatable)")
    args = parser.parse_args(argv)
    values = {var: getattr(args, flag) for flag, var in OPTIONS.items() if getattr(args, flag) is not None}
    if "backup_schedule_pgbackrest_endpoint" not in values:
        values["backup_schedule_pgbackrest_endpoint"] = f"s3.{args.region}.amazonaws.com"
    values["backup_schedule_pgbackrest_global_extra"] = dict(item.split("=", 1) for item in args.set)
    sys.stdout.write(render(values))
    return 0


if __name__ == "__main__":
    sys.exit(main())

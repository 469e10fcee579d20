"""Helpers for the ops suite (imported by conftest.py and the tests)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import yaml
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the ops suite runs apart; its helpers share tests/support

from deploy import ansible_templates  # noqa: E402
from tests.support.ports import free_port  # noqa: E402, F401 - the ops tests import it from here

ANSIBLE = ROOT / "ansible"
PG_BIN = Path(os.environ.get("OPS_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_ADMIN_URL = os.environ.get(
    "OPS_PG_ADMIN_URL", "postgresql://sanctum:sanctum@127.0.0.1:5432/postgres"
)


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before port {port} opened")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def self_signed_certificate(key: Path, cert: Path, common_name: str, days: int = 1,
                            alt_names: str | None = None) -> None:
    """A throwaway TLS key and certificate (openssl), for servers the tests start."""
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days),
               "-subj", f"/CN={common_name}", "-keyout", str(key), "-out", str(cert)]
    if alt_names:
        command += ["-addext", f"subjectAltName={alt_names}"]
    subprocess.run(command, check=True, capture_output=True)


def venv_tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def database_url(name: str, driver: str = "") -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    scheme, rest = base.split("://", 1)
    return f"{scheme}{driver}://{rest}/{name}"


def as_postgres(command: list[str]) -> list[str]:
    """initdb/pg_ctl/pgbackrest refuse to run as root: run them as the postgres user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


# --- templates (the Ansible roles' own files, rendered with real values) ---------------


def role_defaults(role: str) -> dict:
    path = ANSIBLE / "roles" / role / "defaults" / "main.yml"
    return yaml.safe_load(path.read_text()) or {}


def render_role_template(role: str, name: str, **values) -> str:
    """Render a role's template with Ansible's own templating (filters, lazy variables)."""
    variables = {"ansible_managed": "Ansible managed (test rendering)", **role_defaults(role)}
    variables.update(values)
    return ansible_templates.render_role_template(role, name, variables)


# --- independent fingerprint of a database's contents (not the tool's algorithm) ---------


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """table -> (rows, md5 of every row's text in sorted order)."""
    result = {}
    with psycopg.connect(url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_type = 'BASE TABLE'"
            " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, name in tables:
            query = sql.SQL(
                "SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')"
                " FROM {} t"
            ).format(sql.Identifier(schema, name))
            result[f"{schema}.{name}"] = tuple(conn.execute(query).fetchone())
    return result


def user_objects(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]

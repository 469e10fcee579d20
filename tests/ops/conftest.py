"""Fixtures for the ops suite (backup tool, Ansible, images).

Everything runs on this machine: a moto S3 server started here, throwaway
databases on the local PostgreSQL, Redis and PostgreSQL instances of our own on
free ports. Nothing touches the `sanctum` database, Redis db 0 or real AWS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import boto3
import psycopg
import pytest
from ops_support import (
    PG_ADMIN_URL,
    ROOT,
    database_url,
    free_port,
    self_signed_certificate,
    venv_tool,
    wait_port,
)

# Never reach real AWS from this suite, whatever the machine's environment holds.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_REGION="us-east-1",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    port = free_port()
    with open(tmp_path_factory.mktemp("moto") / "moto.log", "wb") as log:
        proc = subprocess.Popen(
            [venv_tool("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_port(port, proc)
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(proc)


@pytest.fixture(scope="session")
def s3(moto_endpoint):
    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(s3):
    """A fresh, versioned bucket, like the real backup bucket."""
    name = f"ops-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture
def state_dir(tmp_path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def backup_cli(moto_endpoint, bucket, state_dir, tmp_path):
    """Run `python -m backup ...` as an operator would; returns the CompletedProcess."""

    def run(
        *args: str, env: dict | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        full_env = {
            **os.environ,
            "BACKUP_BUCKET": bucket,
            "BACKUP_S3_ENDPOINT_URL": moto_endpoint,
            "BACKUP_STATE_DIR": str(state_dir),
            "BACKUP_WORK_DIR": str(tmp_path),
            **(env or {}),
        }
        return subprocess.run(
            [sys.executable, "-m", "backup", *args],
            cwd=ROOT,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


def last_backup_id(backup_cli, kind: str) -> str:
    listed = backup_cli("list", "--kind", kind, "--json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)[-1]["id"]


@pytest.fixture
def make_database():
    """Create empty throwaway databases (as the `sanctum` role); dropped afterwards."""
    created: list[str] = []

    def make(prefix: str = "ops") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return database_url(name)

    yield make
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_factory(tmp_path):
    """Start redis-server instances of our own (never the shared one on 6379)."""
    procs: list[subprocess.Popen] = []

    def start(data_dir: Path) -> int:
        data_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data_dir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--enable-debug-command",
                "local",
                "--logfile",
                str(tmp_path / f"redis-{port}.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        wait_port(port, proc)
        return port

    yield start
    for proc in procs:
        _stop(proc)


@pytest.fixture(scope="session")
def shared_tmp():
    """A temp dir the postgres OS user can read (pytest's tmp dirs are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="sanctum-ops-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def tls_s3_endpoint(moto_endpoint, shared_tmp):
    """moto behind an nginx TLS proxy: pgBackRest speaks only HTTPS to S3, and the
    Werkzeug server's own TLS closes connections in a way pgBackRest rejects."""
    tls = shared_tmp / "tls"
    tls.mkdir()
    self_signed_certificate(tls / "key.pem", tls / "cert.pem", "localhost", days=2,
                            alt_names="DNS:localhost,IP:127.0.0.1")
    (tls / "cert.pem").chmod(0o644)
    port = free_port()
    upstream = moto_endpoint.removeprefix("http://")
    (tls / "nginx.conf").write_text(f"""
daemon off;
pid {tls}/nginx.pid;
error_log {tls}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {tls}/body; proxy_temp_path {tls}/proxy;
  fastcgi_temp_path {tls}/fcgi; uwsgi_temp_path {tls}/uwsgi; scgi_temp_path {tls}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {tls}/cert.pem;
    ssl_certificate_key {tls}/key.pem;
    client_max_body_size 0;
    proxy_request_buffering off;
    location / {{ proxy_pass http://{upstream}; proxy_set_header Host $http_host; proxy_http_version 1.1; }}
  }}
}}
""")
    proc = subprocess.Popen(
        ["nginx", "-c", str(tls / "nginx.conf"), "-p", str(tls), "-e", str(tls / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc)
        yield {"host": "localhost", "port": port, "ca_file": str(tls / "cert.pem")}
    finally:
        _stop(proc)

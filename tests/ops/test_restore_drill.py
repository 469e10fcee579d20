"""The restore drill: real PostgreSQL, moto S3, the CLI exactly as an operator runs it."""

from __future__ import annotations

import json

import boto3
import psycopg
import pytest
from conftest import last_backup_id
from drill_data import SENSITIVE_MARKER, load
from ops_support import PG_ADMIN_URL, fingerprint, user_objects


@pytest.fixture
def source(make_database):
    url = make_database("drill_src")
    filled = load(url, users=3)
    assert filled.get("user_management.users", 0) > 0, (
        "migrations should create user_management.users"
    )
    return url


@pytest.fixture
def backed_up(source, backup_cli):
    """A loaded database and the id of its backup."""
    result = backup_cli(
        "postgres", env={"DATABASE_URL": source.replace("postgresql:", "postgresql+psycopg:")}
    )
    assert result.returncode == 0, result.stderr
    return source, last_backup_id(backup_cli, "postgres"), result


def recreate(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def alembic_head(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT version_num FROM public.schema_migrations")]


def test_drop_and_restore_gives_match(backed_up, backup_cli, s3, bucket, moto_endpoint):
    source, backup_id, backup_run = backed_up
    before, revision = fingerprint(source), alembic_head(source)

    recreate(source)  # the disaster: the database is gone
    assert user_objects(source) == []
    restored = backup_cli("restore", backup_id, "--target", source)

    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"MATCH {backup_id}")
    assert fingerprint(source) == before  # checked independently of the tool's checksums
    manifest = json.loads(backup_cli("show", backup_id).stdout)
    assert manifest["migration_revision"] == revision != []
    assert manifest["tables"]["user_management.users"]["rows"] == before["user_management.users"][0]
    assert set(manifest["tables"]) >= {
        "drill.awkward_types",
        "drill.events_old",
        "public.system_config",
    }
    head = s3.head_object(Bucket=bucket, Key=manifest["artifact"]["key"])
    assert head["ServerSideEncryption"] == "AES256"
    for run in (backup_run, restored):  # ids, counts and sizes only: never row contents
        assert SENSITIVE_MARKER not in run.stdout + run.stderr


def test_metrics_and_status_file(source, backup_cli, state_dir, moto_endpoint):
    result = backup_cli(
        "postgres",
        env={
            "DATABASE_URL": source,
            "BACKUP_METRICS_NAMESPACE": "SanctumTools/Backup",
            "SANCTUM_ENVIRONMENT": "drill",
            "AWS_ENDPOINT_URL_CLOUDWATCH": moto_endpoint,
        },
    )
    assert result.returncode == 0, result.stderr
    status = json.loads((state_dir / "postgres.json").read_text())
    assert status["last_run_ok"] is True and status["last_size_bytes"] > 0
    assert status["last_backup_id"] == last_backup_id(backup_cli, "postgres")
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_endpoint, region_name="us-east-1")
    names = {
        m["MetricName"]
        for m in cloudwatch.list_metrics(Namespace="SanctumTools/Backup")["Metrics"]
        if {"Name": "Environment", "Value": "drill"} in m["Dimensions"]
    }
    assert names == {"Success", "DurationSeconds", "SizeBytes", "LastSuccessEpoch"}


def _replace_artifact(s3, bucket, key, transform) -> None:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=transform(body))


def _flip_middle_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


@pytest.mark.parametrize(
    ("damage", "message"),
    [(_flip_middle_byte, "SHA-256"), (lambda data: data[: len(data) // 2], "truncated")],
    ids=["corrupted", "truncated"],
)
def test_damaged_dump_is_refused_and_target_untouched(
    backed_up, backup_cli, s3, bucket, make_database, damage, message
):
    _, backup_id, _ = backed_up
    manifest = json.loads(backup_cli("show", backup_id).stdout)
    _replace_artifact(s3, bucket, manifest["artifact"]["key"], damage)
    target = make_database("drill_dst")

    verified = backup_cli("verify", backup_id)
    restored = backup_cli("restore", backup_id, "--target", target)

    assert verified.returncode == 4 and restored.returncode == 4
    assert message in restored.stderr and "MATCH" not in restored.stdout
    assert user_objects(target) == []


def test_missing_object_is_reported_and_target_untouched(
    backed_up, backup_cli, s3, bucket, make_database
):
    _, backup_id, _ = backed_up
    manifest = json.loads(backup_cli("show", backup_id).stdout)
    s3.delete_object(Bucket=bucket, Key=manifest["artifact"]["key"])
    target = make_database("drill_dst")

    restored = backup_cli("restore", backup_id, "--target", target)
    unknown = backup_cli("restore", "postgres-20000101T000000Z", "--target", target)

    assert restored.returncode == 3 and "missing" in restored.stderr
    assert unknown.returncode == 3 and "no manifest" in unknown.stderr
    assert user_objects(target) == []
    listed = json.loads(backup_cli("list", "--json").stdout)
    assert [e["complete"] for e in listed if e["id"] == backup_id] == [False]


def test_nonempty_target_is_refused_unless_told(backed_up, backup_cli, make_database):
    _source, backup_id, _ = backed_up
    target = make_database("drill_dst")
    with psycopg.connect(target) as conn:
        conn.execute("CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)")

    refused = backup_cli("restore", backup_id, "--target", target)
    assert refused.returncode == 5 and "not empty" in refused.stderr
    assert user_objects(target) == ["public.keep_me"]

    forced = backup_cli("restore", backup_id, "--target", target, "--allow-nonempty")
    # The restore itself succeeds; the verification then names the stray table exactly.
    assert forced.returncode == 6
    assert "MISMATCH" in forced.stdout
    assert "table public.keep_me: in the target, not in the backup" in forced.stdout


def test_mismatch_names_exactly_what_differs(backed_up, backup_cli, s3, bucket, make_database):
    _, backup_id, _ = backed_up
    manifest = json.loads(backup_cli("show", backup_id).stdout)
    rows = manifest["tables"]["user_management.users"]["rows"]
    manifest["tables"]["user_management.users"]["rows"] = rows + 1
    key = manifest["artifact"]["key"].rsplit("/", 1)[0] + "/manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest).encode())

    restored = backup_cli("restore", backup_id, "--target", make_database("drill_dst"))

    assert restored.returncode == 6
    assert restored.stdout.splitlines() == [
        f"MISMATCH {backup_id}:",
        f"  table user_management.users: {rows + 1} rows in the backup, {rows} in the target",
    ]


def test_archived_backup_needs_a_thaw_first(backed_up, backup_cli, s3, bucket):
    _, backup_id, _ = backed_up
    daily = f"daily/postgres/{backup_id}/"
    for name in ("dump.pgc", "manifest.json"):  # as prune leaves a weekly archive
        storage = "GLACIER" if name == "dump.pgc" else "STANDARD"
        s3.copy_object(
            Bucket=bucket,
            Key=f"weekly/postgres/{backup_id}/{name}",
            CopySource={"Bucket": bucket, "Key": daily + name},
            StorageClass=storage,
        )
        s3.delete_object(Bucket=bucket, Key=daily + name)

    frozen = backup_cli("verify", backup_id)
    thawed = backup_cli("thaw", backup_id, "--tier", "Expedited")
    verified = backup_cli("verify", backup_id)  # moto completes the restore at once

    assert frozen.returncode == 9 and f"sanctum-backup thaw {backup_id}" in frozen.stderr
    assert thawed.returncode == 0, thawed.stderr
    assert verified.returncode == 0, verified.stderr


def test_failed_parallel_restore_removes_what_it_created(make_database, backup_cli):
    """pg_restore --jobs cannot run in one transaction: when it fails part-way (here an
    index whose function finds no table under pg_restore's empty search_path, after
    the data loaded), the tool drops what it created, so the target is empty again."""
    source = make_database("fragile_src")
    with psycopg.connect(source) as conn:
        conn.execute("""
            CREATE SCHEMA svc;
            CREATE TABLE svc.rows AS SELECT g AS id FROM generate_series(1, 5000) g;
            CREATE TYPE public.mood AS ENUM ('low', 'high');
            CREATE TABLE public.lookup (x int); INSERT INTO public.lookup VALUES (1);
            CREATE FUNCTION public.first_x(int) RETURNS int LANGUAGE sql IMMUTABLE
                AS 'SELECT x FROM lookup LIMIT 1';
            CREATE TABLE public.t AS SELECT g AS a, 'low'::public.mood AS m FROM generate_series(1, 100) g;
            CREATE INDEX t_first_x ON public.t (public.first_x(a));
        """)
    assert backup_cli("postgres", env={"DATABASE_URL": source}).returncode == 0
    backup_id = last_backup_id(backup_cli, "postgres")
    target = make_database("fragile_dst")

    restored = backup_cli("--jobs", "2", "restore", backup_id, "--target", target)

    assert restored.returncode == 7, restored.stdout + restored.stderr
    assert "what it created was removed again" in restored.stderr
    assert user_objects(target) == []
    with psycopg.connect(target) as conn:
        schemas = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname = 'svc'").fetchall()
        leftovers = conn.execute(
            "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
        ).fetchone()[0]
        types = conn.execute(
            "SELECT count(*) FROM pg_type WHERE typnamespace = 'public'::regnamespace"
        ).fetchone()[0]
    assert schemas == [] and leftovers == 0 and types == 0

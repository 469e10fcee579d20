"""PostgreSQL: pg_dump (custom format) streamed to S3, verified restore.

The manifest's row counts and checksums are computed inside the very snapshot
pg_dump dumps (pg_export_snapshot + pg_dump --snapshot), so they describe the
dump exactly even while the services keep writing.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from backup.errors import IntegrityError, TargetNotEmpty, ToolFailed, VerificationMismatch
from backup.progress import HashingReader, Progress, sha256_file
from backup.settings import Settings, libpq_url
from backup.store import BackupStore, new_backup_id

log = logging.getLogger("sanctum-backup")

# Row text must not depend on the session (dump side and restore side compare it).
SESSION_SETTINGS = (
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET bytea_output = 'hex'",
    "SET extra_float_digits = 1",
)
USER_SCHEMA = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
)
LIST_TABLES = f"""
SELECT n.nspname, c.relname, c.relkind = 'p' FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMA} ORDER BY 1, 2
"""
LIST_SEQUENCES = """
SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences
WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1
"""
# Order-independent: the sum of the first 64 bits of each row's md5.
TABLE_STATS = """
SELECT count(*), coalesce(sum(('x' || left(md5(ROW(t.*)::text), 16))::bit(64)::bigint), 0)::text
FROM {} AS t
"""
EXISTING_OBJECTS = f"""
SELECT n.nspname || coalesce('.' || c.relname, '') FROM pg_namespace n
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
WHERE {USER_SCHEMA} AND (n.nspname <> 'public' OR c.oid IS NOT NULL)
ORDER BY 1 LIMIT 5
"""
TABLE_DATA_LINE = re.compile(r"^\d+; \d+ \d+ TABLE DATA (\S+) (\S+) ")
# pg_restore/pg_dump errors may quote row values ("Key (email)=(...)"): keep
# only the first line of each message, never DETAIL/CONTEXT or the statement.
UNSAFE_STDERR = re.compile(r"DETAIL:|CONTEXT:|Command was:|Key \(|\bLINE \d+:")


def safe_stderr(text: str, limit: int = 5) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not UNSAFE_STDERR.search(ln)]
    return " | ".join(lines[:limit]) or "(no message)"


def libpq_args(url: str) -> tuple[str, dict[str, str]]:
    """A conninfo for --dbname and the environment carrying the password (kept off `ps`)."""
    params = conninfo_to_dict(libpq_url(url))
    password = params.pop("password", None)
    env = {"PGPASSWORD": password} if password else {}
    return make_conninfo(**params), env


def connect(url: str, autocommit: bool = False) -> psycopg.Connection:
    conn = psycopg.connect(libpq_url(url), autocommit=autocommit)
    for statement in SESSION_SETTINGS:
        conn.execute(statement)
    if not autocommit:
        conn.commit()  # SET outlives the commit; the caller can still choose an isolation level
    return conn


def table_stats(conn: psycopg.Connection) -> dict[str, dict]:
    tables = {}
    for schema, name, partitioned in conn.execute(LIST_TABLES).fetchall():
        query = sql.SQL(TABLE_STATS).format(sql.Identifier(schema, name))
        rows, checksum = conn.execute(query).fetchone()
        tables[f"{schema}.{name}"] = {
            "rows": rows,
            "checksum": checksum,
            "kind": "partitioned" if partitioned else "table",
        }
    return tables


def sequence_values(conn: psycopg.Connection) -> dict[str, int | None]:
    return dict(conn.execute(LIST_SEQUENCES).fetchall())


def migration_revision(conn: psycopg.Connection) -> list[str]:
    if conn.execute("SELECT to_regclass('public.schema_migrations')").fetchone()[0] is None:
        return []
    rows = conn.execute("SELECT version_num FROM public.schema_migrations ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def database_facts(conn: psycopg.Connection) -> dict:
    return {
        "database": conn.info.dbname,
        "server_version": conn.execute("SHOW server_version").fetchone()[0],
        "migration_revision": migration_revision(conn),
        "tables": table_stats(conn),
        "sequences": sequence_values(conn),
    }


def tool_version(tool: str) -> str:
    return subprocess.run(
        [tool, "--version"], check=False, capture_output=True, text=True
    ).stdout.strip()


# --- backup ---------------------------------------------------------------------------


def backup(settings: Settings, store: BackupStore) -> dict:
    backup_id = new_backup_id("postgres")
    started_at = datetime.now(UTC)
    with connect(settings.database_url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        facts = database_facts(conn)
        log.info("postgres backup %s: %d tables in snapshot", backup_id, len(facts["tables"]))
        size, digest = _stream_dump(settings, store, backup_id, snapshot)
        conn.rollback()
    manifest = {
        "id": backup_id,
        "kind": "postgres",
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "pg_dump": tool_version("pg_dump"),
        "artifact": {
            "key": store.artifact_key(backup_id),
            "format": "custom",
            "size": size,
            "sha256": digest,
        },
        **facts,
    }
    store.put_manifest(backup_id, manifest)
    return manifest


def _stream_dump(settings: Settings, store: BackupStore, backup_id: str, snapshot: str):
    conninfo, env = libpq_args(settings.database_url)
    command = [
        "pg_dump",
        "--format=custom",
        f"--snapshot={snapshot}",
        "--no-password",
        f"--dbname={conninfo}",
    ]
    progress = Progress("pg_dump -> s3", live=settings.progress)
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, env=_env(env))
        reader = HashingReader(proc.stdout, progress)
        try:
            store.upload_stream(backup_id, reader)
        finally:
            proc.stdout.close()
            returncode = proc.wait()
        progress.finish()
        if returncode != 0:
            store.delete_copy(backup_id, "daily")
            stderr.seek(0)
            raise ToolFailed(f"pg_dump exited {returncode}: {safe_stderr(stderr.read().decode())}")
    return reader.size, reader.sha256.hexdigest()


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


# --- verify and restore ---------------------------------------------------------------


def fetch_verified(
    store: BackupStore, backup_id: str, workdir: Path, live: bool | None
) -> tuple[dict, Path]:
    """Download the dump and prove it is the one the manifest describes."""
    manifest = store.get_manifest(backup_id)
    path = workdir / "dump.pgc"
    store.download_artifact(backup_id, path, live)
    check_artifact(path, manifest["artifact"], backup_id)
    check_archive_contents(path, manifest)
    return manifest, path


def check_artifact(path: Path, expected: dict, backup_id: str) -> None:
    size = path.stat().st_size
    if size != expected["size"]:
        raise IntegrityError(
            f"backup {backup_id}: size {size} bytes, manifest says {expected['size']} (truncated or replaced)"
        )
    digest = sha256_file(path)
    if digest != expected["sha256"]:
        raise IntegrityError(
            f"backup {backup_id}: SHA-256 {digest[:16]}... does not match the manifest"
        )


def check_archive_contents(path: Path, manifest: dict) -> None:
    result = subprocess.run(
        ["pg_restore", "--list", str(path)], check=False, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise IntegrityError(f"pg_restore --list refused the archive: {safe_stderr(result.stderr)}")
    in_archive = {
        f"{m.group(1)}.{m.group(2)}"
        for m in map(TABLE_DATA_LINE.match, result.stdout.splitlines())
        if m
    }
    expected = {name for name, t in manifest["tables"].items() if t["kind"] == "table"}
    if missing := sorted(expected - in_archive):
        raise IntegrityError(
            f"archive lacks data for {len(missing)} table(s): {', '.join(missing[:5])}"
        )


def existing_objects(url: str) -> list[str]:
    with connect(url, autocommit=True) as conn:
        return [row[0] for row in conn.execute(EXISTING_OBJECTS).fetchall()]


def restore(
    settings: Settings,
    store: BackupStore,
    backup_id: str,
    target_url: str,
    allow_nonempty: bool = False,
    keep_owner: bool = False,
) -> dict:
    found = existing_objects(target_url)
    if found and not allow_nonempty:
        raise TargetNotEmpty(
            f"target database is not empty ({', '.join(found)}...): restore into an empty"
            " database, or pass --allow-nonempty to replace what is there"
        )
    with tempfile.TemporaryDirectory(dir=settings.work_dir, prefix="sanctum-restore-") as tmp:
        manifest, path = fetch_verified(store, backup_id, Path(tmp), settings.progress)
        log.info("backup %s verified; restoring %s", backup_id, summary(manifest))
        _pg_restore(path, target_url, clean=bool(found), keep_owner=keep_owner)
    compare_target(manifest, target_url)
    return manifest


def _pg_restore(path: Path, target_url: str, clean: bool, keep_owner: bool) -> None:
    conninfo, env = libpq_args(target_url)
    # One transaction: a failure part-way leaves the target as it was.
    command = [
        "pg_restore",
        "--exit-on-error",
        "--single-transaction",
        "--no-password",
        f"--dbname={conninfo}",
    ]
    if clean:
        command += ["--clean", "--if-exists"]
    if not keep_owner:
        command += ["--no-owner", "--no-privileges"]
    result = subprocess.run(
        [*command, str(path)], check=False, capture_output=True, text=True, env=_env(env)
    )
    if result.returncode != 0:
        raise ToolFailed(
            f"pg_restore exited {result.returncode}, target rolled back: {safe_stderr(result.stderr)}"
        )


def compare_target(manifest: dict, target_url: str) -> None:
    with connect(target_url) as conn:
        actual = database_facts(conn)
    differences = compare(manifest, actual)
    if differences:
        raise VerificationMismatch(differences)


def compare(expected: dict, actual: dict) -> list[str]:
    differences = []
    for name in sorted(expected["tables"].keys() | actual["tables"].keys()):
        differences += _table_difference(
            name, expected["tables"].get(name), actual["tables"].get(name)
        )
    for name in sorted(expected["sequences"].keys() | actual["sequences"].keys()):
        want, got = expected["sequences"].get(name), actual["sequences"].get(name)
        if want != got:
            differences.append(f"sequence {name}: {want} in the backup, {got} in the target")
    return differences


def _table_difference(name: str, want: dict | None, got: dict | None) -> list[str]:
    if got is None:
        return [f"table {name}: in the backup, missing from the target"]
    if want is None:
        return [f"table {name}: in the target, not in the backup"]
    if want["rows"] != got["rows"]:
        return [f"table {name}: {want['rows']} rows in the backup, {got['rows']} in the target"]
    if want["checksum"] != got["checksum"]:
        return [f"table {name}: same {want['rows']} rows, different contents (checksum)"]
    return []


def summary(manifest: dict) -> str:
    rows = sum(t["rows"] for t in manifest["tables"].values())
    return f"{len(manifest['tables'])} tables, {rows} rows, {len(manifest['sequences'])} sequences"

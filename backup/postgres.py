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
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
# Planner estimates (from the last ANALYZE) to give the largest tables out first.
TABLE_SIZES = """
SELECT n.nspname || '.' || c.relname, greatest(c.reltuples, 0) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')
"""
EXISTING_OBJECTS = f"""
SELECT n.nspname || coalesce('.' || c.relname, '') FROM pg_namespace n
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
WHERE {USER_SCHEMA} AND (n.nspname <> 'public' OR c.oid IS NOT NULL)
ORDER BY 1 LIMIT 5
"""
TABLE_DATA_LINE = re.compile(r"^(\d+); \d+ \d+ TABLE DATA (\S+) (\S+) ")
DUMPING_TABLE = re.compile(r'dumping contents of table "(.+)"')
# pg_restore --verbose: serial runs say "processing data for table"; parallel ones
# also "launching item N TABLE DATA" and "finished item N ...".
RESTORE_DATA_START = re.compile(r'processing data for table "(.+)"')
RESTORE_ITEM_FINISHED = re.compile(r"finished item (\d+) ")
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


def list_tables(conn: psycopg.Connection) -> list[tuple[str, str, bool, float]]:
    """(schema, name, partitioned, estimated rows), biggest first so workers finish together."""
    rows = conn.execute(LIST_TABLES).fetchall()
    sizes = dict(conn.execute(TABLE_SIZES).fetchall())
    return sorted(
        ((schema, name, partitioned, sizes.get(f"{schema}.{name}", 0)) for schema, name, partitioned in rows),
        key=lambda t: -t[3],
    )


def one_table_stats(conn: psycopg.Connection, schema: str, name: str) -> tuple[int, str]:
    query = sql.SQL(TABLE_STATS).format(sql.Identifier(schema, name))
    rows, checksum = conn.execute(query).fetchone()
    return rows, checksum


def table_stats(
    open_worker: Callable[[], psycopg.Connection],
    tables: list[tuple[str, str, bool, float]],
    jobs: int,
    progress: Progress | None = None,
) -> dict[str, dict]:
    """Rows and checksum of every table, `jobs` connections at a time.

    open_worker gives a connection that sees the right data (for a backup: one that
    has imported the dump's snapshot)."""
    pending = list(tables)
    lock = threading.Lock()
    result: dict[str, dict] = {}

    def worker() -> None:
        with open_worker() as conn:
            while True:
                with lock:
                    if not pending:
                        return
                    schema, name, partitioned, _ = pending.pop(0)
                rows, checksum = one_table_stats(conn, schema, name)
                with lock:
                    result[f"{schema}.{name}"] = {
                        "rows": rows,
                        "checksum": checksum,
                        "kind": "partitioned" if partitioned else "table",
                    }
                if progress:
                    progress.update(1, postfix=f"{schema}.{name}")

    with ThreadPoolExecutor(max(1, min(jobs, len(tables) or 1))) as pool:
        for future in [pool.submit(worker) for _ in range(max(1, min(jobs, len(tables) or 1)))]:
            future.result()
    return dict(sorted(result.items()))


def sequence_values(conn: psycopg.Connection) -> dict[str, int | None]:
    return dict(conn.execute(LIST_SEQUENCES).fetchall())


def migration_revision(conn: psycopg.Connection) -> list[str]:
    if conn.execute("SELECT to_regclass('public.schema_migrations')").fetchone()[0] is None:
        return []
    rows = conn.execute("SELECT version_num FROM public.schema_migrations ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def database_facts(
    conn: psycopg.Connection,
    open_worker: Callable[[], psycopg.Connection],
    jobs: int,
    label: str,
    live: bool | None,
) -> dict:
    tables = list_tables(conn)
    progress = Progress(label, len(tables), live, unit="tables")
    facts = {
        "database": conn.info.dbname,
        "server_version": conn.execute("SHOW server_version").fetchone()[0],
        "migration_revision": migration_revision(conn),
        "tables": table_stats(open_worker, tables, jobs, progress),
        "sequences": sequence_values(conn),
    }
    progress.finish()
    return facts


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
        facts = database_facts(
            conn,
            lambda: snapshot_connection(settings.database_url, snapshot),
            settings.jobs,
            "checksums (in the dump's snapshot)",
            settings.progress,
        )
        log.info("postgres backup %s: %d tables in snapshot", backup_id, len(facts["tables"]))
        size, digest = _stream_dump(settings, store, backup_id, snapshot, len(facts["tables"]))
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


def snapshot_connection(url: str, snapshot: str) -> psycopg.Connection:
    """A connection that sees exactly what the exporting transaction sees."""
    conn = connect(url, autocommit=True)
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
    return conn


def _stream_dump(
    settings: Settings, store: BackupStore, backup_id: str, snapshot: str, tables: int
):
    conninfo, env = libpq_args(settings.database_url)
    command = [
        "pg_dump",
        "--format=custom",
        "--verbose",
        f"--snapshot={snapshot}",
        "--no-password",
        f"--dbname={conninfo}",
    ]
    progress = Progress("dump and upload to S3", live=settings.progress)
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(env)
    )
    stderr = StderrWatcher(proc.stderr, [(DUMPING_TABLE, _table_counter(progress, tables))])
    reader = HashingReader(proc.stdout, progress)
    try:
        store.upload_stream(backup_id, reader)
    finally:
        proc.stdout.close()
        returncode = proc.wait()
        stderr.join()
    progress.finish()
    if returncode != 0:
        store.delete_copy(backup_id, "daily")
        raise ToolFailed(f"pg_dump exited {returncode}: {safe_stderr(stderr.text())}")
    return reader.size, reader.sha256.hexdigest()


def _table_counter(progress: Progress, tables: int) -> Callable[[re.Match], None]:
    seen = [0]

    def on_table(match: re.Match) -> None:
        seen[0] += 1
        progress.set_postfix(f"table {seen[0]}/{tables} {match.group(1)}")

    return on_table


class StderrWatcher:
    """Reads a tool's stderr in a thread: calls a handler for each line matching its
    pattern, keeps the rest for the error message."""

    def __init__(self, stream, handlers: list[tuple[re.Pattern, Callable[[re.Match], None]]]):
        self._stream, self._handlers = stream, handlers
        self._kept: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for raw in self._stream:
            line = raw.decode(errors="replace").rstrip()
            for pattern, handler in self._handlers:
                if match := pattern.search(line):
                    handler(match)
                    break
            else:
                if "error" in line.lower() or "fatal" in line.lower() or "warning" in line.lower():
                    self._kept.append(line)

    def join(self) -> None:
        self._thread.join()
        self._stream.close()

    def text(self) -> str:
        return "\n".join(self._kept)


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


# --- verify and restore ---------------------------------------------------------------


def fetch_verified(
    store: BackupStore, backup_id: str, workdir: Path, live: bool | None
) -> tuple[dict, Path]:
    """Download the dump and prove it is the one the manifest describes.

    The outcome is recorded beside the backup (`list` shows it, `latest` needs it)."""
    manifest = store.get_manifest(backup_id)
    path = workdir / "dump.pgc"
    tier, etag = store.download_artifact(backup_id, path, live)
    try:
        check_artifact(path, manifest["artifact"], backup_id, live)
        check_archive_contents(path, manifest)
    except IntegrityError as error:
        store.record_verification(backup_id, tier, etag, ok=False, detail=str(error))
        raise
    store.record_verification(backup_id, tier, etag, ok=True, detail=summary(manifest))
    return manifest, path


def check_artifact(path: Path, expected: dict, backup_id: str, live: bool | None = None) -> None:
    size = path.stat().st_size
    if size != expected["size"]:
        raise IntegrityError(
            f"backup {backup_id}: size {size} bytes, manifest says {expected['size']} (truncated or replaced)"
        )
    digest = sha256_file(path, live)
    if digest != expected["sha256"]:
        raise IntegrityError(
            f"backup {backup_id}: SHA-256 {digest[:16]}... does not match the manifest"
        )


def archive_table_items(path: Path) -> dict[str, str]:
    """TOC item id -> schema.table of each TABLE DATA entry of a custom-format archive."""
    result = subprocess.run(
        ["pg_restore", "--list", str(path)], check=False, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise IntegrityError(f"pg_restore --list refused the archive: {safe_stderr(result.stderr)}")
    return {
        m.group(1): f"{m.group(2)}.{m.group(3)}"
        for m in map(TABLE_DATA_LINE.match, result.stdout.splitlines())
        if m
    }


def check_archive_contents(path: Path, manifest: dict) -> None:
    in_archive = set(archive_table_items(path).values())
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
    # Into a non-empty target only in one transaction: a failure leaves it as it was.
    jobs = 1 if found else settings.jobs
    with tempfile.TemporaryDirectory(dir=settings.work_dir, prefix="sanctum-restore-") as tmp:
        manifest, path = fetch_verified(store, backup_id, Path(tmp), settings.progress)
        log.info("backup %s verified; restoring %s with %d job(s)", backup_id, summary(manifest), jobs)
        run = RestoreRun(path, target_url, manifest, jobs, settings.progress)
        run.execute(clean=bool(found), keep_owner=keep_owner)
    compare_target(manifest, target_url, settings.jobs, settings.progress)
    return manifest


class RestoreRun:
    """pg_restore with progress: rows of the tables whose data has loaded, then the
    indexes and constraints built after the data."""

    def __init__(self, path: Path, target_url: str, manifest: dict, jobs: int, live: bool | None):
        self.path, self.target_url, self.manifest = path, target_url, manifest
        self.jobs, self.live = jobs, live
        self.items = archive_table_items(path)
        self.rows_total = sum(t["rows"] for t in manifest["tables"].values() if t["kind"] == "table")
        self.data = Progress("pg_restore (rows loaded)", self.rows_total, live, unit="rows")
        self._current: str | None = None  # serial runs: the table being loaded

    def execute(self, clean: bool, keep_owner: bool) -> None:
        conninfo, env = libpq_args(self.target_url)
        command = ["pg_restore", "--exit-on-error", "--verbose", "--no-password", f"--dbname={conninfo}"]
        # One transaction when serial: a failure part-way leaves the target as it was.
        command += ["--single-transaction"] if self.jobs == 1 else [f"--jobs={self.jobs}"]
        if clean:
            command += ["--clean", "--if-exists"]
        if not keep_owner:
            command += ["--no-owner", "--no-privileges"]
        before = _schemas_and_extensions(self.target_url)
        proc = subprocess.Popen(
            [*command, str(self.path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=_env(env),
        )
        watcher = StderrWatcher(proc.stderr, [
            (RESTORE_DATA_START, self._on_data_start),
            (RESTORE_ITEM_FINISHED, self._on_item_finished),
        ])
        returncode = proc.wait()
        watcher.join()
        self._finish_current()
        self.data.finish()
        if returncode != 0:
            undone = "target rolled back"
            if self.jobs > 1:
                _remove_restored(self.target_url, before)
                undone = "what it created was removed again"
            raise ToolFailed(f"pg_restore exited {returncode}, {undone}: {safe_stderr(watcher.text())}")

    def _rows(self, table: str) -> int:
        return self.manifest["tables"].get(table, {}).get("rows", 0)

    def _on_data_start(self, match: re.Match) -> None:
        if self.jobs == 1:
            self._finish_current()
            self._current = match.group(1)
        self.data.set_postfix(match.group(1))

    def _on_item_finished(self, match: re.Match) -> None:
        table = self.items.get(match.group(1))
        if table is not None:
            self.data.update(self._rows(table), postfix=f"{table} loaded")

    def _finish_current(self) -> None:
        if self._current is not None:
            self.data.update(self._rows(self._current), postfix=f"{self._current} loaded")
            self._current = None


def _schemas_and_extensions(url: str) -> tuple[set[str], set[str]]:
    with connect(url, autocommit=True) as conn:
        schemas = {r[0] for r in conn.execute(f"SELECT n.nspname FROM pg_namespace n WHERE {USER_SCHEMA}")}
        extensions = {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}
    return schemas, extensions


def _remove_restored(url: str, before: tuple[set[str], set[str]]) -> None:
    """Undo a failed parallel restore into a target that was empty: drop the schemas
    and extensions it created and everything it put in `public`."""
    schemas, extensions = _schemas_and_extensions(url)
    with connect(url, autocommit=True) as conn:
        for name in sorted(schemas - before[0]):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
        for name in sorted(extensions - before[1]):
            conn.execute(sql.SQL("DROP EXTENSION IF EXISTS {} CASCADE").format(sql.Identifier(name)))
        for kind, query in PUBLIC_OBJECTS:
            for (name,) in conn.execute(query).fetchall():
                conn.execute(sql.SQL(f"DROP {kind} IF EXISTS {{}} CASCADE").format(sql.SQL(name)))


# What a restore may leave in the public schema, as DROP-able names.
PUBLIC_OBJECTS = (
    ("VIEW", "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('v', 'm')"),
    ("TABLE", "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'f') AND NOT c.relispartition"),
    ("SEQUENCE", "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'"),
    ("ROUTINE", "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace"),
    ("TYPE", "SELECT t.oid::regtype::text FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'r', 'c') AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')"),
)


def compare_target(manifest: dict, target_url: str, jobs: int = 1, live: bool | None = None) -> None:
    with connect(target_url) as conn:
        actual = database_facts(
            conn, lambda: connect(target_url, autocommit=True), jobs, "verify against the manifest", live
        )
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

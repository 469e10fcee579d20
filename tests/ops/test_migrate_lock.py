"""compose's `migrate` job on several hosts at once (deploy/migrate_lock.py): the
migrations run under a PostgreSQL advisory lock, so hosts booting together take turns.
Against throwaway databases on the local PostgreSQL, never `sanctum` or `sanctum_test`
(advisory locks belong to one database, so other test runs are not in the way)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from ops_support import ROOT

WRAPPER = ROOT / "deploy" / "migrate_lock.py"
UPGRADE = [sys.executable, "-m", "alembic", "-c", "migrations/alembic.ini", "upgrade", "head"]


def lock_key() -> int:
    for line in WRAPPER.read_text().splitlines():
        if line.startswith("LOCK_KEY = "):
            return int(line.split("=", 1)[1].strip(), 0)
    raise AssertionError("LOCK_KEY not found")


def migrate(url: str, *command: str, **env: str) -> subprocess.Popen:
    """The compose job's command line: python deploy/migrate_lock.py alembic ... upgrade head."""
    return subprocess.Popen(
        [sys.executable, str(WRAPPER), *(command or UPGRADE)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://", 1),
             **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def head() -> str:
    return ScriptDirectory.from_config(Config(str(ROOT / "migrations/alembic.ini"))).get_current_head()


def test_concurrent_migrations_both_succeed_and_leave_one_head(make_database):
    url = make_database("migrate")
    runs = [migrate(url) for _ in range(2)]
    results = [(run.wait(120), *run.communicate()) for run in runs]
    for code, _, stderr in results:
        assert code == 0, stderr
    with psycopg.connect(url) as conn:
        versions = conn.execute("SELECT version_num FROM public.schema_migrations").fetchall()
    assert versions == [(head(),)]
    # They took turns: one migrated while the other waited, then found nothing to do.
    stderr = "".join(r[2] for r in results)
    assert stderr.count("lock taken") == 2
    assert stderr.count("Running upgrade") == len(list(ScriptDirectory.from_config(
        Config(str(ROOT / "migrations/alembic.ini"))).walk_revisions()))


def test_a_host_waits_while_another_holds_the_lock(make_database, tmp_path: Path):
    url = make_database("migrate")
    marker = tmp_path / "ran"
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key(),))
        run = migrate(url, sys.executable, "-c", f"open({str(marker)!r}, 'w').close()")
        said = run.stderr.readline()  # its first word: it found the lock taken
        assert "another host is migrating: waiting for it" in said, said
        # Then it asks again, and again finds it taken: its session's latest query moves on.
        first_look = last_try(holder)
        deadline = time.monotonic() + 10
        while last_try(holder) == first_look and time.monotonic() < deadline:
            time.sleep(0.05)
        assert last_try(holder) != first_look, "it stopped asking for the lock"
        assert run.poll() is None and not marker.exists(), "ran while another host held the lock"
        holder.execute("SELECT pg_advisory_unlock(%s)", (lock_key(),))
        code = run.wait(30)
    _, stderr = run.communicate()
    assert code == 0 and marker.exists(), said + stderr


def last_try(conn) -> object:
    """When the waiting wrapper's session last asked for the lock."""
    return conn.execute("SELECT max(query_start) FROM pg_stat_activity "
                        "WHERE application_name = 'sanctum-migrate-lock' "
                        "AND datname = current_database()").fetchone()[0]


def test_the_wait_is_bounded(make_database, tmp_path: Path):
    url = make_database("migrate")
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key(),))
        run = migrate(url, "true", MIGRATE_LOCK_TIMEOUT_SECONDS="1")
        code = run.wait(30)
    _, stderr = run.communicate()
    assert code == 75, stderr
    assert "giving up" in stderr


def test_a_failing_migration_fails_the_job_and_frees_the_lock(make_database):
    url = make_database("migrate")
    run = migrate(url, sys.executable, "-c", "raise SystemExit(3)")
    assert run.wait(30) == 3
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(),)).fetchone()[0]


@pytest.mark.parametrize("url", ["postgresql+psycopg://u:p@h:5432/d?sslmode=verify-full&sslrootcert=/run/secrets/rds-ca.pem"])
def test_sqlalchemy_urls_are_accepted(url, monkeypatch):
    sys.path.insert(0, str(WRAPPER.parent))
    try:
        import migrate_lock
    finally:
        sys.path.remove(str(WRAPPER.parent))
    monkeypatch.setenv("DATABASE_URL", url)
    assert migrate_lock.database_url() == url.replace("postgresql+psycopg://", "postgresql://")

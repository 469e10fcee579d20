"""Run a command while holding the schema-migration lock (a PostgreSQL advisory lock).

Every host runs compose's one-shot `migrate` when it boots, so several hosts booting
together would run `alembic upgrade head` at the same moment. Under this wrapper they
take turns: the first one migrates, the others wait, then find the schema at head and
do nothing. The lock belongs to this process's own database session, so it is released
when the command ends, and also if this process dies.

    python deploy/migrate_lock.py alembic -c migrations/alembic.ini upgrade head

The database is DATABASE_URL (SQLAlchemy's `postgresql+psycopg://` form is accepted),
else config.yaml's. MIGRATE_LOCK_TIMEOUT_SECONDS (default 900) bounds the wait.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import psycopg

# Any constant both sides agree on: "sanctum migrate" as a 64-bit key.
LOCK_KEY = 0x53414E4354554D00
POLL_SECONDS = 0.5


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        from services.kit import config

        url = config.kit().database_url
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def log(message: str) -> None:
    print(f"[migrate] {message}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    if not argv:
        log("usage: migrate_lock.py COMMAND [ARG...]")
        return 2
    timeout = float(os.environ.get("MIGRATE_LOCK_TIMEOUT_SECONDS", "900"))
    with psycopg.connect(database_url(), autocommit=True, application_name="sanctum-migrate-lock") as conn:
        deadline, waiting = time.monotonic() + timeout, False
        while not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
            if time.monotonic() > deadline:
                log(f"another migration still holds the lock after {timeout:.0f} s: giving up")
                return 75  # EX_TEMPFAIL
            if not waiting:
                log("another host is migrating: waiting for it")
                waiting = True
            time.sleep(POLL_SECONDS)
        log("lock taken: " + " ".join(argv))
        return subprocess.call(argv)  # the session (and the lock) ends with `with`


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

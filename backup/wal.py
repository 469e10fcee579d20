"""Continuous WAL archiving health, read from pg_stat_archiver.

pgBackRest's archive_command ships each WAL segment to S3; this check turns
the archiver's own statistics into an exit code and a metric, so an alarm fires
when archiving fails (the data-loss window then grows until it is fixed).
"""

from __future__ import annotations

from datetime import datetime

from backup.postgres import connect

ARCHIVER = """
SELECT current_setting('archive_mode'), last_archived_wal, last_archived_time,
       failed_count, last_failed_wal, last_failed_time, now()
FROM pg_stat_archiver
"""


def status(database_url: str) -> dict:
    with connect(database_url, autocommit=True) as conn:
        row = conn.execute(ARCHIVER).fetchone()
    mode, wal, archived_at, failed, failed_wal, failed_at, now = row
    return {
        "archive_mode": mode,
        "last_archived_wal": wal,
        "last_archived_at": _iso(archived_at),
        "seconds_since_last_archive": (now - archived_at).total_seconds() if archived_at else None,
        "failed_count": failed,
        "last_failed_wal": failed_wal,
        "last_failed_at": _iso(failed_at),
        "failing": bool(failed_at and (archived_at is None or failed_at > archived_at)),
    }


def problems(report: dict, max_age_seconds: float | None) -> list[str]:
    found = []
    if report["archive_mode"] == "off":
        found.append("archive_mode is off: no point-in-time recovery")
    if report["failing"]:
        found.append(
            f"archiving failing since {report['last_failed_at']} (WAL {report['last_failed_wal']})"
        )
    age = report["seconds_since_last_archive"]
    if max_age_seconds and age is not None and age > max_age_seconds:
        found.append(f"no WAL archived for {age:.0f}s (limit {max_age_seconds:.0f}s)")
    return found


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None

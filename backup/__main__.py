"""sanctum-backup: back up, verify, restore and prune SanctumTools data in S3.

Run `sanctum-backup --help` (or `python -m backup --help`); backup/RUNBOOK.md
says when to use which command. Exit codes: 0 ok, 1 unexpected error, 2 bad
usage, 3 not found, 4 integrity failure, 5 target not empty, 6 restored data
differs from the manifest, 7 a tool failed, 8 configuration missing, 9 archived
in Glacier (thaw first).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import ClientError
from pythonjsonlogger.json import JsonFormatter

from backup import errors, metrics, postgres, redis_snapshot, retention, wal, wal_stream
from backup.progress import human_bytes
from backup.prune import prune
from backup.settings import Settings
from backup.store import KINDS, TIERS, BackupStore, parse_backup_id

log = logging.getLogger("sanctum-backup")


def configure_logging(fmt: str, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "asctime": "time"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False


# --- commands ---------------------------------------------------------------------------


def cmd_postgres(settings: Settings, args) -> dict:
    manifest = postgres.backup(settings, BackupStore(settings))
    print(
        f"{manifest['id']}: {postgres.summary(manifest)}, {human_bytes(manifest['artifact']['size'])}"
    )
    return {"backup_id": manifest["id"], "size": manifest["artifact"]["size"]}


def cmd_redis(settings: Settings, args) -> dict:
    manifest = redis_snapshot.backup(settings, BackupStore(settings), args.rdb_path)
    print(
        f"{manifest['id']}: {manifest['rdb']['keys']} keys, {human_bytes(manifest['artifact']['size'])}"
    )
    return {"backup_id": manifest["id"], "size": manifest["artifact"]["size"]}


def cmd_list(settings: Settings, args) -> None:
    entries = BackupStore(settings).list_backups(args.kind)
    if args.json:
        print(json.dumps([_entry_json(e) for e in entries], indent=2))
        return
    print(
        f"{'ID':<28} {'TAKEN (UTC)':<20} {'SIZE':>11} {'TIERS':<14} {'CLASS':<13}"
        f" {'STATE':<11} VERIFIED"
    )
    for e in entries:
        size = human_bytes(e.size) if e.size is not None else "-"
        tiers = "+".join(t for t in TIERS if t in e.copies)
        state = "complete" if e.complete else "INCOMPLETE"
        print(
            f"{e.backup_id:<28} {e.taken_at:%Y-%m-%d %H:%M:%S} {size:>11} {tiers:<14}"
            f" {e.storage_class or '-':<13} {state:<11} {_verified_text(e)}"
        )


def _verified_text(entry) -> str:
    """yes <time>, FAILED <time>, CHANGED since <time> (the artifact was replaced), no."""
    check = entry.verification
    state = entry.verified
    if state == "unverified":
        return "no"
    when = f"{check.at:%Y-%m-%d %H:%M:%S}"
    return {"verified": f"yes {when}", "FAILED": f"FAILED {when}",
            "CHANGED": f"CHANGED since {when}"}[state]


def _entry_json(e) -> dict:
    check = e.verification
    return {
        "id": e.backup_id,
        "kind": e.kind,
        "taken_at": e.taken_at.isoformat(),
        "size": e.size,
        "tiers": [t for t in TIERS if t in e.copies],
        "storage_class": e.storage_class,
        "complete": e.complete,
        "verified": e.verified,
        "verified_at": check.at.isoformat() if check else None,
        "good": e.good,
    }


def cmd_show(settings: Settings, args) -> None:
    print(json.dumps(BackupStore(settings).get_manifest(args.backup_id), indent=2, sort_keys=True))


def cmd_verify(settings: Settings, args) -> dict:
    store = BackupStore(settings)
    kind, _ = parse_backup_id(args.backup_id)
    with tempfile.TemporaryDirectory(dir=settings.work_dir, prefix="sanctum-verify-") as tmp:
        if kind == "postgres":
            manifest, _ = postgres.fetch_verified(
                store, args.backup_id, Path(tmp), settings.progress
            )
            detail = postgres.summary(manifest)
        else:
            manifest = store.get_manifest(args.backup_id)
            path = Path(tmp) / "dump.rdb"
            tier, etag = store.download_artifact(args.backup_id, path, settings.progress)
            detail = f"{manifest['rdb']['keys']} keys"
            try:
                redis_snapshot.check_download(path, manifest, args.backup_id)
            except errors.IntegrityError as error:
                store.record_verification(args.backup_id, tier, etag, False, str(error))
                raise
            store.record_verification(args.backup_id, tier, etag, True, detail)
    print(f"OK {args.backup_id}: checksum matches, archive readable ({detail})")
    return {"backup_id": args.backup_id, "size": manifest["artifact"]["size"]}


def cmd_restore(settings: Settings, args) -> dict:
    store = BackupStore(settings)
    try:
        manifest = postgres.restore(
            settings, store, args.backup_id, args.target, args.allow_nonempty, args.keep_owner
        )
    except errors.VerificationMismatch as mismatch:
        print(f"MISMATCH {args.backup_id}:")
        for line in mismatch.differences:
            print(f"  {line}")
        raise
    print(f"MATCH {args.backup_id}: {postgres.summary(manifest)} identical to the backup")
    return {"backup_id": args.backup_id, "size": manifest["artifact"]["size"]}


def cmd_restore_redis(settings: Settings, args) -> dict:
    manifest = redis_snapshot.restore(
        settings, BackupStore(settings), args.backup_id, args.data_dir, args.filename, args.force
    )
    print(
        f"restored {args.backup_id} to {args.data_dir / args.filename}: start Redis now;"
        f" expect {manifest['rdb']['keys']} keys (keyspace at backup: {manifest['keyspace']})"
    )
    return {"backup_id": args.backup_id, "size": manifest["artifact"]["size"]}


def cmd_prune(settings: Settings, args) -> None:
    now = args.now or datetime.now(UTC)
    store = BackupStore(settings)
    verb = "would delete" if args.dry_run else "deleted"
    for kind in [args.kind] if args.kind else KINDS:
        policy = _policy(retention.POLICIES[kind], args)
        plan = prune(store, kind, policy, now, args.dry_run).plan
        per_tier = Counter(tier for bid in plan.keep for tier in plan.tiers(bid))
        print(
            f"{kind}: keep {len(plan.keep)} (daily {per_tier['daily']}, weekly"
            f" {per_tier['weekly']}, annual {per_tier['annual']}), {verb} {len(plan.delete)}"
        )
        for backup_id in plan.delete:
            print(f"  {verb} {backup_id}")


def _policy(default: retention.Policy, args) -> retention.Policy:
    overrides = {
        p: getattr(args, f"keep_{p}")
        for p in retention.PERIODS
        if getattr(args, f"keep_{p}") is not None
    }
    return retention.Policy(**{**default.__dict__, **overrides})


def cmd_thaw(settings: Settings, args) -> None:
    BackupStore(settings).thaw(args.backup_id, args.days, args.tier)
    print(
        f"thaw requested for {args.backup_id} ({args.tier}); `sanctum-backup verify` it once restored"
    )


def cmd_wal_status(settings: Settings, args) -> None:
    report = wal.status(settings.database_url)
    print(json.dumps(report, indent=2))
    if found := wal.problems(report, args.max_age):
        raise errors.ToolFailed("; ".join(found))


def cmd_wal_ship(settings: Settings, args) -> None:
    if not args.dir.is_dir():
        raise errors.ConfigError(f"{args.dir} is not a directory (pg_receivewal's -D)")
    shipper = wal_stream.Shipper(BackupStore(settings), args.dir, args.keep_minutes * 60)
    shipper.run(args.every, rounds=1 if args.once else None)


def cmd_wal_fetch(settings: Settings, args) -> None:
    if not args.pg_wal.is_dir():
        raise errors.ConfigError(f"{args.pg_wal} is not a directory (the restored data's pg_wal)")
    written = wal_stream.fetch(BackupStore(settings), args.pg_wal)
    wal_stream.chown_like([args.pg_wal / name for name in written], args.pg_wal)
    print(f"{len(written)} streamed WAL file(s) put in {args.pg_wal}: start PostgreSQL now")


# --- parsing --------------------------------------------------------------------------


def _utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sanctum-backup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bucket", help="S3 bucket (env BACKUP_BUCKET)")
    parser.add_argument("--prefix", help="key prefix inside the bucket (env BACKUP_PREFIX)")
    parser.add_argument(
        "--s3-endpoint-url", help="S3 endpoint, e.g. a local moto (env BACKUP_S3_ENDPOINT_URL)"
    )
    parser.add_argument("--region", help="AWS region (env AWS_REGION)")
    parser.add_argument("--database-url", help="database to back up (env DATABASE_URL)")
    parser.add_argument("--redis-url", help="Redis to snapshot (env REDIS_URL)")
    parser.add_argument(
        "--state-dir", type=Path, help="status files for alarms (env BACKUP_STATE_DIR)"
    )
    parser.add_argument(
        "--metrics-namespace", help="CloudWatch namespace (env BACKUP_METRICS_NAMESPACE)"
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="live progress line (default: when stderr is a terminal)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        help="parallel connections for checksums, pg_restore and verification"
        " (env BACKUP_JOBS; default: the number of CPUs)",
    )
    parser.add_argument("--log-format", choices=("json", "text"), default="json")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("postgres", help="pg_dump the whole database to S3 with a manifest")
    p = sub.add_parser("redis", help="BGSAVE, check and upload the Redis snapshot")
    p.add_argument(
        "--rdb-path", type=Path, help="where this process sees dump.rdb (default: CONFIG GET dir)"
    )
    p = sub.add_parser("list", help="backups in the bucket, oldest first")
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--json", action="store_true")
    id_help = (
        "a backup id; latest / latest-redis: the newest verified backup;"
        " newest / newest-redis: the newest complete one, verified or not"
    )
    p = sub.add_parser("show", help="print a backup's manifest")
    p.add_argument("backup_id", help=id_help)
    p = sub.add_parser(
        "verify",
        help="download, check the SHA-256 and that the archive reads; recorded in the bucket",
    )
    p.add_argument("backup_id", help=id_help)
    p = sub.add_parser(
        "restore", help="restore a PostgreSQL backup into an empty database and prove it"
    )
    p.add_argument("backup_id", help=id_help)
    p.add_argument(
        "--target", required=True, help="target database URL (created beforehand, empty)"
    )
    p.add_argument(
        "--allow-nonempty", action="store_true", help="replace objects already in the target"
    )
    p.add_argument(
        "--keep-owner", action="store_true", help="restore ownership and grants (roles must exist)"
    )
    p = sub.add_parser(
        "restore-redis", help="put a verified RDB into a stopped Redis's data directory"
    )
    p.add_argument("backup_id", help=id_help)
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--filename", default="dump.rdb")
    p.add_argument("--force", action="store_true", help="move AOF files aside instead of refusing")
    p = sub.add_parser(
        "prune", help="apply the retention policy (dailies, weekly and annual archives)"
    )
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--now", type=_utc, help="evaluate the policy as of this time (ISO 8601)")
    for period in retention.PERIODS:
        p.add_argument(f"--keep-{period}", type=int, metavar="N")
    p = sub.add_parser("thaw", help="request a Glacier restore of an archived backup")
    p.add_argument("backup_id", help=id_help)
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--tier", choices=("Expedited", "Standard", "Bulk"), default="Standard")
    p = sub.add_parser("wal-status", help="is WAL archiving (point-in-time recovery) healthy?")
    p.add_argument(
        "--max-age",
        type=float,
        metavar="SECONDS",
        help="fail when no WAL was archived for this long",
    )
    p = sub.add_parser("wal-ship", help="copy pg_receivewal's directory to S3 every few seconds")
    p.add_argument("--dir", type=Path, required=True, help="pg_receivewal's -D directory")
    p.add_argument("--every", type=float, default=5.0, metavar="SECONDS")
    p.add_argument("--keep-minutes", type=float, default=60.0,
                   help="remove complete streamed segments older than this (pgBackRest archives them)")
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p = sub.add_parser("wal-fetch", help="put the streamed WAL from S3 into a restored pg_wal")
    p.add_argument("--pg-wal", type=Path, required=True)
    return parser


COMMANDS = {
    "postgres": cmd_postgres,
    "redis": cmd_redis,
    "list": cmd_list,
    "show": cmd_show,
    "verify": cmd_verify,
    "restore": cmd_restore,
    "restore-redis": cmd_restore_redis,
    "prune": cmd_prune,
    "thaw": cmd_thaw,
    "wal-status": cmd_wal_status,
    "wal-ship": cmd_wal_ship,
    "wal-fetch": cmd_wal_fetch,
}
# Jobs whose outcome is recorded for alarms (status file, CloudWatch).
RECORDED = {"postgres", "redis", "verify", "restore", "restore-redis", "prune", "wal-status"}


# Names standing for a backup: (kind, only verified ones).
ALIASES = {
    "latest": ("postgres", True),
    "latest-redis": ("redis", True),
    "newest": ("postgres", False),
    "newest-redis": ("redis", False),
}


def resolve_alias(settings: Settings, args) -> None:
    """`latest` is the newest backup whose last verification passed and whose artifact
    has not changed since; `newest` the newest complete one (what a scheduled verify
    checks right after a backup)."""
    alias = getattr(args, "backup_id", None)
    if alias not in ALIASES:
        return
    kind, verified_only = ALIASES[alias]
    entries = [e for e in BackupStore(settings).list_backups(kind) if e.complete]
    candidates = [e for e in entries if e.good] if verified_only else entries
    if not candidates:
        wanted = "verified" if verified_only else "complete"
        hint = f" (run `sanctum-backup verify newest{'-redis' if kind == 'redis' else ''}`)" \
            if verified_only and entries else ""
        raise errors.NotFound(f"no {wanted} {kind} backup in the bucket{hint}")
    skipped = [e.backup_id for e in entries if e.taken_at > candidates[-1].taken_at]
    if skipped:
        log.warning("%s skips newer backups not verified good: %s", alias, ", ".join(skipped))
    args.backup_id = candidates[-1].backup_id
    log.info("%s is %s", alias, args.backup_id)


def _s3_error(error: ClientError, settings: Settings) -> tuple[int, str]:
    """S3's answer as an exit code and a sentence (no traceback for a wrong setting)."""
    code = error.response.get("Error", {}).get("Code", "")
    if code == "NoSuchBucket":
        return errors.ConfigError.exit_code, f"bucket {settings.bucket!r} does not exist (BACKUP_BUCKET)"
    if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return errors.ConfigError.exit_code, f"S3 refused the credentials or the bucket policy: {code}"
    return errors.UNEXPECTED, f"S3 error {code or type(error).__name__}"


def _job_name(args) -> str:
    """Status file and metrics per job: a Redis verify is its own job."""
    if args.command == "verify" and str(getattr(args, "backup_id", "")).startswith("redis"):
        return "verify-redis"
    return args.command


def settings_from(args) -> Settings:
    settings = Settings()
    for name in (
        "bucket",
        "prefix",
        "s3_endpoint_url",
        "region",
        "database_url",
        "redis_url",
        "state_dir",
        "metrics_namespace",
        "progress",
        "jobs",
    ):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))
    return settings


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_format, args.verbose)
    settings = settings_from(args)
    started = time.monotonic()
    result, code = None, errors.OK
    try:
        resolve_alias(settings, args)
        result = COMMANDS[args.command](settings, args) or {}
    except errors.BackupError as error:
        code = error.exit_code
        log.error("%s failed: %s", args.command, error, extra={"exit_code": code})
    except ClientError as error:
        code, message = _s3_error(error, settings)
        log.error("%s failed: %s", args.command, message, extra={"exit_code": code})
    except Exception as error:  # still recorded, so the alarm sees it
        code = errors.UNEXPECTED
        log.exception("%s failed unexpectedly: %s", args.command, type(error).__name__)
    if args.command in RECORDED:
        metrics.record(
            settings,
            _job_name(args),
            code == errors.OK,
            time.monotonic() - started,
            size=(result or {}).get("size"),
            backup_id=(result or {}).get("backup_id"),
            exit_code=code,
        )
    return code


if __name__ == "__main__":
    sys.exit(main())

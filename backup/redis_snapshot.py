"""Redis: BGSAVE, check the RDB with redis-check-rdb, upload; restore an RDB.

Redis loads its RDB only at start-up, so a restore writes dump.rdb into the data
directory of a *stopped* Redis, which then loads it when started.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import redis

from backup.errors import IntegrityError, NotFound, TargetNotEmpty, ToolFailed
from backup.progress import Progress, sha256_file
from backup.settings import Settings
from backup.store import BackupStore, new_backup_id

log = logging.getLogger("sanctum-backup")

SAVE_TIMEOUT_SECONDS = 600
KEYS_READ = re.compile(r"(\d+) keys read")
ALREADY_EXPIRED = re.compile(r"(\d+) already expired")


def check_rdb(path: Path) -> dict:
    """redis-check-rdb verifies the RDB's CRC64 and structure; returns what it counted."""
    result = subprocess.run(
        ["redis-check-rdb", str(path)], check=False, capture_output=True, text=True
    )
    output = result.stdout + result.stderr
    if result.returncode != 0 or "RDB looks OK" not in output:
        raise IntegrityError(f"redis-check-rdb rejected {path.name} (exit {result.returncode})")
    keys, expired = KEYS_READ.search(output), ALREADY_EXPIRED.search(output)
    return {
        "keys": int(keys.group(1)) if keys else None,
        "already_expired": int(expired.group(1)) if expired else 0,
    }


def _persistence(client: redis.Redis) -> dict:
    return client.info("persistence")


def _start_bgsave(client: redis.Redis) -> None:
    deadline = time.monotonic() + SAVE_TIMEOUT_SECONDS
    while True:
        try:
            # SCHEDULE: if an AOF rewrite runs, Redis saves right after it.
            client.bgsave(schedule=True)
            return
        except redis.ResponseError as error:
            if "already in progress" not in str(error) or time.monotonic() > deadline:
                raise ToolFailed(f"BGSAVE refused: {error}") from None
            time.sleep(0.2)


def snapshot(client: redis.Redis) -> None:
    """BGSAVE and wait until a save that *started after this call* has finished."""
    before = _persistence(client)
    _start_bgsave(client)
    deadline = time.monotonic() + SAVE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        now = _persistence(client)
        if not now["rdb_bgsave_in_progress"] and now["rdb_saves"] > before["rdb_saves"]:
            if now["rdb_last_bgsave_status"] != "ok":
                raise ToolFailed("Redis BGSAVE failed (rdb_last_bgsave_status is not ok)")
            return
        time.sleep(0.1)
    raise ToolFailed(f"Redis BGSAVE did not finish within {SAVE_TIMEOUT_SECONDS}s")


def rdb_location(client: redis.Redis) -> Path:
    directory = client.config_get("dir")["dir"]
    return Path(directory) / client.config_get("dbfilename")["dbfilename"]


def backup(settings: Settings, store: BackupStore, rdb_path: Path | None = None) -> dict:
    client = redis.Redis.from_url(settings.redis_url)
    backup_id = new_backup_id("redis")
    started_at = datetime.now(UTC)
    snapshot(client)
    source = rdb_path or rdb_location(client)
    with tempfile.TemporaryDirectory(dir=settings.work_dir, prefix="sanctum-redis-") as tmp:
        copy = Path(tmp) / "dump.rdb"
        shutil.copyfile(source, copy)  # Redis replaces the file by rename: the copy is whole
        counted = check_rdb(copy)
        progress = Progress("dump.rdb -> s3", copy.stat().st_size, settings.progress)
        store.upload_file(backup_id, copy, progress)
        progress.finish()
        artifact = {
            "key": store.artifact_key(backup_id),
            "size": copy.stat().st_size,
            "sha256": sha256_file(copy),
        }
    manifest = {
        "id": backup_id,
        "kind": "redis",
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "redis_version": client.info("server")["redis_version"],
        "keyspace": {db: stats["keys"] for db, stats in client.info("keyspace").items()},
        "rdb": counted,
        "artifact": artifact,
    }
    store.put_manifest(backup_id, manifest)
    return manifest


def _aof_files(directory: Path) -> list[str]:
    return sorted(
        p.name for p in directory.iterdir() if p.name == "appendonlydir" or p.suffix == ".aof"
    )


def restore(
    settings: Settings,
    store: BackupStore,
    backup_id: str,
    data_dir: Path,
    filename: str = "dump.rdb",
    force: bool = False,
) -> dict:
    """Place the verified RDB in a stopped Redis's data directory (atomically)."""
    if not data_dir.is_dir():
        raise NotFound(f"Redis data directory {data_dir} does not exist")
    if (aof := _aof_files(data_dir)) and not force:
        raise TargetNotEmpty(
            f"{data_dir} holds AOF files ({', '.join(aof)}), which Redis would load instead of the"
            " RDB: move them away (or pass --force to move them aside)"
        )
    manifest = store.get_manifest(backup_id)
    staging = data_dir / f".{filename}.restoring"
    try:
        store.download_artifact(backup_id, staging, settings.progress)
        check_download(staging, manifest, backup_id)
        _set_aside(data_dir, [*aof, filename])
        os.replace(staging, data_dir / filename)
    finally:
        staging.unlink(missing_ok=True)
    return manifest


def check_download(path: Path, manifest: dict, backup_id: str) -> None:
    expected = manifest["artifact"]
    if path.stat().st_size != expected["size"] or sha256_file(path) != expected["sha256"]:
        raise IntegrityError(f"backup {backup_id}: RDB size or SHA-256 does not match the manifest")
    check_rdb(path)


def _set_aside(data_dir: Path, names: list[str]) -> None:
    suffix = datetime.now(UTC).strftime("before-restore-%Y%m%dT%H%M%SZ")
    for name in names:
        if (data_dir / name).exists():
            (data_dir / name).rename(data_dir / f"{name}.{suffix}")
            log.info("moved %s aside as %s.%s", name, name, suffix)

"""The backup bucket: one folder per backup and tier, an artifact and a manifest in it.

    {prefix}daily/postgres/postgres-20250101T020000Z/dump.pgc
    {prefix}daily/postgres/postgres-20250101T020000Z/manifest.json
    {prefix}weekly/postgres/postgres-20241229T020000Z/...   (copied there by prune)
    {prefix}annual/postgres/postgres-20241231T020000Z/...
    {prefix}daily/redis/redis-20250101T020000Z/dump.rdb

The tiers are the bucket's contract with infra/ (sanctum_infra/backup.py): its
lifecycle rules expire daily/ after 30 days and keep weekly/ (Glacier) and
annual/ (Deep Archive) for a year and seven years. `prune` decides which backup
belongs in which tier. The manifest is written last, so a folder without one is
an unfinished (or failed) backup and never counts as good.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from backup.errors import Archived, NotFound
from backup.progress import Progress
from backup.settings import Settings

KINDS = ("postgres", "redis")
TIERS = ("daily", "weekly", "annual")  # hottest first
ARTIFACTS = {"postgres": "dump.pgc", "redis": "dump.rdb"}
MANIFEST = "manifest.json"
ID_PATTERN = re.compile(r"^(postgres|redis)-(\d{8}T\d{6}Z)$")
ID_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
COLD_CLASSES = {"GLACIER", "DEEP_ARCHIVE"}
# Streams of unknown length: 16 MiB parts allow 160 GiB within S3's 10,000 parts.
TRANSFER = TransferConfig(multipart_chunksize=16 * 1024 * 1024, max_concurrency=4)


def new_backup_id(kind: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{kind}-{now.astimezone(UTC).strftime(ID_TIME_FORMAT)}"


def parse_backup_id(backup_id: str) -> tuple[str, datetime]:
    match = ID_PATTERN.match(backup_id)
    if not match:
        raise NotFound(
            f"{backup_id!r} is not a backup id (expected e.g. postgres-20250101T020000Z)"
        )
    taken = datetime.strptime(match.group(2), ID_TIME_FORMAT).replace(tzinfo=UTC)
    return match.group(1), taken


@dataclass
class Copy:
    """One tier's copy of a backup."""

    size: int | None = None
    storage_class: str | None = None
    has_manifest: bool = False

    @property
    def complete(self) -> bool:
        return self.has_manifest and self.size is not None


@dataclass
class BackupEntry:
    backup_id: str
    kind: str
    taken_at: datetime
    copies: dict[str, Copy] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return any(c.complete for c in self.copies.values())

    @property
    def hottest(self) -> tuple[str, Copy] | None:
        for tier in TIERS:
            if tier in self.copies and self.copies[tier].complete:
                return tier, self.copies[tier]
        return None

    @property
    def size(self) -> int | None:
        return self.hottest[1].size if self.hottest else None

    @property
    def storage_class(self) -> str | None:
        return self.hottest[1].storage_class if self.hottest else None


def _is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


class BackupStore:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.bucket = settings.require_bucket()
        self.s3 = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.region,
            config=Config(retries={"mode": "standard", "max_attempts": 5}),
        )

    # --- keys -----------------------------------------------------------------------------

    def key(self, backup_id: str, name: str, tier: str = "daily") -> str:
        kind, _ = parse_backup_id(backup_id)
        return f"{self.settings.prefix}{tier}/{kind}/{backup_id}/{name}"

    def artifact_key(self, backup_id: str, tier: str = "daily") -> str:
        return self.key(backup_id, ARTIFACTS[parse_backup_id(backup_id)[0]], tier)

    def _encryption(self) -> dict:
        if self.settings.sse == "bucket-default":
            return {}
        args = {"ServerSideEncryption": self.settings.sse}
        if self.settings.sse == "aws:kms" and self.settings.kms_key_id:
            args["SSEKMSKeyId"] = self.settings.kms_key_id
        return args

    # --- writing --------------------------------------------------------------------------

    def upload_stream(self, backup_id: str, stream: BinaryIO) -> None:
        self.s3.upload_fileobj(
            stream,
            self.bucket,
            self.artifact_key(backup_id),
            ExtraArgs={**self._encryption(), "Metadata": {"backup-id": backup_id}},
            Config=TRANSFER,
        )

    def upload_file(self, backup_id: str, path: Path, progress: Progress | None = None) -> None:
        self.s3.upload_file(
            str(path),
            self.bucket,
            self.artifact_key(backup_id),
            ExtraArgs={**self._encryption(), "Metadata": {"backup-id": backup_id}},
            Callback=progress,
            Config=TRANSFER,
        )

    def put_manifest(self, backup_id: str, manifest: dict) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self.key(backup_id, MANIFEST),
            Body=json.dumps(manifest, indent=2, sort_keys=True).encode(),
            ContentType="application/json",
            **self._encryption(),
        )

    # --- reading --------------------------------------------------------------------------

    def _head(self, key: str) -> dict | None:
        try:
            return self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                return None
            raise

    def locate_artifact(self, backup_id: str) -> tuple[str, dict]:
        """The hottest tier holding the artifact, and its HEAD."""
        for tier in TIERS:
            if (head := self._head(self.artifact_key(backup_id, tier))) is not None:
                return tier, head
        raise NotFound(f"backup {backup_id}: its artifact is missing from every tier")

    def get_manifest(self, backup_id: str) -> dict:
        for tier in TIERS:
            try:
                body = self.s3.get_object(
                    Bucket=self.bucket, Key=self.key(backup_id, MANIFEST, tier)
                )
            except ClientError as error:
                if _is_missing(error):
                    continue
                raise
            return json.loads(body["Body"].read())
        raise NotFound(f"backup {backup_id}: no manifest in s3://{self.bucket}")

    def download_artifact(self, backup_id: str, dest: Path, live: bool | None = None) -> None:
        tier, head = self.locate_artifact(backup_id)
        thawed = 'ongoing-request="false"' in head.get("Restore", "")
        if head.get("StorageClass") in COLD_CLASSES and not thawed:
            raise Archived(
                f"backup {backup_id} is in {head['StorageClass']}: run"
                f" `sanctum-backup thaw {backup_id}` and retry once it is restored"
            )
        progress = Progress(f"download {backup_id}", head["ContentLength"], live)
        key = self.artifact_key(backup_id, tier)
        self.s3.download_file(self.bucket, key, str(dest), Callback=progress, Config=TRANSFER)
        progress.finish()

    def list_backups(self, kind: str | None = None) -> list[BackupEntry]:
        entries: dict[str, BackupEntry] = {}
        for tier in TIERS:
            for kind_ in [kind] if kind else KINDS:
                for obj in self._objects(f"{self.settings.prefix}{tier}/{kind_}/"):
                    self._add_object(entries, tier, obj)
        return sorted(entries.values(), key=lambda e: e.taken_at)

    def _objects(self, prefix: str):
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def _add_object(self, entries: dict[str, BackupEntry], tier: str, obj: dict) -> None:
        parts = obj["Key"][len(self.settings.prefix) :].split("/")
        if len(parts) != 4 or not ID_PATTERN.match(parts[2]):
            return
        backup_id, name = parts[2], parts[3]
        kind, taken_at = parse_backup_id(backup_id)
        entry = entries.setdefault(backup_id, BackupEntry(backup_id, kind, taken_at))
        copy = entry.copies.setdefault(tier, Copy())
        if name == MANIFEST:
            copy.has_manifest = True
        elif name == ARTIFACTS[kind]:
            copy.size = obj["Size"]
            copy.storage_class = obj.get("StorageClass", "STANDARD")

    # --- tiers ----------------------------------------------------------------------------

    def delete_copy(self, backup_id: str, tier: str) -> None:
        kind, _ = parse_backup_id(backup_id)
        keys = [self.key(backup_id, name, tier) for name in (ARTIFACTS[kind], MANIFEST)]
        self.s3.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
        )

    def copy_to_tier(self, backup_id: str, source_tier: str, tier: str) -> None:
        """Artifact in the tier's archive class; the small manifest stays in Standard."""
        kind, _ = parse_backup_id(backup_id)
        storage_class = self.settings.tier_storage_class[tier]
        for name, target_class in ((ARTIFACTS[kind], storage_class), (MANIFEST, "STANDARD")):
            self.s3.copy(
                {"Bucket": self.bucket, "Key": self.key(backup_id, name, source_tier)},
                self.bucket,
                self.key(backup_id, name, tier),
                ExtraArgs={**self._encryption(), "StorageClass": target_class},
                Config=TRANSFER,
            )

    def thaw(self, backup_id: str, days: int, tier: str) -> None:
        location, _ = self.locate_artifact(backup_id)
        self.s3.restore_object(
            Bucket=self.bucket,
            Key=self.artifact_key(backup_id, location),
            RestoreRequest={"Days": days, "GlacierJobParameters": {"Tier": tier}},
        )

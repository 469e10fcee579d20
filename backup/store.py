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
from concurrent.futures import ThreadPoolExecutor
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
# Written by `verify` (and a restore's own check) beside the copy it read.
VERIFICATION = "verification.json"
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
class Verification:
    """The last check of one copy: when, its outcome, and the artifact it read."""

    ok: bool
    at: datetime
    etag: str | None
    detail: str = ""


@dataclass
class Copy:
    """One tier's copy of a backup."""

    size: int | None = None
    storage_class: str | None = None
    has_manifest: bool = False
    etag: str | None = None
    has_verification: bool = False
    verification: Verification | None = None

    @property
    def verified(self) -> str:
        """unverified, verified, FAILED, or CHANGED (replaced since it was verified)."""
        check = self.verification
        if check is None:
            return "unverified"
        if not check.ok:
            return "FAILED"
        if check.etag != self.etag:
            return "CHANGED"
        return "verified"

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

    @property
    def verified(self) -> str:
        return self.hottest[1].verified if self.hottest else "unverified"

    @property
    def verification(self) -> Verification | None:
        return self.hottest[1].verification if self.hottest else None

    @property
    def good(self) -> bool:
        """Complete, verified, and its artifact unchanged since: what `latest` picks."""
        return self.complete and self.verified == "verified"


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

    def download_artifact(
        self, backup_id: str, dest: Path, live: bool | None = None
    ) -> tuple[str, str | None]:
        """Download the hottest copy; returns its tier and ETag (what was verified)."""
        tier, head = self.locate_artifact(backup_id)
        thawed = 'ongoing-request="false"' in head.get("Restore", "")
        if head.get("StorageClass") in COLD_CLASSES and not thawed:
            raise Archived(
                f"backup {backup_id} is in {head['StorageClass']}: run"
                f" `sanctum-backup thaw {backup_id}` and retry once it is restored"
            )
        progress = Progress(f"download {backup_id}", head["ContentLength"], live)
        key = self.artifact_key(backup_id, tier)
        # Pinned to the version whose ETag is recorded as verified.
        extra = {"VersionId": head["VersionId"]} if head.get("VersionId") else {}
        self.s3.download_file(
            self.bucket, key, str(dest), ExtraArgs=extra, Callback=progress, Config=TRANSFER
        )
        progress.finish()
        return tier, head.get("ETag")

    def record_verification(
        self, backup_id: str, tier: str, etag: str | None, ok: bool, detail: str
    ) -> None:
        record = {
            "backup_id": backup_id,
            "ok": ok,
            "verified_at": datetime.now(UTC).isoformat(),
            "etag": etag,
            "detail": detail,
        }
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self.key(backup_id, VERIFICATION, tier),
            Body=json.dumps(record, indent=2, sort_keys=True).encode(),
            ContentType="application/json",
            **self._encryption(),
        )

    def _read_verification(self, backup_id: str, tier: str) -> Verification | None:
        try:
            body = self.s3.get_object(
                Bucket=self.bucket, Key=self.key(backup_id, VERIFICATION, tier)
            )["Body"].read()
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        record = json.loads(body)
        return Verification(
            ok=bool(record["ok"]),
            at=datetime.fromisoformat(record["verified_at"]),
            etag=record.get("etag"),
            detail=record.get("detail", ""),
        )

    def list_backups(self, kind: str | None = None) -> list[BackupEntry]:
        entries: dict[str, BackupEntry] = {}
        for tier in TIERS:
            for kind_ in [kind] if kind else KINDS:
                for obj in self._objects(f"{self.settings.prefix}{tier}/{kind_}/"):
                    self._add_object(entries, tier, obj)
        self._load_verifications(entries.values())
        return sorted(entries.values(), key=lambda e: e.taken_at)

    def _load_verifications(self, entries) -> None:
        wanted = [
            (entry.backup_id, tier, copy)
            for entry in entries
            for tier, copy in entry.copies.items()
            if copy.has_verification
        ]
        with ThreadPoolExecutor(8) as pool:
            found = pool.map(lambda item: self._read_verification(item[0], item[1]), wanted)
            for (_, _, copy), verification in zip(wanted, found, strict=True):
                copy.verification = verification

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
        elif name == VERIFICATION:
            copy.has_verification = True
        elif name == ARTIFACTS[kind]:
            copy.size = obj["Size"]
            copy.storage_class = obj.get("StorageClass", "STANDARD")
            copy.etag = obj.get("ETag")

    # --- tiers ----------------------------------------------------------------------------

    def delete_copy(self, backup_id: str, tier: str) -> None:
        kind, _ = parse_backup_id(backup_id)
        keys = [
            self.key(backup_id, name, tier) for name in (ARTIFACTS[kind], MANIFEST, VERIFICATION)
        ]
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

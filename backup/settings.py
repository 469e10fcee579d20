"""Settings from the environment, overridable by command-line flags.

Nothing is hard-coded to one deployment: the bucket, endpoint and URLs come from
the environment (systemd units / compose set them) or from flags.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from backup.errors import ConfigError

DEFAULT_DATABASE_URL = "postgresql://sanctum:sanctum@127.0.0.1:5432/sanctum"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def libpq_url(url: str) -> str:
    """SQLAlchemy URLs name the driver (postgresql+psycopg://); libpq tools do not."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass
class Settings:
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", DEFAULT_DATABASE_URL))
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", DEFAULT_REDIS_URL))
    bucket: str | None = field(default_factory=lambda: _env("BACKUP_BUCKET"))
    prefix: str = field(default_factory=lambda: _env("BACKUP_PREFIX", ""))
    s3_endpoint_url: str | None = field(default_factory=lambda: _env("BACKUP_S3_ENDPOINT_URL"))
    region: str | None = field(
        default_factory=lambda: _env("AWS_REGION", _env("AWS_DEFAULT_REGION"))
    )
    # The default, AES256 (S3-managed keys), is what RUNBOOK.md states; aws:kms (with kms_key_id: that key; without: aws/s3),
    # or bucket-default (send nothing: the bucket's default encryption applies).
    sse: str = field(default_factory=lambda: _env("BACKUP_SSE", "AES256"))
    kms_key_id: str | None = field(default_factory=lambda: _env("BACKUP_KMS_KEY_ID"))
    # Storage class of the artifact copied into each tier (the lifecycle agrees: infra/).
    tier_storage_class: dict[str, str] = field(
        default_factory=lambda: {
            "daily": "STANDARD",
            "weekly": _env("BACKUP_WEEKLY_STORAGE_CLASS", "GLACIER"),
            "annual": _env("BACKUP_ANNUAL_STORAGE_CLASS", "DEEP_ARCHIVE"),
        }
    )
    state_dir: Path = field(
        default_factory=lambda: Path(_env("BACKUP_STATE_DIR", "var/backup-state"))
    )
    metrics_namespace: str | None = field(default_factory=lambda: _env("BACKUP_METRICS_NAMESPACE"))
    environment: str = field(default_factory=lambda: _env("SANCTUM_ENVIRONMENT", "local"))
    work_dir: Path | None = field(
        default_factory=lambda: Path(w) if (w := _env("BACKUP_WORK_DIR")) else None
    )
    progress: bool | None = None  # None: a live bar when stderr is a terminal, else log lines
    # Parallel connections for checksums, pg_restore --jobs and verification.
    jobs: int = field(default_factory=lambda: int(_env("BACKUP_JOBS", str(os.cpu_count() or 1))))
    # node exporter's textfile collector directory (a .prom file per job on success).
    metrics_textfile_dir: Path | None = field(
        default_factory=lambda: Path(d) if (d := _env("SANCTUM_METRICS_TEXTFILE_DIR")) else None
    )

    @property
    def libpq_database_url(self) -> str:
        return libpq_url(self.database_url)

    def require_bucket(self) -> str:
        if not self.bucket:
            raise ConfigError("no bucket: set BACKUP_BUCKET or pass --bucket")
        return self.bucket

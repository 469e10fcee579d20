"""What an alarm watches: a status file per job, and CloudWatch metrics.

Status file ($BACKUP_STATE_DIR/<job>.json): the last run's outcome and the last
success's time, size and duration; the CloudWatch agent and humans read it.
CloudWatch (when BACKUP_METRICS_NAMESPACE is set): Success (1/0), SizeBytes,
DurationSeconds and LastSuccessEpoch, dimensions Job and Environment. The
alarm to set: Sum of Success < 1 over 26 hours, missing data breaching.
Prometheus (when SANCTUM_METRICS_TEXTFILE_DIR is set): after each success,
<dir>/sanctum_backup_<job>.prom with the job's last success time, replaced
atomically, for node exporter's textfile collector.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import boto3

from backup.settings import Settings
from monitoring.catalogue import (
    BACKUP_DURATION_METRIC,
    BACKUP_LAST_SUCCESS_METRIC,
    BACKUP_LAST_SUCCESS_SERIES,
    BACKUP_SIZE_METRIC,
    BACKUP_SUCCESS_METRIC,
)

log = logging.getLogger("sanctum-backup")


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _write_atomically(path: Path, data: dict | str) -> None:
    """Readers see the old file or the new one, never half of one (same directory:
    os.replace is a rename). node exporter ignores the temporary name (not *.prom)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
        if isinstance(data, str):
            handle.write(data)
        else:
            json.dump(data, handle, indent=2, sort_keys=True)
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, path)


def textfile_metrics(job: str, success_epoch: float) -> str:
    """node exporter's textfile format: the job's last success, seconds since the epoch."""
    name = BACKUP_LAST_SUCCESS_SERIES
    return (
        f"# HELP {name} Time of the backup job's last success.\n"
        f"# TYPE {name} gauge\n"
        f'{name}{{job="{job}"}} {success_epoch:.3f}\n'
    )


def write_textfile(directory: Path, job: str, success_epoch: float) -> Path:
    path = directory / f"sanctum_backup_{job}.prom"
    _write_atomically(path, textfile_metrics(job, success_epoch))
    return path


def record(
    settings: Settings,
    job: str,
    ok: bool,
    duration: float,
    size: int | None = None,
    backup_id: str | None = None,
    exit_code: int = 0,
) -> dict:
    now = datetime.now(UTC)
    path = settings.state_dir / f"{job}.json"
    status = _read(path)
    status.update(
        job=job,
        last_run_at=now.isoformat(),
        last_run_ok=ok,
        last_exit_code=exit_code,
        last_duration_seconds=round(duration, 3),
    )
    if ok:
        status.update(
            last_success_at=now.isoformat(),
            last_success_epoch=int(now.timestamp()),
            last_size_bytes=size,
            last_backup_id=backup_id,
        )
    _write_atomically(path, status)
    log.info(
        "job finished",
        extra={
            "job": job,
            "ok": ok,
            "duration_seconds": round(duration, 3),
            "size_bytes": size,
            "backup_id": backup_id,
            "exit_code": exit_code,
        },
    )
    if settings.metrics_namespace:
        _put_cloudwatch(settings, job, ok, duration, size, now)
    if ok and settings.metrics_textfile_dir:
        try:
            write_textfile(settings.metrics_textfile_dir, job, now.timestamp())
        except OSError as error:  # like CloudWatch: never fail a good backup over metrics
            log.warning("could not write the textfile metric: %s", error)
    return status


def _put_cloudwatch(
    settings: Settings, job: str, ok: bool, duration: float, size: int | None, now: datetime
) -> None:
    dimensions = [
        {"Name": "Job", "Value": job},
        {"Name": "Environment", "Value": settings.environment},
    ]
    data = [
        {"MetricName": BACKUP_SUCCESS_METRIC, "Value": 1.0 if ok else 0.0, "Unit": "Count"},
        {"MetricName": BACKUP_DURATION_METRIC, "Value": duration, "Unit": "Seconds"},
    ]
    if ok and size is not None:
        data.append({"MetricName": BACKUP_SIZE_METRIC, "Value": float(size), "Unit": "Bytes"})
    if ok:
        data.append({"MetricName": BACKUP_LAST_SUCCESS_METRIC, "Value": now.timestamp(),
                     "Unit": "Seconds"})
    try:
        # The endpoint can be redirected with AWS_ENDPOINT_URL_CLOUDWATCH (tests: moto).
        client = boto3.client("cloudwatch", region_name=settings.region)
        client.put_metric_data(
            Namespace=settings.metrics_namespace,
            MetricData=[{**d, "Dimensions": dimensions, "Timestamp": now} for d in data],
        )
    except Exception as error:  # noqa: BLE001 -- metrics must never fail a good backup
        log.warning("could not publish CloudWatch metrics: %s", type(error).__name__)

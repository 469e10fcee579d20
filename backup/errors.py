"""Failures the CLI turns into documented exit codes (see RUNBOOK.md, "Exit codes")."""

from __future__ import annotations

OK = 0
UNEXPECTED = 1
USAGE = 2  # argparse's own code for bad arguments


class BackupError(Exception):
    exit_code = UNEXPECTED


class NotFound(BackupError):
    """The backup id, its manifest or its artifact is not in the bucket."""

    exit_code = 3


class IntegrityError(BackupError):
    """Checksum or size mismatch, truncated or unreadable artifact."""

    exit_code = 4


class TargetNotEmpty(BackupError):
    exit_code = 5


class VerificationMismatch(BackupError):
    """The restore ran, but what is in the target differs from the manifest."""

    exit_code = 6

    def __init__(self, differences: list[str]):
        super().__init__(f"{len(differences)} difference(s) between backup and target")
        self.differences = differences


class ToolFailed(BackupError):
    """pg_dump, pg_restore, redis-check-rdb or Redis itself failed."""

    exit_code = 7


class ConfigError(BackupError):
    exit_code = 8


class Archived(BackupError):
    """The artifact sits in Glacier and must be thawed before it can be read."""

    exit_code = 9

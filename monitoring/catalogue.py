"""The metric catalogue: every metric a host, the backup tool or the application
publishes, by the names the alarms (infra/), the agent configuration
(monitoring/agent.py) and the backup tool (backup/metrics.py) all use."""

from __future__ import annotations

AGENT_NAMESPACE = "CWAgent"
APP_NAMESPACE = "Sanctum"
MEMORY_METRIC = "mem_used_percent"
DISK_METRIC = "disk_used_percent"
QUEUE_DEPTH_METRIC = "BrokerQueueDepth"
# Published by the backup tool (backup/metrics.py): Success per Job and Environment,
# where Environment is Ansible's `sanctum_environment` (phaseN).
BACKUP_NAMESPACE = "Sanctum/Backup"
BACKUP_SUCCESS_METRIC = "Success"
BACKUP_DURATION_METRIC = "DurationSeconds"
BACKUP_SIZE_METRIC = "SizeBytes"
BACKUP_LAST_SUCCESS_METRIC = "LastSuccessEpoch"
# Host log files the agent ships to the `system` log group: the first boot, and the
# backup jobs' logs (ansible/roles/backup_schedule: /var/log/sanctum/backup-<job>.log).
BACKUP_JOBS = ("postgres", "redis", "prune", "verify", "wal-status", "pgbackrest-full",
               "pgbackrest-diff")
HOST_LOG_FILES = (
    "/var/log/sanctum-bootstrap.log",
    "/var/log/cloud-init-output.log",
    *(f"/var/log/sanctum/backup-{job}.log" for job in BACKUP_JOBS),
    "/var/log/auth.log",
)

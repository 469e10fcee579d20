"""Metrics the hosts publish and the alarms watch: one definition for both sides."""

from __future__ import annotations

from typing import Any

AGENT_NAMESPACE = "CWAgent"
APP_NAMESPACE = "Sanctum"
MEMORY_METRIC = "mem_used_percent"
DISK_METRIC = "disk_used_percent"
QUEUE_DEPTH_METRIC = "BrokerQueueDepth"
# Published by the backup tool (backup/metrics.py): Success per Job and Environment,
# where Environment is Ansible's `sanctum_environment` (phaseN).
BACKUP_NAMESPACE = "Sanctum/Backup"
BACKUP_SUCCESS_METRIC = "Success"
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


def agent_config(dimension: str, disk_paths: tuple[str, ...], log_group: str) -> dict[str, Any]:
    """CloudWatch agent configuration for a host.

    `dimension` is `InstanceId` for the phase 1 host and `AutoScalingGroupName` for
    cluster members; metrics are aggregated to exactly the dimension sets the alarms use.
    """
    # The phase 1 host alarms on its PostgreSQL volume, so it keeps disk metrics per path.
    disk_aggregation = [[dimension, "path"]] if dimension == "InstanceId" else []
    return {
        "agent": {"metrics_collection_interval": 60, "omit_hostname": True},
        "metrics": {
            "namespace": AGENT_NAMESPACE,
            "append_dimensions": {dimension: "${aws:" + dimension + "}"},
            "aggregation_dimensions": [[dimension]] + disk_aggregation,
            "metrics_collected": {
                "mem": {"measurement": ["used_percent"]},
                "disk": {
                    "measurement": ["used_percent"],
                    "resources": list(disk_paths),
                    "drop_device": True,
                },
            },
        },
        "logs": {
            "logs_collected": {
                "files": {
                    "collect_list": [
                        {"file_path": path, "log_group_name": log_group,
                         "log_stream_name": "{instance_id}/" + path.rsplit("/", 1)[-1]}
                        for path in HOST_LOG_FILES
                    ]
                }
            }
        },
    }

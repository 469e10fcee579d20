"""The CloudWatch agent's configuration on every host: what it measures (the
series the host alarms watch) and which log files it ships."""

from __future__ import annotations

from typing import Any

from monitoring.catalogue import AGENT_NAMESPACE, HOST_LOG_FILES


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

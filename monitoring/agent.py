"""The CloudWatch agent's configuration on every host: what it measures (the
series the host alarms watch), which log files it ships, and which of the
application's Prometheus series it scrapes into CloudWatch.

Why the agent's Prometheus scraping rather than the embedded metric format written by
the processes: the agent already runs on every host (first boot and Ansible's
cloudwatch_agent role), the processes already serve /metrics for Prometheus, and so one
instrumentation serves both and the processes hold no AWS client or credentials for
metrics. The agent turns what it scrapes into EMF log events (counters as the increase
since the previous scrape) in APP_METRICS_NAMESPACE. It drops histograms: the alarms
read counters and gauges (the first-send delay as
`sanctum_crisis_oldest_unsent_age_seconds`). monitoring/README.md says more.
"""

from __future__ import annotations

from typing import Any

from monitoring import catalogue, scrape
from monitoring.catalogue import AGENT_NAMESPACE, HOST_LOG_FILES
from monitoring.hostfiles import CLOUDWATCH_AGENT_PROMETHEUS_CONFIG

# The series CloudWatch receives, each with the Prometheus labels that become its
# dimensions besides `job` (always "sanctum"): the alarms in infra/ name exactly these.
# A series with no label here is one CloudWatch metric summed (counters) or maximised
# (gauges) over processes, label values and hosts. Each name/dimension set is a custom
# metric (billed monthly): keep the list to what an alarm or a runbook needs.
CLOUDWATCH_SERIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sanctum_crises_detected_total", ()),
    ("sanctum_alerts_sent_total", ()),
    ("sanctum_alerts_failed_total", ()),
    ("sanctum_crisis_oldest_unsent_age_seconds", ()),
    ("sanctum_dead_letter_messages", ()),
    ("sanctum_outbox_pending_rows", ()),
    ("sanctum_outbox_oldest_pending_age_seconds", ()),
    ("sanctum_queue_messages", ()),
    ("sanctum_http_requests_total", ("status",)),
    ("sanctum_rpc_requests_total", ("outcome",)),
    ("process_resident_memory_bytes", ("process",)),
)
UNITS = {"seconds": "Seconds", "bytes": "Bytes"}


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
            },
            # The application's series: EMF events in the system log group (stream
            # `sanctum`, the scrape job), metrics in APP_METRICS_NAMESPACE.
            "metrics_collected": {"prometheus": {
                "log_group_name": log_group,
                "prometheus_config_path": CLOUDWATCH_AGENT_PROMETHEUS_CONFIG,
                "emf_processor": emf_processor(),
            }},
        },
    }


def _unit(name: str) -> str:
    suffix = name.removesuffix("_total").rsplit("_", 1)[-1]
    return UNITS.get(suffix, "Count")


def emf_processor() -> dict[str, Any]:
    """Which scraped series become CloudWatch metrics, with which dimensions."""
    by_dimensions: dict[tuple[str, ...], list[str]] = {}
    for name, labels in CLOUDWATCH_SERIES:
        by_dimensions.setdefault(labels, []).append(name)
    return {
        "metric_declaration_dedup": True,
        "metric_namespace": catalogue.APP_METRICS_NAMESPACE,
        "metric_unit": {name: _unit(name) for name, _ in CLOUDWATCH_SERIES},
        "metric_declaration": [
            {"source_labels": ["job"], "label_matcher": f"^{scrape.APP_JOB}$",
             "dimensions": [["job", *labels]],
             "metric_selectors": [f"^{name}$" for name in names]}
            for labels, names in by_dimensions.items()
        ],
    }


def prometheus_scrape_config() -> dict[str, Any]:
    """The agent's Prometheus scrape configuration: every process on the host's loopback
    (compose publishes each metrics port on 127.0.0.1; a process this host does not run
    is simply not there), keeping only the series CloudWatch receives."""
    job = scrape.app_job(host="127.0.0.1")
    job["scrape_interval"] = "60s"
    job["metric_relabel_configs"] = [{
        "source_labels": ["__name__"], "action": "keep",
        "regex": "|".join(name for name, _ in CLOUDWATCH_SERIES),
    }]
    return {"global": {"scrape_interval": "60s", "scrape_timeout": "10s"},
            "scrape_configs": [job]}

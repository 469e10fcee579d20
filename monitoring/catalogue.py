"""The metric catalogue: every metric a host, the backup tool or the application
publishes, by the names the alarms (infra/), the agent configuration
(monitoring/agent.py) and the backup tool (backup/metrics.py) all use."""

from __future__ import annotations

from dataclasses import dataclass

AGENT_NAMESPACE = "CWAgent"
APP_NAMESPACE = "Sanctum"
# Where the CloudWatch agent publishes the application's Prometheus series it scrapes on
# each host (monitoring/agent.py), under their catalogue names.
APP_METRICS_NAMESPACE = "Sanctum/App"
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


# --- Application metrics (Prometheus) ------------------------------------------------
# Every process (the gateway and each service) serves these at /metrics on its
# metrics port (services/registry.py). Prometheus scrapes them locally (monitoring/
# prometheus/), the CloudWatch agent scrapes the same endpoints in AWS, so the alarms
# in infra/, the alert rules and the dashboards all read these names. Labels never
# carry a user id or any value a user entered: only route templates, method names,
# handler names, queue names, channels, kinds and outcomes.

@dataclass(frozen=True)
class AppMetric:
    name: str  # as exposed; counters end in _total, durations in _seconds
    kind: str  # "counter" | "gauge" | "histogram"
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] | None = None  # histograms only

    @property
    def series(self) -> tuple[str, ...]:
        """The series names a query may use for this metric."""
        if self.kind == "histogram":
            return tuple(f"{self.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        if self.kind == "counter":
            return (self.name, self.name.removesuffix("_total") + "_created")
        return (self.name,)


LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SEND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

APP_METRICS = (
    # Requests, errors and duration: per route at the gateway, per RPC method and per
    # event handler in the services.
    AppMetric("sanctum_http_requests_total", "counter",
              "HTTP requests answered by the gateway, by route template and status class.",
              ("route", "method", "status")),
    AppMetric("sanctum_http_request_duration_seconds", "histogram",
              "Time the gateway took to answer, by route template.", ("route", "method"),
              LATENCY_BUCKETS),
    AppMetric("sanctum_rpc_requests_total", "counter",
              "RPC calls a service answered: ok, refused (a domain error such as 404) or error.",
              ("service", "method", "outcome")),
    AppMetric("sanctum_rpc_duration_seconds", "histogram",
              "Time a service took to answer an RPC call, commit included.",
              ("service", "method"), LATENCY_BUCKETS),
    AppMetric("sanctum_events_handled_total", "counter",
              "Events a handler finished: ok (handled, or found handled already), retried "
              "(failed; sent to a retry queue) or dead_lettered (failed every retry).",
              ("service", "handler", "outcome")),
    AppMetric("sanctum_event_batch_duration_seconds", "histogram",
              "Time a handler took for one batch of events, commit included.",
              ("service", "handler"), LATENCY_BUCKETS),
    AppMetric("sanctum_events_published_total", "counter",
              "Outbox events the relay published and the broker confirmed.", ("service",)),
    # The outbox, the queues and the dead letters.
    AppMetric("sanctum_outbox_pending_rows", "gauge",
              "Outbox rows committed and not yet published.", ("service",)),
    AppMetric("sanctum_outbox_oldest_pending_age_seconds", "gauge",
              "Age of the oldest outbox row not yet published (0 when none).", ("service",)),
    AppMetric("sanctum_queue_messages", "gauge",
              "Messages waiting in an event handler's queue.", ("service", "queue")),
    AppMetric("sanctum_dead_letter_messages", "gauge",
              "Events parked in a handler's dead-letter queue after every retry.",
              ("service", "queue")),
    # Resources the process holds.
    AppMetric("sanctum_db_pool_connections_in_use", "gauge",
              "Database connections checked out of the process's pool.", ("service",)),
    AppMetric("sanctum_cache_requests_total", "counter",
              "Reads of the per-user cache, by result (hit or miss).", ("service", "result")),
    # The product.
    AppMetric("sanctum_logins_total", "counter",
              "Log-in attempts by outcome (ok, refused, limited).", ("outcome",)),
    AppMetric("sanctum_mood_shifts_logged_total", "counter", "Mood shifts logged."),
    AppMetric("sanctum_crises_detected_total", "counter",
              "Crises raised by pattern analysis: each starts an escalation ladder (rules that "
              "fire within the user's cool-down are flagged, not counted here)."),
    AppMetric("sanctum_alerts_sent_total", "counter",
              "Crisis messages a provider accepted, by channel and recipient (user or contact).",
              ("channel", "recipient")),
    AppMetric("sanctum_alerts_failed_total", "counter",
              "Crisis messages that failed for good, by channel and reason.",
              ("channel", "reason")),
    AppMetric("sanctum_crisis_to_first_send_seconds", "histogram",
              "From a crisis being detected to the first message about it accepted by a provider.",
              (), SEND_BUCKETS),
    # The CloudWatch agent drops histograms, so the first-send time reaches CloudWatch's
    # alarms as this gauge; it also shows a stall while it happens (no send, nothing to
    # observe in the histogram). Read by the notifications service from its own tables.
    AppMetric("sanctum_crisis_oldest_unsent_age_seconds", "gauge",
              "Age of the oldest crisis to be alerted with no message about it accepted by a "
              "provider yet (0 when none)."),
    AppMetric("sanctum_reminders_fired_total", "counter", "Scheduled reminders sent, by kind.",
              ("kind",)),
    AppMetric("sanctum_exports_finished_total", "counter",
              "Export jobs finished, by kind and status (done or failed).", ("kind", "status")),
)

# Every process also serves prometheus-client's process collector.
PROCESS_METRICS = ("process_resident_memory_bytes", "process_virtual_memory_bytes",
                   "process_cpu_seconds_total", "process_open_fds", "process_start_time_seconds")
# The backup tool writes this beside its CloudWatch figures (node exporter's textfile
# collector reads it on the host): seconds since the epoch of each job's last success.
BACKUP_LAST_SUCCESS_SERIES = "sanctum_backup_last_success_timestamp_seconds"
# The node exporter's textfile directory on a host (compose's node-exporter mounts it;
# NODE_TEXTFILE_DIR moves it): the backup tool writes its .prom file there, one series per
# backup job with the job's name in the label `job` (the alert rules expect that label).
BACKUP_TEXTFILE_DIR = "/var/lib/node-exporter/textfile"


def app_metric(name: str) -> AppMetric:
    return next(metric for metric in APP_METRICS if metric.name == name)


def known_series() -> set[str]:
    """Every series name a rule, a dashboard or an agent configuration may query."""
    names = {series for metric in APP_METRICS for series in metric.series}
    return names | set(PROCESS_METRICS) | {BACKUP_LAST_SUCCESS_SERIES, "up"}

"""Every process the system runs: the domain services and the gateway.

The one list of them. `make run` and the test stack start what is here, queue
declaration declares the queues of these services' handlers, and the operator
shell and ops tests read it; compose.yaml, infra's service topology and the
gateway's RPC clients are checked against it by tests/unit/test_registry.py.
Adding a service starts here (README, "Adding a service").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Process:
    name: str  # nameko service name; for a domain service also its PostgreSQL schema
    path: str  # "module:Class", what `nameko run` takes
    # Where the process serves its Prometheus metrics (/metrics) under `make run` and
    # compose: the service's port in the architecture (../shared/seed); the gateway 3000.
    metrics_port: int
    # It talks to hosts outside the stack (SMTP, SNS, S3, an external model): it keeps
    # eventlet's green DNS, so a slow lookup never stalls its other work. The others
    # resolve only the stack's own servers, at connect time, and save the 17 MiB it takes.
    dials_out: bool = False

    @property
    def process_env(self) -> dict[str, str]:
        """What the process's environment adds (make run, the tests, compose)."""
        return {} if self.dials_out else {"EVENTLET_NO_GREENDNS": "yes"}

    def service_class(self):
        module_name, _, class_name = self.path.partition(":")
        return getattr(importlib.import_module(module_name), class_name)


SERVICES = {
    process.name: process
    for process in (
        Process("user_management", "services.user_management.service:UserManagementService", 3001),
        Process("mood_tracking", "services.mood_tracking.service:MoodTrackingService", 3003),
        Process("pattern_analysis", "services.pattern_analysis.service:PatternAnalysisService", 3007),
        Process("notifications", "services.notifications.service:NotificationsService", 3009, dials_out=True),
        Process("therapeutic_content",
                "services.therapeutic_content.service:TherapeuticContentService", 3006),
        Process("dbt_diary", "services.dbt_diary.service:DbtDiaryService", 3005),
        Process("episode_tracking", "services.episode_tracking.service:EpisodeTrackingService", 3004),
        Process("medications", "services.medications.service:MedicationsService", 3011),
        Process("specialized_trackers",
                "services.specialized_trackers.service:SpecializedTrackersService", 3012),
        Process("sessions", "services.sessions.service:SessionsService", 3010),
        Process("ai_context", "services.ai_context.service:AiContextService", 3002, dials_out=True),
        Process("export_reports", "services.export_reports.service:ExportReportsService", 3008, dials_out=True),
    )
}

GATEWAY = Process("gateway", "gateway.service:GatewayService", 3000)


def all_processes() -> list[Process]:
    return [*SERVICES.values(), GATEWAY]

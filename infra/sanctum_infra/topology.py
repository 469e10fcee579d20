"""Which containers run on which hosts in each phase (the seed's deployment diagrams).

Names are compose service names: the hosts start them with `docker compose up -d NAME...`,
so they must match compose.yaml at the repository root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import ClusterSize

PHASES = (1, 2, 3)

SERVICES = (
    "user_management",
    "ai_context",
    "mood_tracking",
    "episode_tracking",
    "dbt_diary",
    "therapeutic_content",
    "pattern_analysis",
    "export_reports",
    "notifications",
    "sessions",
    "medications",
    "specialized_trackers",
)
EDGE = ("nginx", "gateway")
DATA = ("postgres", "redis", "rabbitmq")
ANALYTICS = ("pattern_analysis", "export_reports")
BACKEND = tuple(name for name in SERVICES if name not in ANALYTICS)


@dataclass(frozen=True)
class ClusterRole:
    name: str
    containers: tuple[str, ...]
    # Receives HTTPS from the load balancer (nginx + gateway run there).
    serves_http: bool
    # Scales on ALB requests per target rather than CPU.
    scale_on_requests: bool = False


_CLUSTERS: dict[int, tuple[ClusterRole, ...]] = {
    1: (ClusterRole("host", EDGE + SERVICES + DATA, serves_http=True),),
    2: (ClusterRole("app", EDGE + SERVICES, serves_http=True),),
    3: (
        ClusterRole("frontend", EDGE, serves_http=True, scale_on_requests=True),
        ClusterRole("backend", BACKEND, serves_http=False),
        ClusterRole("analytics", ANALYTICS, serves_http=False),
    ),
}


def clusters_for(phase: int) -> tuple[ClusterRole, ...]:
    return _CLUSTERS.get(phase, ())


def default_sizes(phase: int) -> dict[str, ClusterSize]:
    from .settings import ClusterSize

    defaults = {
        1: {"host": ClusterSize(instance_type="t3.medium", min_size=1, max_size=1, desired=1)},
        2: {"app": ClusterSize(instance_type="t3.medium", min_size=3, max_size=6, desired=3)},
        3: {
            "frontend": ClusterSize(instance_type="t3.small", min_size=2, max_size=4, desired=2),
            "backend": ClusterSize(instance_type="t3.medium", min_size=2, max_size=6, desired=2),
            "analytics": ClusterSize(instance_type="t3.medium", min_size=1, max_size=3, desired=1),
        },
    }
    return defaults.get(phase, {})

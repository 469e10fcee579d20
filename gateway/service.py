"""The HTTP gateway: the only public entry, a nameko @http service.

It verifies tokens and validates input itself, then calls the domain services
over RPC with plain dicts. Routes are grouped by domain in gateway/routes/.
"""

from gateway.routes.accounts import AccountRoutes
from gateway.routes.assistant import AssistantRoutes
from gateway.routes.crisis import CrisisRoutes
from gateway.routes.dbt import DiaryRoutes
from gateway.routes.episodes import EpisodeRoutes
from gateway.routes.exports import ExportRoutes
from gateway.routes.medications import MedicationRoutes
from gateway.routes.mood import MoodRoutes
from gateway.routes.notifications import NotificationRoutes
from gateway.routes.people import PeopleRoutes
from gateway.routes.skills import SkillRoutes
from gateway.routes.system import SystemRoutes
from gateway.routes.trackers import TrackerRoutes


class GatewayService(SystemRoutes, AccountRoutes, PeopleRoutes, MoodRoutes, CrisisRoutes,
                     SkillRoutes, DiaryRoutes, EpisodeRoutes, MedicationRoutes, TrackerRoutes,
                     NotificationRoutes, AssistantRoutes, ExportRoutes):
    name = "gateway"

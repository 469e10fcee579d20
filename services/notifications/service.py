"""Notifications: crisis alerts to confirmed emergency contacts, and the
invitations that ask contacts for their consent; by email and SMS.
"""

import logging

from services.kit.errors import NotFound
from services.kit.events import event_handler
from services.kit.rpc import RpcClient, rpc
from services.kit.service import DomainService
from services.notifications import delivery

log = logging.getLogger(__name__)


class NotificationsService(DomainService):
    name = "notifications"
    users = RpcClient("user_management")
    delivery = delivery.Delivery()

    @event_handler("pattern_analysis", "crisis.detected")
    def alert_contacts(self, event):
        crisis = event["data"]
        try:
            context = self.users.alert_context(crisis["user_id"])
        except NotFound:
            log.info("crisis %s: the account no longer exists", crisis["crisis_id"])
            return
        planned = delivery.plan_crisis_alerts(self.db, crisis, context)
        if not context["contacts"]:
            log.warning("crisis %s: the user has no confirmed contact to alert", crisis["crisis_id"])
        self.db.on_commit(self.delivery.wake)
        log.info("crisis %s: %d alerts planned", crisis["crisis_id"], planned)

    @event_handler("user_management", "contact.invited")
    def invite_contact(self, event):
        delivery.plan_invitation(self.db, event)
        self.db.on_commit(self.delivery.wake)

    @rpc
    def list_alerts(self, user_id: str) -> list:
        return delivery.alerts_for(self.db, user_id)

    @rpc
    def crisis_line(self, country: str | None) -> dict:
        """Where to turn in ``country`` (a fallback for any other): safety plans quote it."""
        return delivery.crisis_line(self.db, country)

"""Notifications: the crisis escalation ladder (the user first, then each confirmed
contact in turn until someone acknowledges), invitations asking contacts for
their consent, reminders the user sets, missed-dose notes, and a gentle check-in
when logging goes quiet; by email and SMS, each message exactly once.
"""

import logging
from datetime import datetime

from services.kit.errors import NotFound, Unprocessable
from services.kit.events import VIEW_PATIENCE_MS, batch_event_handler, event_handler
from services.kit.profiles import ProfileCopy, save_timezone
from services.kit.rpc import RpcClient, rpc
from services.kit.service import DomainService
from services.kit.telemetry import ServiceFigures
from services.notifications import (
    delivery,
    escalation,
    follow_ups,
    messages,
    preferences,
    quiet,
    reminders,
)
from services.notifications.channels import settings
from services.notifications.delivery import sample_figures
from services.notifications.models import Recipient
from services.notifications.scheduler import (
    CHECK_IN_CONTACT_DUE,
    FOLLOW_UP_DUE,
    STEP_DUE,
    Scheduler,
    links,
)

log = logging.getLogger(__name__)
NAME = "notifications"
ACKNOWLEDGED = "crisis.acknowledged"


class NotificationsService(ProfileCopy, DomainService):
    name = NAME
    users = RpcClient("user_management")
    medications = RpcClient("medications")
    delivery = delivery.Delivery()
    scheduler = Scheduler()
    figures = ServiceFigures(sample=sample_figures)

    # --- the escalation ladder ------------------------------------------------------------
    def _context(self, user_id: str) -> dict | None:
        try:
            return self.users.alert_context(user_id)
        except NotFound:
            return None  # the account is gone

    def _run_step(self, crisis_id: str, step: int, context: dict, chosen: dict) -> int:
        line = delivery.crisis_line(self.db, context["user"].get("country"))
        planned = escalation.run_due_step(self.db, crisis_id, step, context, line, chosen, links())
        self.db.on_commit(self.delivery.wake)
        return planned

    @event_handler("pattern_analysis", "crisis.detected")
    def open_crisis(self, event):
        """The first step at once (the user's prompt, or contact 1); the rest by the clock."""
        self._open_crisis(event["data"])

    @event_handler("ai_context", "crisis.requested")
    def open_requested_crisis(self, event):
        """The user said yes to the assistant's offer to alert their contacts."""
        self._open_crisis(event["data"])

    def _open_crisis(self, crisis: dict) -> None:
        context = self._context(crisis["user_id"])
        if context is None:
            log.info("crisis %s: the account no longer exists", crisis["crisis_id"])
            return
        chosen = preferences.of(self.db, crisis["user_id"])
        if not escalation.open_crisis(self.db, crisis, context, chosen):
            return  # seen before
        if not context["contacts"]:
            log.warning("crisis %s: the user has no confirmed contact to alert", crisis["crisis_id"])
        planned = self._run_step(crisis["crisis_id"], 0, context, chosen)
        log.info("crisis %s: ladder opened, %d messages planned", crisis["crisis_id"], planned)

    @event_handler(NAME, STEP_DUE)
    def run_step(self, event):
        due = event["data"]
        context = self._context(due["user_id"])
        if context is not None:
            planned = self._run_step(due["crisis_id"], due["step"], context,
                                     preferences.of(self.db, due["user_id"]))
            log.info("crisis %s: step %d, %d messages planned", due["crisis_id"], due["step"], planned)

    @rpc
    def list_crises(self, user_id: str) -> list:
        return escalation.crises_of(self.db, user_id)

    @rpc
    def get_crisis(self, user_id: str, crisis_id: str) -> dict:
        return escalation.crisis_of(self.db, user_id, crisis_id)

    @rpc
    def acknowledge(self, user_id: str, crisis_id: str, answer: str) -> dict:
        """The user's own "I'm safe" / "I'm using my plan": the ladder stops."""
        crisis = escalation.acknowledge_by_user(self.db, user_id, crisis_id, answer)
        self._acknowledged(user_id, crisis_id, crisis["acknowledged_at"])
        return crisis

    @rpc
    def acknowledge_by_link(self, token: str, answer: str) -> dict:
        """From a one-time link in a prompt or an alert (no login)."""
        result = escalation.acknowledge_by_link(self.db, token, answer, settings().ack_link_hours)
        self._acknowledged(result.pop("user_id"), result["crisis_id"], result.pop("acknowledged_at"))
        return result

    def _acknowledged(self, user_id: str, crisis_id: str, at: str) -> None:
        self.events.dispatch(ACKNOWLEDGED, {"user_id": user_id, "crisis_id": crisis_id,
                                            "acknowledged_at": at}, subject_id=user_id)

    @rpc
    def crisis_audit(self, crisis_id: str) -> dict:
        """For operators: steps, sends and times; no names, addresses or rules."""
        return escalation.audit_trail(self.db, crisis_id)

    @rpc
    def list_alerts(self, user_id: str) -> list:
        return delivery.alerts_for(self.db, user_id)

    @rpc
    def crisis_line(self, country: str | None) -> dict:
        """Where to turn in ``country`` (a fallback for any other): safety plans quote it."""
        return delivery.crisis_line(self.db, country)

    # --- invitations -------------------------------------------------------------------------
    @event_handler("user_management", "contact.invited")
    def invite_contact(self, event):
        delivery.plan_invitation(self.db, event)
        self.db.on_commit(self.delivery.wake)

    # --- preferences -------------------------------------------------------------------------
    @rpc
    def get_preferences(self, user_id: str) -> dict:
        return preferences.of(self.db, user_id)

    @rpc
    def set_preferences(self, user_id: str, changes: dict) -> dict:
        for field in ("check_in_contact_id", "dose_contact_id"):
            if changes.get(field):
                self._own_contact(user_id, changes[field], field)
        chosen, changed = preferences.update(self.db, user_id, changes)
        if changed & {"quiet_start", "quiet_end"}:
            reminders.reschedule_all(self.db, user_id)
        return chosen

    def _own_contact(self, user_id: str, contact_id: str, field: str) -> None:
        try:
            self.users.get_contact(user_id, contact_id)
        except NotFound:
            raise Unprocessable(fields={field: ["Not one of your contacts."]}) from None

    # --- reminders ---------------------------------------------------------------------------
    @rpc
    def list_reminders(self, user_id: str) -> list:
        return reminders.reminders.list(self.db, user_id)

    @rpc
    def get_reminder(self, user_id: str, reminder_id: str) -> dict:
        return reminders.reminders.get(self.db, user_id, reminder_id)

    @rpc
    def create_reminder(self, user_id: str, data: dict) -> dict:
        medication = None
        if data["kind"] == "medication":
            try:
                medication = self.users.get_medication(user_id, data["medication_id"])
            except NotFound:
                raise Unprocessable(fields={"medication_id": ["Not one of your medications."]}) from None
        return reminders.create(self.db, user_id, data, medication)

    @rpc
    def update_reminder(self, user_id: str, reminder_id: str, changes: dict) -> dict:
        return reminders.update(self.db, user_id, reminder_id, changes)

    @rpc
    def delete_reminder(self, user_id: str, reminder_id: str) -> None:
        reminders.reminders.delete(self.db, user_id, reminder_id)

    @rpc
    def snooze_reminder(self, token: str, minutes: int) -> dict:
        return reminders.snooze(self.db, token, minutes)

    @event_handler("user_management", "medication.saved")
    def follow_medication(self, event):
        reminders.follow_medication(self.db, event["data"])

    @event_handler("user_management", "medication.deleted")
    def forget_medication(self, event):
        reminders.forget_medication(self.db, event["data"]["medication_id"])

    @event_handler("user_management", "user.profile_changed")
    def remember_timezone(self, event):
        data = event["data"]
        save_timezone(self.db, data["user_id"], data["timezone"],
                      datetime.fromisoformat(event["occurred_at"]))
        reminders.reschedule_all(self.db, data["user_id"])  # reminders keep their local times

    @event_handler("user_management", "user.reach_changed")
    def remember_reach(self, event):
        reminders.save_recipient(self.db, event["data"], datetime.fromisoformat(event["occurred_at"]))

    # --- missed doses ------------------------------------------------------------------------
    @event_handler("medications", "medication.dose_missed")
    def dose_missed(self, event):
        follow_ups.dose_missed(self.db, event["data"], links())
        self.db.on_commit(self.delivery.wake)

    @event_handler(NAME, FOLLOW_UP_DUE)
    def tell_dose_contact(self, event):
        due = event["data"]
        still_missed = any(
            m["medication_id"] == due["medication_id"] and not m["logged_since"]
            and datetime.fromisoformat(m["scheduled_for"]) == datetime.fromisoformat(due["scheduled_for"])
            for m in self.medications.missed_doses(due["user_id"]))
        context = self._context(due["user_id"])
        if still_missed and context is not None:
            follow_ups.tell_contact(self.db, due, context, links())
            self.db.on_commit(self.delivery.wake)

    # --- exports ------------------------------------------------------------------------
    @event_handler("export_reports", "export.ready")
    def export_ready(self, event):
        data = event["data"]
        recipient = self.db.get(Recipient, data["user_id"])
        if recipient is None:
            return
        subject, body, sms = messages.export_ready_text(f"{links()['exports']}/{data['job_id']}")
        if escalation.plan_one(self.db, {"email": recipient.email, "phone": recipient.phone}, subject,
                               body, sms, user_id=data["user_id"], kind="export_ready",
                               reference=data["job_id"], contact_id=data["user_id"],
                               contact_name="you", priority=60):
            self.db.on_commit(self.delivery.wake)

    @event_handler("export_reports", "export.shared")
    def report_shared(self, event):
        """The provider gets the one-time link by email (the only address shares go to)."""
        data = event["data"]
        link = f"{links()['shared_report']}?token={data['token']}"
        subject, body, sms = messages.report_shared_text(data.get("sharer_name"), link, data["expires_at"])
        if escalation.plan_one(self.db, {"email": data["email"]}, subject, body, sms,
                               user_id=data["user_id"], kind="report_share", reference=data["share_id"],
                               contact_id=data["provider_id"], contact_name=data["provider_name"],
                               priority=60):
            self.db.on_commit(self.delivery.wake)

    # --- when logging goes quiet -----------------------------------------------------------
    @batch_event_handler("mood_tracking", "mood.shift.logged", patience_ms=VIEW_PATIENCE_MS)
    def shifts_logged(self, events):
        quiet.record_activity(self.db, events)

    @batch_event_handler("dbt_diary", "dbt.card.saved")
    def cards_saved(self, events):
        quiet.record_activity(self.db, events)

    @event_handler(NAME, CHECK_IN_CONTACT_DUE)
    def tell_check_in_contact(self, event):
        context = self._context(event["data"]["user_id"])
        if context is not None and quiet.plan_contact(self.db, event["data"], context, links()):
            self.db.on_commit(self.delivery.wake)

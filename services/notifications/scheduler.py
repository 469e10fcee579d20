"""The notifications clock, in every instance: due ladder steps, reminders, missed-dose
follow-ups and quiet check-ins, each claimed in PostgreSQL (SKIP LOCKED), so any number
of instances share the work and each piece is done once. Whatever needs another
service (who the contacts are now) is handed on as an event, in the claim's
transaction; reminders are planned right here."""

from __future__ import annotations

import logging
import time

from nameko.extensions import DependencyProvider

from services.kit.db import database_of, session_scope
from services.kit.events.outbox import dispatcher_of
from services.kit.loops import WakeableLoop
from services.kit.records import utcnow
from services.notifications import escalation, follow_ups, quiet, reminders
from services.notifications.channels import settings
from services.notifications.delivery import Delivery

log = logging.getLogger(__name__)
STEP_DUE = "crisis.step_due"
FOLLOW_UP_DUE = "dose.follow_up_due"
CHECK_IN_CONTACT_DUE = "check_in.contact_due"
REMINDER_BATCH = 200


def links() -> dict:
    """Where the links in messages lead (the app's pages, which call the API)."""
    base = settings().app_base_url
    return {"ack": f"{base}/respond", "safety_plan": f"{base}/safety-plan",
            "withdraw": f"{base}/consent/withdraw", "snooze": f"{base}/reminders/snooze",
            "doses": f"{base}/medications", "exports": f"{base}/exports",
            "shared_report": f"{base}/shared-report"}


class Scheduler(DependencyProvider):
    def setup(self):
        self.database = database_of(self.container, "Scheduler")

    def start(self):
        self.events = dispatcher_of(self.container)
        self.links = links()
        self._last_quiet_look = 0.0
        self.quiet_every = settings().quiet_check_every_seconds
        self.loop = WakeableLoop("notifications scheduler", self.step,
                                 idle_seconds=settings().scheduler_every_seconds)
        self.container.spawn_managed_thread(self.loop.run, identifier="scheduler")

    def stop(self):
        self.loop.stop()

    def get_dependency(self, worker_ctx):
        return self.loop

    def step(self) -> bool:
        self.hand_on(escalation.claim_due, STEP_DUE)
        self.hand_on(follow_ups.claim_due, FOLLOW_UP_DUE)
        if time.monotonic() - self._last_quiet_look > self.quiet_every:
            self.hand_on(lambda db: quiet.claim_quiet(db, utcnow()), CHECK_IN_CONTACT_DUE)
            self._last_quiet_look = time.monotonic()
        with session_scope(self.database) as db:
            fired = reminders.fire_due(db, self.links, limit=REMINDER_BATCH)
            if fired:
                db.on_commit(self.wake_delivery)
        return fired == REMINDER_BATCH  # a full batch: there may be more due now

    def hand_on(self, claim, event_type: str) -> None:
        with session_scope(self.database) as db:
            for due in claim(db):
                self.events.dispatch_in(db, event_type, due, subject_id=due["user_id"])

    def wake_delivery(self) -> None:
        for dependency in self.container.dependencies:
            if isinstance(dependency, Delivery):
                dependency.deliverer.loop.wake()

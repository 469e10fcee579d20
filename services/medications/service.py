"""Medication tracking: doses logged against the schedule, side effects, changes
(from their date forward), adherence per week, and missed doses: a scheduled dose
with no log publishes ``medication.dose_missed``, exactly once whatever the number
of instances running (the claim is a row in PostgreSQL)."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from nameko.extensions import DependencyProvider

from services.kit import config
from services.kit.db import database_of, session_scope
from services.kit.errors import Unprocessable
from services.kit.events import event_handler
from services.kit.events.outbox import dispatcher_of
from services.kit.loops import WakeableLoop
from services.kit.profiles import ProfileCopy
from services.kit.records import utcnow
from services.kit.rpc import RpcClient, rpc
from services.kit.service import DomainService
from services.medications import doses

log = logging.getLogger(__name__)
MISSED = "medication.dose_missed"


@dataclass(frozen=True)
class MedicationSettings:
    SECTION = "MEDICATIONS"
    # A scheduled dose with no log this long after it was due is missed.
    missed_after_minutes: int
    # How far back the check looks (a new deployment does not report last month).
    look_back_hours: int
    check_every_seconds: float


class MissedDoseWatch(DependencyProvider):
    """Every few seconds, in every instance: claim the doses missed since the last look,
    and publish each claimed one (the claim and the event commit together)."""

    def setup(self):
        self.database = database_of(self.container, "MissedDoseWatch")

    def start(self):
        self.settings = config.settings(MedicationSettings)
        self.events = dispatcher_of(self.container)
        self.loop = WakeableLoop("missed doses", self.step,
                                 idle_seconds=self.settings.check_every_seconds)
        self.container.spawn_managed_thread(self.loop.run, identifier="missed_doses")

    def stop(self):
        self.loop.stop()

    def step(self) -> bool:
        # A background loop, not a worker: a session and transaction of its own.
        with session_scope(self.database) as db:
            for missed in doses.claim_missed(
                    db, utcnow(), timedelta(minutes=self.settings.missed_after_minutes),
                    timedelta(hours=self.settings.look_back_hours)):
                self.events.dispatch_in(db, MISSED, missed, subject_id=missed["user_id"])
                log.info("dose of medication %s missed", missed["medication_id"])
        return False


class MedicationsService(ProfileCopy, DomainService):
    name = "medications"
    users = RpcClient("user_management")
    watch = MissedDoseWatch()

    def _medication(self, user_id: str, medication_id: str) -> dict:
        """The user's medication, as the list says it now (404 if not theirs, or gone)."""
        return self.users.get_medication(user_id, medication_id)

    # --- doses ------------------------------------------------------------------------
    @rpc
    def log_dose(self, user_id: str, medication_id: str, data: dict) -> dict:
        return doses.log_dose(self.db, user_id, self._medication(user_id, medication_id), data)

    @rpc
    def list_doses(self, user_id: str, query: dict, medication_id: str | None = None) -> list:
        if medication_id:
            self._medication(user_id, medication_id)
        return doses.doses(self.db, user_id, query["from"], query["to"], medication_id)

    @rpc
    def adherence(self, user_id: str, query: dict) -> list:
        medications = [m for m in self.users.list_medications(user_id)
                       if not m["schedule"].get("as_needed")]
        return doses.adherence(self.db, user_id, medications, query["from"], query["to"])

    @rpc
    def missed_doses(self, user_id: str) -> list:
        return doses.missed_in(self.db, user_id)

    # --- side effects --------------------------------------------------------------------
    @rpc
    def add_side_effect(self, user_id: str, medication_id: str, data: dict) -> dict:
        self._medication(user_id, medication_id)
        return doses.side_effects.create(self.db, user_id, {**data, "medication_id": medication_id})

    @rpc
    def update_side_effect(self, user_id: str, side_effect_id: str, changes: dict) -> dict:
        return doses.side_effects.update(self.db, user_id, side_effect_id, changes)

    @rpc
    def delete_side_effect(self, user_id: str, side_effect_id: str) -> None:
        doses.side_effects.delete(self.db, user_id, side_effect_id)

    @rpc
    def list_side_effects(self, user_id: str, query: dict, medication_id: str | None = None) -> list:
        if medication_id:
            self._medication(user_id, medication_id)
        return doses.side_effects_in(self.db, user_id, query["from"], query["to"], medication_id)

    # --- changes ------------------------------------------------------------------------------
    @rpc
    def record_change(self, user_id: str, medication_id: str, data: dict) -> dict:
        medication = self._medication(user_id, medication_id)
        prescriber = data.get("prescriber_id")
        if prescriber and prescriber not in {p["provider_id"] for p in self.users.list_providers(user_id)}:
            raise Unprocessable(fields={"prescriber_id": ["Not one of your healthcare providers."]})
        row, list_update = doses.plan_change(self.db, user_id, medication, data)
        if list_update:
            # The list says what is prescribed now; the history stays here. The list is
            # changed first: a row here referring to the medication would hold a lock on
            # it that user management's update waits for.
            doses.remember(self.db, user_id, self.users.update_medication(
                user_id, medication_id, list_update))
        return doses.save_change(self.db, row)

    @rpc
    def list_changes(self, user_id: str, medication_id: str | None = None) -> list:
        if medication_id:
            self._medication(user_id, medication_id)
        return doses.changes(self.db, user_id, medication_id)

    # --- the copy of the list -----------------------------------------------------------------
    @event_handler("user_management", "medication.saved")
    def remember_medication(self, event):
        data = event["data"]
        doses.remember(self.db, data["user_id"], data)

    @event_handler("user_management", "medication.deleted")
    def forget_medication(self, event):
        doses.forget_prescription(self.db, event["data"]["medication_id"])

"""Medication tracking: doses against the schedule, side effects, changes, adherence.
(The medication list itself is in routes/people.py.)"""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import medications as s
from gateway.schemas.common import DayRange, day_range


class MedicationRoutes(ServiceClients):
    @route("POST", "/api/v1/medications/<medication_id>/doses", body=s.DoseFields, response=s.Dose,
           status=201, tags=["medication tracking"], errors=[422])
    def log_dose(self, call, medication_id):
        """Log a dose (taken, late, skipped); a repeat for the same scheduled dose answers
        with the first."""
        return self.medications.log_dose(call.user_id, medication_id, call.body)

    @route("GET", "/api/v1/medications/<medication_id>/doses", query=DayRange,
           response=s.Dose(many=True), tags=["medication tracking"], errors=[422])
    def list_medication_doses(self, call, medication_id):
        return self.medications.list_doses(call.user_id, day_range(call.query), medication_id)

    @route("GET", "/api/v1/medications/doses", query=DayRange, response=s.Dose(many=True),
           tags=["medication tracking"], errors=[422])
    def list_doses(self, call):
        """Every dose logged in [from, to], newest first."""
        return self.medications.list_doses(call.user_id, day_range(call.query))

    @route("GET", "/api/v1/medications/adherence", query=DayRange,
           response=s.AdherenceWeek(many=True), tags=["medication tracking"], errors=[422])
    def adherence(self, call):
        """Per medication and week: doses due, taken, late, skipped, missed."""
        return self.medications.adherence(call.user_id, day_range(call.query))

    @route("GET", "/api/v1/medications/missed", response=s.MissedDose(many=True),
           tags=["medication tracking"])
    def missed_doses(self, call):
        """Scheduled doses that were not logged, as they were noticed."""
        return self.medications.missed_doses(call.user_id)

    # --- side effects --------------------------------------------------------------------
    @route("POST", "/api/v1/medications/<medication_id>/side-effects", body=s.SideEffectCreate,
           response=s.SideEffect, status=201, tags=["medication tracking"], errors=[422])
    def add_side_effect(self, call, medication_id):
        return self.medications.add_side_effect(call.user_id, medication_id, call.body)

    @route("GET", "/api/v1/medications/<medication_id>/side-effects", query=DayRange,
           response=s.SideEffect(many=True), tags=["medication tracking"], errors=[422])
    def list_medication_side_effects(self, call, medication_id):
        return self.medications.list_side_effects(call.user_id, day_range(call.query), medication_id)

    @route("GET", "/api/v1/medications/side-effects", query=DayRange,
           response=s.SideEffect(many=True), tags=["medication tracking"], errors=[422])
    def list_side_effects(self, call):
        """Side effects going on at any time in [from, to]."""
        return self.medications.list_side_effects(call.user_id, day_range(call.query))

    @route("PATCH", "/api/v1/medications/side-effects/<side_effect_id>", body=s.SideEffectUpdate,
           response=s.SideEffect, tags=["medication tracking"], errors=[422])
    def update_side_effect(self, call, side_effect_id):
        return self.medications.update_side_effect(call.user_id, side_effect_id, call.body)

    @route("DELETE", "/api/v1/medications/side-effects/<side_effect_id>", status=204,
           tags=["medication tracking"])
    def delete_side_effect(self, call, side_effect_id):
        self.medications.delete_side_effect(call.user_id, side_effect_id)

    # --- changes ---------------------------------------------------------------------------
    @route("POST", "/api/v1/medications/<medication_id>/changes", body=s.ChangeFields,
           response=s.Change, status=201, tags=["medication tracking"], errors=[422])
    def record_change(self, call, medication_id):
        """Started, stopped, a new dose, switched: from its date forward; the list follows."""
        return self.medications.record_change(call.user_id, medication_id, call.body)

    @route("GET", "/api/v1/medications/<medication_id>/changes", response=s.Change(many=True),
           tags=["medication tracking"])
    def list_changes(self, call, medication_id):
        return self.medications.list_changes(call.user_id, medication_id)

"""Schemas for medication tracking: doses, side effects, changes, adherence."""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    Int,
    Number,
    PatchSchema,
    RequestSchema,
    Timestamps,
    Uuid,
    day,
    free_text,
    moment,
    past_moment,
    stamp,
    text,
)
from gateway.schemas.people import Schedule
from services.kit.contracts.medications import (
    CHANGE_KINDS,
    DOSE_STATUSES,
    SIDE_EFFECT_SEVERITY_MAX,
    SIDE_EFFECTS,
    UNITS,
)

AMOUNT = validate.Range(min=0.001, max=100000)


class DoseFields(RequestSchema):
    status = fields.String(required=True, validate=validate.OneOf(DOSE_STATUSES))
    amount = Number(validate=AMOUNT, allow_none=True,
                    metadata={"description": "what was actually taken, if not as prescribed"})
    unit = fields.String(validate=validate.OneOf(UNITS), allow_none=True)
    taken_at = past_moment(metadata={"description": "default: now"})
    scheduled_for = moment(metadata={"description": "the scheduled dose it is for (default: the "
                                                    "nearest within six hours)"})


class Dose(DoseFields):
    dose_id = fields.UUID(dump_only=True)
    medication_id = fields.UUID(dump_only=True)
    taken_at = stamp()
    scheduled_for = stamp(allow_none=True)
    off_prescription = fields.Boolean(dump_only=True)
    created_at = stamp()


class SideEffectFields(RequestSchema):
    effect = fields.String(validate=validate.OneOf(SIDE_EFFECTS))
    description = free_text(500, allow_none=True)
    severity = Int(validate=validate.Range(min=0, max=SIDE_EFFECT_SEVERITY_MAX),
                   metadata={"description": "0 none, 1 mild, 2 moderate, 3 severe"})
    started_on = day()
    ended_on = day(allow_none=True)

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        if loaded.get("effect") == "other" and not loaded.get("description"):
            return {"description": "Say what the effect is."}
        if loaded.get("ended_on") and loaded.get("started_on") and loaded["ended_on"] < loaded["started_on"]:
            return {"ended_on": "Cannot be before started_on."}
        return {}


class SideEffectCreate(SideEffectFields):
    effect = fields.String(required=True, validate=validate.OneOf(SIDE_EFFECTS))
    severity = Int(required=True, validate=validate.Range(min=0, max=SIDE_EFFECT_SEVERITY_MAX))
    started_on = day(required=True)


class SideEffectUpdate(PatchSchema, SideEffectFields):
    pass


class SideEffect(SideEffectFields, Timestamps):
    side_effect_id = fields.UUID(dump_only=True)
    medication_id = fields.UUID(dump_only=True)


class NewPrescription(RequestSchema):
    min_properties = 1
    name = text(120)
    dose = text(60)
    dose_amount = Number(validate=AMOUNT, allow_none=True)
    dose_unit = fields.String(validate=validate.OneOf(UNITS), allow_none=True)
    schedule = fields.Nested(Schedule)


class ChangeFields(RequestSchema):
    kind = fields.String(required=True, validate=validate.OneOf(CHANGE_KINDS))
    effective_date = day(required=True, metadata={"description": "today or earlier"})
    reason = free_text(500, allow_none=True)
    prescriber_id = Uuid(allow_none=True, metadata={"description": "one of your providers"})
    new = fields.Nested(NewPrescription, metadata={
        "description": "what the prescription is from that date (a new dose, a new name)"})

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        new = loaded.get("new") or {}
        if loaded["kind"] == "dose_changed" and not ({"dose", "dose_amount", "schedule"} & set(new)):
            return {"new": "Give the new dose."}
        if loaded["kind"] == "switched" and "name" not in new:
            return {"new": "Give the medication switched to."}
        return {}


class Change(ChangeFields):
    change_id = fields.UUID(dump_only=True)
    medication_id = fields.UUID(dump_only=True)
    before = fields.Dict(dump_only=True)
    after = fields.Dict(dump_only=True)
    created_at = stamp()


class AdherenceWeek(Schema):
    medication_id = fields.UUID()
    name = fields.String()
    week_start = fields.String(metadata={"format": "date"})
    scheduled = fields.Integer(metadata={"description": "doses due so far"})
    taken = fields.Integer()
    late = fields.Integer()
    skipped = fields.Integer()
    missed = fields.Integer(metadata={"description": "due, and no log at all"})
    off_prescription = fields.Integer()
    percentage = fields.Float(allow_none=True, metadata={"description": "taken or late, of due"})


class MissedDose(Schema):
    medication_id = fields.UUID()
    scheduled_for = stamp()
    detected_at = stamp()
    logged_since = fields.Boolean(metadata={"description": "logged after it was noticed missing"})

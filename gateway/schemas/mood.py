"""Schemas for mood shifts, daily baselines and rapid-cycling days."""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    Flag,
    Int,
    Number,
    PatchSchema,
    RequestSchema,
    free_text,
    moment,
    past_moment,
    stamp,
    text,
)
from services.kit.contracts.mood import LEVEL_MAX, LEVEL_MIN, SEVERITY_LABELS, STATES

LEVEL = validate.Range(min=LEVEL_MIN, max=LEVEL_MAX)
CURSOR = r"^[A-Za-z0-9_\-]*$"


class MoodState(RequestSchema):
    level = Int(required=True, validate=LEVEL, metadata={
        "description": "Life Chart scale: -4 severe depression .. +4 severe elevation"})
    mixed = Flag(load_default=False, metadata={"description": "elevated and depressed at once"})
    state = fields.String(validate=validate.OneOf(STATES), allow_none=True,
                          metadata={"description": "a named state beside the number"})


class ShiftValues(RequestSchema):
    """What a shift says besides where the mood went: request and response alike."""

    intensity = Int(validate=validate.Range(min=1, max=10))
    triggers = fields.List(text(60), validate=validate.Length(max=10))
    note = free_text(2000, allow_none=True)
    sleep_hours = Number(validate=validate.Range(min=0, max=24), allow_none=True)


class ShiftFields(ShiftValues):
    timestamp = past_moment(metadata={
        "description": "when it happened (default: now); with a UTC offset, "
                       "not in the future, not before 2000"})
    previous = fields.Nested(MoodState)
    current = fields.Nested(MoodState)


class ShiftCreate(ShiftFields):
    previous = fields.Nested(MoodState, required=True)
    current = fields.Nested(MoodState, required=True)
    intensity = Int(required=True, validate=validate.Range(min=1, max=10))


class ShiftUpdate(PatchSchema, ShiftFields):
    pass


class Shift(ShiftValues):
    shift_id = fields.UUID(dump_only=True)
    timestamp = stamp()
    local_date = fields.String(dump_only=True, metadata={"format": "date"})
    previous = fields.Nested(MoodState, dump_only=True)
    current = fields.Nested(MoodState, dump_only=True)
    created_at = stamp()
    updated_at = stamp()


class ShiftPage(Schema):
    items = fields.List(fields.Nested(Shift))
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "pass as ?cursor= for the next page"})


class ShiftQuery(RequestSchema):
    from_ = moment(data_key="from")
    to = moment()
    limit = fields.Integer(load_default=50,  # query strings are text: not strict
                           validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=[validate.Length(max=200), validate.Regexp(CURSOR)])

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        if loaded.get("from_") and loaded.get("to") and loaded["from_"] >= loaded["to"]:
            return {"to": "Must be after 'from'."}
        return {}


class Baseline(Schema):
    day = fields.String(metadata={"format": "date"})
    peak_elevation = fields.Integer()
    peak_depression = fields.Integer()
    irritability = fields.String(metadata={"enum": list(SEVERITY_LABELS)})
    anxiety = fields.String(metadata={"enum": list(SEVERITY_LABELS)})
    mixed = fields.Boolean()
    sleep_hours = fields.Float(allow_none=True)
    shift_count = fields.Integer()


class RapidCyclingDay(Schema):
    day = fields.String(metadata={"format": "date"})
    crossings = fields.Integer()
    detected_at = stamp()

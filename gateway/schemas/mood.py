"""Schemas for mood shifts, daily baselines and rapid-cycling days."""

from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from gateway.schemas.common import PatchSchema, RequestSchema, Trimmed
from services.kit.contracts.mood import LEVEL_MAX, LEVEL_MIN, SEVERITY_LABELS, STATES

LEVEL = validate.Range(min=LEVEL_MIN, max=LEVEL_MAX)
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)


def not_before_2000(value: datetime) -> None:
    if value < EARLIEST:
        raise ValidationError("Must be in the year 2000 or later.")


class MoodStateIn(RequestSchema):
    level = fields.Integer(strict=True, required=True, validate=LEVEL,
                           metadata={"description": "Life Chart scale: -4 severe depression .. +4 severe elevation"})
    mixed = fields.Boolean(load_default=False)
    state = fields.String(validate=validate.OneOf(STATES), allow_none=True,
                          metadata={"description": "a named state beside the number"})


class ShiftFields(RequestSchema):
    timestamp = fields.AwareDateTime(validate=not_before_2000, metadata={"description": "when it happened (default: now); "
                                                              "with a UTC offset, not in the future"})
    previous = fields.Nested(MoodStateIn)
    current = fields.Nested(MoodStateIn)
    intensity = fields.Integer(strict=True, validate=validate.Range(min=1, max=10))
    triggers = fields.List(Trimmed(validate=validate.Length(min=1, max=60)),
                           validate=validate.Length(max=10))
    note = Trimmed(validate=validate.Length(max=2000), allow_none=True)
    sleep_hours = fields.Float(validate=validate.Range(min=0, max=24), allow_none=True)


class ShiftCreate(ShiftFields):
    previous = fields.Nested(MoodStateIn, required=True)
    current = fields.Nested(MoodStateIn, required=True)
    intensity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=10))


class ShiftUpdate(PatchSchema, ShiftFields):
    pass


class MoodStateOut(Schema):
    level = fields.Integer()
    mixed = fields.Boolean()
    state = fields.String(allow_none=True)


class Shift(Schema):
    shift_id = fields.UUID()
    timestamp = fields.String()
    local_date = fields.String()
    previous = fields.Nested(MoodStateOut)
    current = fields.Nested(MoodStateOut)
    intensity = fields.Integer()
    triggers = fields.List(fields.String())
    note = fields.String(allow_none=True)
    sleep_hours = fields.Float(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()


class ShiftPage(Schema):
    items = fields.List(fields.Nested(Shift))
    next_cursor = fields.String(allow_none=True, metadata={"description": "pass as ?cursor= for the next page"})


class ShiftQuery(RequestSchema):
    from_ = fields.AwareDateTime(data_key="from", validate=not_before_2000)
    to = fields.AwareDateTime(validate=not_before_2000)
    limit = fields.Integer(load_default=50,  # query strings are text: not strict
                           validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200))

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["from_"] >= data["to"]:
            raise ValidationError("Must be after 'from'.", "to")


class Baseline(Schema):
    day = fields.String()
    peak_elevation = fields.Integer()
    peak_depression = fields.Integer()
    irritability = fields.String(metadata={"enum": list(SEVERITY_LABELS)})
    anxiety = fields.String(metadata={"enum": list(SEVERITY_LABELS)})
    mixed = fields.Boolean()
    sleep_hours = fields.Float(allow_none=True)
    shift_count = fields.Integer()


class RapidCyclingDay(Schema):
    day = fields.String()
    crossings = fields.Integer()
    detected_at = fields.String()

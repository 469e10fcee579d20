"""Schemas for mood shifts, baselines, rapid-cycling days, crisis rules and alerts."""

from datetime import date, datetime, timedelta, timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from gateway.schemas.common import PatchSchema, RequestSchema, Trimmed
from services.mood_tracking.scale import STATES

LEVEL = validate.Range(min=-4, max=4)
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def not_before_2000(value: datetime) -> None:
    if value < EARLIEST:
        raise ValidationError("Must be in the year 2000 or later.")


def plausible_day(value: date) -> None:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationError("Must be between 2000-01-01 and 2100-12-31.")


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


class DayRange(RequestSchema):
    """from/to as dates; ``to`` defaults to today, ``from`` to 30 days before ``to``."""

    from_ = fields.Date(data_key="from", validate=plausible_day)
    to = fields.Date(validate=plausible_day)

    @validates_schema
    def _bounded(self, data, **kwargs):
        end = data.get("to") or date.today()
        start = data.get("from_") or end - timedelta(days=30)
        if start > end:
            raise ValidationError("Must not be before 'from'.", "to")
        if (end - start).days > 366:
            raise ValidationError("At most 366 days at a time.", "from")


def day_range(query: dict) -> dict:
    end = query.get("to") or date.today()
    return {"from": query.get("from_") or end - timedelta(days=30), "to": end}


class Baseline(Schema):
    day = fields.String()
    peak_elevation = fields.Integer()
    peak_depression = fields.Integer()
    irritability = fields.String(metadata={"enum": ["none", "mild", "moderate", "severe"]})
    anxiety = fields.String(metadata={"enum": ["none", "mild", "moderate", "severe"]})
    mixed = fields.Boolean()
    sleep_hours = fields.Float(allow_none=True)
    shift_count = fields.Integer()


class RapidCyclingDay(Schema):
    day = fields.String()
    crossings = fields.Integer()
    detected_at = fields.String()


# --- crisis rules, flags, alerts ---------------------------------------------------

LOOSER = "Crisis rules can be tightened, not loosened or switched off"


class AlertRulesUpdate(PatchSchema):
    severe_level = fields.Integer(strict=True, validate=validate.OneOf(
        [3, 4], error=f"{LOOSER}: alert at |level| 4 (default) or 3."))
    drop_levels = fields.Integer(strict=True, validate=validate.OneOf(
        [2, 3], error=f"{LOOSER}: alert on a 24 h drop of 3 (default) or 2."))
    depression_threshold = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=-4, max=-1))
    elevation_threshold = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=4))
    cooldown_minutes = fields.Integer(strict=True, validate=validate.Range(
        min=5, max=360, error=f"{LOOSER}: between 5 and 360 minutes between alerts."))


class AlertRules(Schema):
    severe_level = fields.Integer()
    drop_levels = fields.Integer()
    depression_threshold = fields.Integer(allow_none=True)
    elevation_threshold = fields.Integer(allow_none=True)
    cooldown_minutes = fields.Integer()


class PatternFlag(Schema):
    flag_id = fields.UUID()
    rule = fields.String(metadata={"enum": ["severe_state", "drop_24h", "user_threshold", "rapid_cycling"]})
    day = fields.String()
    shift_id = fields.UUID()
    alerted = fields.Boolean()
    detected_at = fields.String()


class Alert(Schema):
    notification_id = fields.UUID()
    crisis_id = fields.String()
    contact_id = fields.UUID()
    contact_name = fields.String()
    channel = fields.String(metadata={"enum": ["email", "sms"]})
    status = fields.String(metadata={"enum": ["pending", "sending", "sent", "failed", "uncertain"]})
    attempts = fields.Integer()
    created_at = fields.String()
    sent_at = fields.String(allow_none=True)

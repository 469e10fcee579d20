"""Schemas for the specialized trackers and the questionnaires."""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    DayRange,
    Flag,
    Int,
    PatchSchema,
    RequestSchema,
    Timestamps,
    day,
    free_text,
    past_moment,
    stamp,
    text,
)
from services.kit.contracts.medications import TIME_OF_DAY
from services.kit.contracts.questionnaires import INSTRUMENTS
from services.kit.contracts.skills import SKILL_ID
from services.kit.contracts.trackers import (
    ANCHORS,
    DRSP_IMPAIRMENT,
    DRSP_ITEMS,
    DRSP_MAX,
    DRSP_MIN,
    FLOWS,
    INTENSITY_MAX,
)

INTENSITY = validate.Range(min=0, max=INTENSITY_MAX)
INSTRUMENT_PARAMETER = {"type": "string", "enum": list(INSTRUMENTS)}


def zero_to_ten(**kwargs) -> Int:
    return Int(validate=INTENSITY, **kwargs)


def in_order(loaded: dict, *names: str) -> dict[str, str]:
    """Times that must follow each other (onset, peak, back to baseline)."""
    given = [(name, loaded[name]) for name in names if loaded.get(name)]
    for (_, earlier), (later_name, later) in zip(given, given[1:], strict=False):
        if later < earlier:
            return {later_name: f"Cannot be before {given[0][0]}."}
    return {}


# --- BPD: abandonment and emotional intensity ---------------------------------------

class AbandonmentFields(RequestSchema):
    occurred_at = past_moment()
    trigger = text(300, metadata={"description": "what happened"})
    perceived = zero_to_ten(metadata={"description": "how abandoned it felt, 0-10"})
    urges = fields.List(text(60), validate=validate.Length(max=10),
                        metadata={"description": "the urges that followed"})
    actions = free_text(1000, allow_none=True, metadata={"description": "what you did"})
    reality_check = Flag(metadata={"description": "you checked the facts with yourself or someone"})
    skill_id = fields.String(validate=validate.Regexp(SKILL_ID), allow_none=True)
    intensity_after = zero_to_ten(allow_none=True)
    note = free_text(2000, allow_none=True)


class AbandonmentCreate(AbandonmentFields):
    occurred_at = past_moment(required=True)
    trigger = text(300, required=True)
    perceived = zero_to_ten(required=True)


class AbandonmentUpdate(PatchSchema, AbandonmentFields):
    pass


class Abandonment(AbandonmentFields, Timestamps):
    record_id = fields.UUID(dump_only=True)
    occurred_at = stamp()


class EmotionFields(RequestSchema):
    emotion = text(40, metadata={"description": "e.g. shame, anger, fear"})
    intensity = zero_to_ten(metadata={"description": "at its peak, 0-10"})
    onset_at = past_moment()
    peak_at = past_moment(allow_none=True)
    baseline_at = past_moment(allow_none=True, metadata={"description": "back to how you were"})
    note = free_text(2000, allow_none=True)

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        return in_order(loaded, "onset_at", "peak_at", "baseline_at")


class EmotionCreate(EmotionFields):
    emotion = text(40, required=True)
    intensity = zero_to_ten(required=True)
    onset_at = past_moment(required=True)


class EmotionUpdate(PatchSchema, EmotionFields):
    pass


class Emotion(EmotionFields, Timestamps):
    record_id = fields.UUID(dump_only=True)
    onset_at = stamp()
    peak_at = stamp(allow_none=True)
    baseline_at = stamp(allow_none=True)


class CurveQuery(DayRange):
    emotion = text(40, required=True)


class CurvePoint(Schema):
    record_id = fields.UUID()
    intensity = fields.Integer()
    onset_at = stamp()
    peak_at = stamp(allow_none=True)
    baseline_at = stamp(allow_none=True)
    minutes_to_peak = fields.Float(allow_none=True)
    minutes_to_baseline = fields.Float(allow_none=True)


class Curve(Schema):
    emotion = fields.String()
    episodes = fields.List(fields.Nested(CurvePoint))
    median_minutes_to_baseline = fields.Float(allow_none=True)


# --- the menstrual cycle and the DRSP -----------------------------------------------------

def drsp_rating() -> Int:
    return Int(validate=validate.Range(min=DRSP_MIN, max=DRSP_MAX),
               metadata={"description": "1 not at all .. 6 extreme"})


Drsp = RequestSchema.from_dict({str(n): drsp_rating() for n in range(1, DRSP_ITEMS + 1)}, name="Drsp")
Impairment = RequestSchema.from_dict({name: drsp_rating() for name in DRSP_IMPAIRMENT},
                                     name="Impairment")


class CycleFields(RequestSchema):
    day = day()
    flow = fields.String(validate=validate.OneOf(FLOWS))
    drsp = fields.Nested(Drsp, metadata={"description": "the 21 DRSP items, by number"})
    impairment = fields.Nested(Impairment)


class CycleCreate(CycleFields):
    day = day(required=True)


class CycleUpdate(PatchSchema, CycleFields):
    pass


class CycleDay(CycleFields, Timestamps):
    record_id = fields.UUID(dump_only=True)
    cycle_day = fields.Integer(dump_only=True, allow_none=True,
                               metadata={"description": "1 = the period's first day"})
    phase = fields.String(dump_only=True, allow_none=True, metadata={
        "enum": ["menstrual", "follicular", "luteal", "premenstrual", None]})
    phase_estimated = fields.Boolean(dump_only=True, allow_none=True)


class CycleWeek(Schema):
    days = fields.List(fields.String(metadata={"format": "date"}))
    mean_peak_depression = fields.Float(allow_none=True)
    mean_peak_elevation = fields.Float(allow_none=True)
    mean_drsp = fields.Float(allow_none=True)
    days_with_mood = fields.Integer()
    days_with_drsp = fields.Integer()


class Cycle(Schema):
    start = fields.String(metadata={"format": "date"})
    next_start = fields.String(metadata={"format": "date"})
    length_days = fields.Integer()
    premenstrual = fields.Nested(CycleWeek)
    postmenstrual = fields.Nested(CycleWeek)


class CycleMood(Schema):
    cycles = fields.List(fields.Nested(Cycle))
    enough_cycles = fields.Boolean(metadata={"description": "two complete cycles or more"})
    note = fields.String()


# --- the daily routine (Social Rhythm Metric) ------------------------------------------------

def anchor_time() -> fields.String:
    return fields.String(validate=validate.Regexp(TIME_OF_DAY), allow_none=True,
                         metadata={"description": "HH:MM, local"})


RoutineFields = RequestSchema.from_dict({"day": day(), **{a: anchor_time() for a in ANCHORS}},
                                        name="RoutineFields")


class RoutineCreate(RoutineFields):
    day = day(required=True)


class RoutineUpdate(PatchSchema, RoutineFields):
    pass


class RoutineDay(RoutineFields, Timestamps):
    record_id = fields.UUID(dump_only=True)


class WeekQuery(RequestSchema):
    start = day(required=True, metadata={"description": "the first of the seven days"})


class Anchor(Schema):
    days = fields.Integer()
    counted = fields.Boolean(metadata={"description": "done on 3 days or more"})
    hits = fields.Integer(allow_none=True, metadata={"description": "days within 45 min of habitual"})
    habitual = fields.String(allow_none=True, metadata={"description": "the week's median, HH:MM"})


class Regularity(Schema):
    week_start = fields.String(metadata={"format": "date"})
    anchors = fields.Dict(keys=fields.String(), values=fields.Nested(Anchor))
    score = fields.Float(allow_none=True, metadata={"description": "0-7; 3.5 or more is stable"})
    stable = fields.Boolean(allow_none=True)
    method = fields.String()


# --- questionnaires ------------------------------------------------------------------------------

class Answers(RequestSchema):
    answers = fields.List(Int(validate=validate.Range(min=0, max=4), allow_none=True), required=True,
                          validate=validate.Length(min=5, max=9), metadata={
        "description": "one per item, in order; null for an item left out (ASRM allows one)"})


class QuestionnaireResponse(Schema):
    response_id = fields.UUID()
    instrument = fields.String()
    answers = fields.List(fields.Integer(allow_none=True))
    score = fields.Float()
    band = fields.String()
    prorated = fields.Boolean()
    completed_at = stamp()


class Band(Schema):
    band = fields.String()
    from_ = fields.Integer(data_key="from", attribute="from")


class Instrument(Schema):
    instrument = fields.String()
    name = fields.String()
    about = fields.String()
    items = fields.List(fields.String())
    min = fields.Integer()
    max = fields.Integer()
    scale = fields.String()
    items_that_may_be_left_out = fields.Integer()
    bands = fields.List(fields.Nested(Band))

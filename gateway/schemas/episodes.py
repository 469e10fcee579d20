"""Schemas for episodes, their candidates and interventions, and the safety plan."""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    Flag,
    Int,
    PatchSchema,
    RequestSchema,
    Timestamps,
    Uuid,
    day,
    free_text,
    past_moment,
    phone,
    stamp,
    text,
)
from services.kit.contracts.episodes import CANDIDATE_ID, INTERVENTIONS, KINDS, SEVERITY
from services.kit.contracts.skills import SKILL_ID

CANDIDATE_PARAMETER = {"type": "string", "pattern": CANDIDATE_ID}
SEVERITY_SCALE = ", ".join(f"{value} {label}" for value, label in SEVERITY.items())


class EpisodeFields(RequestSchema):
    kind = fields.String(validate=validate.OneOf(KINDS))
    start_day = day()
    end_day = day(allow_none=True, metadata={"description": "null while it goes on"})
    peak_severity = Int(validate=validate.Range(min=1, max=4), allow_none=True,
                        metadata={"description": f"Life Chart, at its worst: {SEVERITY_SCALE}"})
    hospitalised = Flag()
    psychotic_features = Flag()
    notes = free_text(2000, allow_none=True)


class EpisodeCreate(EpisodeFields):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    start_day = day(required=True)


class EpisodeUpdate(PatchSchema, EpisodeFields):
    pass


class EpisodeClose(RequestSchema):
    end_day = day(required=True)


class Episode(EpisodeFields, Timestamps):
    episode_id = fields.UUID(dump_only=True)
    origin = fields.String(dump_only=True, metadata={
        "enum": ["user", "candidate", "crisis"],
        "description": "made by you, confirmed from a candidate, or by a crisis alert"})


class SupportingDay(Schema):
    day = fields.String(metadata={"format": "date"})
    level = fields.Integer(metadata={"description": "the day's peak on the Life Chart scale"})


class Candidate(Schema):
    candidate_id = fields.String()
    kind = fields.String(metadata={"enum": ["depressive", "manic", "hypomanic"]})
    start_day = fields.String(metadata={"format": "date"})
    end_day = fields.String(metadata={"format": "date"})
    days = fields.Integer()
    peak_severity = fields.Integer()
    supporting_days = fields.List(fields.Nested(SupportingDay))


class CandidateDecision(Schema):
    candidate_id = fields.String()
    decision = fields.String(metadata={"enum": ["confirm", "dismiss"]})
    episode = fields.Nested(Episode, allow_none=True)


class InterventionFields(RequestSchema):
    kind = fields.String(required=True, validate=validate.OneOf(
        [kind for kind in INTERVENTIONS if kind != "alert_sent"]))
    happened_at = past_moment(required=True)
    by_whom = text(120, allow_none=True)
    outcome = free_text(1000, allow_none=True)


class Intervention(InterventionFields):
    intervention_id = fields.UUID(dump_only=True)
    episode_id = fields.UUID(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": list(INTERVENTIONS)})
    happened_at = stamp()
    crisis_id = fields.UUID(dump_only=True, allow_none=True, metadata={
        "description": "set when it was recorded because a crisis alert went out"})
    created_at = stamp()


# --- the safety plan (Stanley-Brown, six ordered steps) ------------------------------

def lines(max_items: int = 20, **kwargs) -> fields.List:
    return fields.List(text(300), validate=validate.Length(max=max_items), **kwargs)


class CopingItem(RequestSchema):
    min_properties = 1
    text = text(300)
    skill_id = fields.String(validate=validate.Regexp(SKILL_ID),
                             metadata={"description": "a skill of the library"})


class Distractions(RequestSchema):
    people = lines()
    places = lines()


class PersonToAsk(RequestSchema):
    min_properties = 1
    contact_id = Uuid(metadata={"description": "one of your emergency contacts"})
    name = text(100)
    phone = phone()


class Professional(RequestSchema):
    name = text(120, required=True)
    role = text(80, allow_none=True)
    phone = phone(allow_none=True)


class SafetyPlanSteps(RequestSchema):
    warning_signs = lines(metadata={"description": "1: what tells you a crisis may be coming"})
    internal_coping = fields.List(fields.Nested(CopingItem), validate=validate.Length(max=20),
                                  metadata={"description": "2: what you can do on your own"})
    distractions = fields.Nested(Distractions, metadata={
        "description": "3: people and places that take your mind off it"})
    people_to_ask = fields.List(fields.Nested(PersonToAsk), validate=validate.Length(max=20),
                                metadata={"description": "4: people you can ask for help"})
    professionals = fields.List(fields.Nested(Professional), validate=validate.Length(max=20),
                                metadata={"description": "5: professionals to contact"})
    environment = lines(metadata={"description": "6: making your surroundings safe"})


class CrisisLine(Schema):
    name = fields.String()
    contact = fields.String()
    emergency_number = fields.String()


class SafetyPlan(Schema):
    version = fields.Integer()
    steps = fields.Nested(SafetyPlanSteps)
    crisis_line = fields.Nested(CrisisLine, metadata={
        "description": "step 5 also: the crisis line of your country"})
    created_at = stamp()


class SafetyPlanVersion(Schema):
    version = fields.Integer()
    created_at = stamp()

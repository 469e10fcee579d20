"""Schemas for the DBT diary card, its weekly grid and skill effectiveness."""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    Flag,
    Int,
    PatchSchema,
    RequestSchema,
    day,
    free_text,
    stamp,
    text,
)
from services.kit.contracts.dbt import (
    BELIEF_MAX,
    EMOTION_MAX,
    EMOTIONS,
    MISERY_MAX,
    SKILL_RATING_MAX,
    SKILL_RATINGS,
    URGE_MAX,
)
from services.kit.contracts.skills import SKILL_ID

SKILL_SCALE = "; ".join(f"{value} {meaning}" for value, meaning in SKILL_RATINGS.items())


def rating(maximum: int, **kwargs) -> Int:
    return Int(validate=validate.Range(min=0, max=maximum), **kwargs)


def item_name() -> fields.String:
    # Names become part of the card's item paths: one line, no dots.
    return text(40, without=".", required=True)


class Urge(RequestSchema):
    min_properties = 1
    rating = rating(URGE_MAX, metadata={"description": "0-5, the strongest of the day"})
    acted = Flag(metadata={"description": "acted on it"})


class Urges(RequestSchema):
    suicide = fields.Nested(Urge)
    self_harm = fields.Nested(Urge)
    substance_use = fields.Nested(Urge)


class Target(Urge):
    name = item_name()


Emotions = RequestSchema.from_dict({emotion: rating(EMOTION_MAX) for emotion in EMOTIONS},
                                   name="Emotions")


class OwnEmotion(RequestSchema):
    name = item_name()
    rating = rating(EMOTION_MAX, required=True)


class Misery(RequestSchema):
    physical = rating(MISERY_MAX)
    emotional = rating(MISERY_MAX)


class Beliefs(RequestSchema):
    emotions = rating(BELIEF_MAX)
    behaviour = rating(BELIEF_MAX)
    thoughts = rating(BELIEF_MAX)


class SkillRating(RequestSchema):
    skill_id = fields.String(required=True, validate=validate.Regexp(SKILL_ID))
    rating = rating(SKILL_RATING_MAX, required=True, metadata={"description": SKILL_SCALE})


class CardSave(PatchSchema):
    """Any part of a day's card; a save keeps the peak of each rating already there."""

    urges = fields.Nested(Urges)
    targets = fields.List(fields.Nested(Target), validate=validate.Length(max=10),
                          metadata={"description": "your own target behaviours"})
    emotions = fields.Nested(Emotions)
    own_emotions = fields.List(fields.Nested(OwnEmotion), validate=validate.Length(max=10))
    misery = fields.Nested(Misery)
    medication_as_prescribed = Flag()
    skills = fields.List(fields.Nested(SkillRating), validate=validate.Length(max=40))
    belief_in_control = fields.Nested(Beliefs)
    note = free_text(2000, allow_none=True)


class SkillOnCard(Schema):
    skill_id = fields.String()
    rating = fields.Integer()
    helped = fields.Boolean(allow_none=True, metadata={
        "description": "true for 5 and 7, false for 3, 4 and 6, null when not used (0-2)"})


class TargetOnCard(Schema):
    name = fields.String()
    rating = fields.Integer()
    acted = fields.Boolean()


class OwnEmotionOnCard(Schema):
    name = fields.String()
    rating = fields.Integer()


class Card(Schema):
    date = fields.String(metadata={"format": "date"})
    urges = fields.Dict(keys=fields.String(), values=fields.Dict())
    targets = fields.List(fields.Nested(TargetOnCard))
    emotions = fields.Dict(keys=fields.String(), values=fields.Integer())
    own_emotions = fields.List(fields.Nested(OwnEmotionOnCard))
    misery = fields.Dict(keys=fields.String(), values=fields.Integer())
    medication_as_prescribed = fields.Boolean(allow_none=True)
    skills = fields.List(fields.Nested(SkillOnCard))
    belief_in_control = fields.Dict(keys=fields.String(), values=fields.Integer())
    note = fields.String(allow_none=True)
    set_at = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "item -> when its value was set"})
    created_at = stamp()
    updated_at = stamp()


class WeekQuery(RequestSchema):
    start = day(required=True, metadata={"description": "the first of the seven days"})


class WeekRow(Schema):
    item = fields.String(metadata={"description": "e.g. urges.suicide.rating, emotions.shame, "
                                                  "skills.tipp"})
    values = fields.List(fields.Raw(allow_none=True), metadata={"description": "one per day"})


class Week(Schema):
    start = fields.String(metadata={"format": "date"})
    days = fields.List(fields.String(metadata={"format": "date"}))
    rows = fields.List(fields.Nested(WeekRow))


class SkillEffectiveness(Schema):
    skill_id = fields.String()
    days_rated = fields.Integer()
    days_used = fields.Integer(metadata={"description": "days tried or used (ratings 3-7)"})
    helped = fields.Integer(metadata={"description": "days it helped (5, 7)"})
    did_not_help = fields.Integer(metadata={"description": "days it did not (3, 4, 6)"})
    helped_share = fields.Float(allow_none=True)

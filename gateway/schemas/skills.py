"""Schemas for the DBT skills library."""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import RequestSchema, text
from services.kit.contracts.skills import LOCALES, MODULES, SITUATIONS, SKILL_ID, SKILL_STATES

SKILL_ID_PARAMETER = {"type": "string", "pattern": SKILL_ID}


class SkillQuery(RequestSchema):
    module = fields.String(validate=validate.OneOf(MODULES))
    state = fields.String(validate=validate.OneOf(SKILL_STATES),
                          metadata={"description": "a mood state, or 'urge'"})
    situation = fields.String(validate=validate.OneOf(SITUATIONS))
    q = text(200, metadata={"description": "full-text search in names, summaries and steps"})
    locale = fields.String(validate=validate.OneOf(LOCALES), load_default="en")


class LocaleQuery(RequestSchema):
    locale = fields.String(validate=validate.OneOf(LOCALES), load_default="en")


class Caution(Schema):
    text = fields.String()
    step = fields.Integer(allow_none=True, metadata={"description": "the step it is about"})
    conditions = fields.List(fields.String())
    medication_classes = fields.List(fields.String(), metadata={
        "description": "medications it concerns (a suggestion leaves it out for someone taking one)"})


class Skill(Schema):
    skill_id = fields.String()
    module = fields.String(metadata={"enum": list(MODULES)})
    name = fields.String()
    summary = fields.String()
    steps = fields.List(fields.String())
    states = fields.List(fields.String(), metadata={"description": "states it fits"})
    situations = fields.List(fields.String(), metadata={"description": "situations it fits"})
    minutes = fields.Integer(metadata={"description": "how long it takes"})
    cautions = fields.List(fields.Nested(Caution))
    locale = fields.String()


class Module(Schema):
    module = fields.String(metadata={"enum": list(MODULES)})
    name = fields.String()
    summary = fields.String()
    skill_count = fields.Integer()

"""Schemas for crisis rules, pattern flags and the alerts sent to contacts."""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import Int, PatchSchema, RequestSchema
from services.kit.contracts.crisis import (
    COOLDOWN_MINUTES,
    DEPRESSION_THRESHOLDS,
    DROP_LEVELS,
    ELEVATION_THRESHOLDS,
    RULE_DEFAULTS,
    RULE_NAMES,
    SEVERE_LEVELS,
    SOURCES,
)

LOOSER = "Crisis rules can be tightened, not loosened or switched off"


class AlertRuleFields(RequestSchema):
    severe_level = Int(validate=validate.OneOf(
        SEVERE_LEVELS, error=f"{LOOSER}: alert at |level| {RULE_DEFAULTS['severe_level']} "
                             f"(default) or {min(SEVERE_LEVELS)}."))
    drop_levels = Int(validate=validate.OneOf(
        DROP_LEVELS, error=f"{LOOSER}: alert on a 24 h drop of {RULE_DEFAULTS['drop_levels']} "
                           f"(default) or {min(DROP_LEVELS)}."))
    depression_threshold = Int(allow_none=True,
                                          validate=validate.Range(*DEPRESSION_THRESHOLDS))
    elevation_threshold = Int(allow_none=True,
                                         validate=validate.Range(*ELEVATION_THRESHOLDS))
    cooldown_minutes = Int(validate=validate.Range(
        *COOLDOWN_MINUTES, error=f"{LOOSER}: between {COOLDOWN_MINUTES[0]} and "
                                 f"{COOLDOWN_MINUTES[1]} minutes between alerts."))


class AlertRulesUpdate(PatchSchema, AlertRuleFields):
    pass


class AlertRules(AlertRuleFields):
    pass


class PatternFlag(Schema):
    flag_id = fields.UUID()
    rule = fields.String(metadata={"enum": list(RULE_NAMES)})
    day = fields.String()
    source = fields.String(metadata={"enum": list(SOURCES),
                                     "description": "what the flag is about"})
    record_id = fields.UUID(metadata={"description": "the shift, card or episode"})
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

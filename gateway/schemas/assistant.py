"""Schemas for session memory, conversations with the assistant, and its settings,
knowledge and messages."""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    Flag,
    Int,
    PatchSchema,
    RequestSchema,
    Timestamps,
    Uuid,
    free_text,
    stamp,
    text,
)
from gateway.schemas.episodes import CrisisLine
from services.kit.contracts.assistant import (
    CHANNELS,
    FRAMEWORKS,
    KNOWLEDGE_KINDS,
    LOG_RETENTION_DAYS,
    MAX_MESSAGE_CHARS,
    PROVIDERS,
    ROLES,
    SHARE_KINDS,
    TONES,
)
from services.kit.contracts.crisis import CRISIS_REASONS


def each_once(values: list, name: str) -> dict[str, str]:
    return {name: "Each at most once."} if len(set(values)) != len(values) else {}


# --- session memory ----------------------------------------------------------------------

class Mood(Schema):
    level = fields.Integer()
    mixed = fields.Boolean()
    state = fields.String(allow_none=True)
    intensity = fields.Integer(allow_none=True)
    shift_id = fields.UUID()
    as_of = fields.String()


class OpenCrisis(Schema):
    crisis_id = fields.UUID()
    status = fields.String(metadata={"enum": ["open", "acknowledged"]})
    acknowledged_at = fields.String()
    as_of = fields.String()


class Flags(Schema):
    rules = fields.List(fields.String(metadata={"enum": list(CRISIS_REASONS)}))
    as_of = fields.String()


class OpenEpisode(Schema):
    episode_id = fields.UUID()
    kind = fields.String(allow_none=True)
    start_day = fields.String()
    end_day = fields.String(allow_none=True)
    as_of = fields.String()


class DiaryToday(Schema):
    local_date = fields.String()
    entry_id = fields.UUID()
    skills_used = fields.Integer()
    skills_helped = fields.Integer()
    as_of = fields.String()


class DosesToday(Schema):
    local_date = fields.String()
    missed = fields.List(fields.String(), metadata={"description": "scheduled times with no dose logged"})
    as_of = fields.String()


class LastSkill(Schema):
    skill_id = fields.String()
    name = fields.String()
    helped = fields.Boolean(allow_none=True, metadata={"description": "from a later diary card"})
    as_of = fields.String()
    rated_as_of = fields.String()


class CurrentState(Schema):
    mood = fields.Nested(Mood, allow_none=True)
    crisis = fields.Nested(OpenCrisis, allow_none=True)
    flags = fields.Nested(Flags, allow_none=True)
    episode = fields.Nested(OpenEpisode, allow_none=True)
    diary = fields.Nested(DiaryToday, allow_none=True)
    doses = fields.Nested(DosesToday, allow_none=True)
    skill = fields.Nested(LastSkill, allow_none=True)
    updated_at = fields.String(allow_none=True)
    as_of_day = fields.String(metadata={"description": "today, in your time zone"})


# --- conversations -----------------------------------------------------------------------

class Conversation(Schema):
    session_id = fields.UUID()
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    started_at = stamp()
    last_activity_at = stamp()
    ended_at = stamp(allow_none=True, metadata={"description": "after inactivity, or null while open"})


class Turn(Schema):
    log_id = fields.UUID()
    role = fields.String(metadata={"enum": list(ROLES)})
    text = fields.String()
    skill_id = fields.String(allow_none=True)
    created_at = stamp()


class SessionSettingsUpdate(RequestSchema):
    log_retention_days = Int(required=True, validate=validate.Range(*LOG_RETENTION_DAYS), metadata={
        "description": "how long turns are kept (0: none); a shorter value applies at once"})


class SessionSettings(Schema):
    log_retention_days = fields.Integer()


# --- the assistant -------------------------------------------------------------------------

class AssistantSettingsSave(RequestSchema):
    enabled = Flag(required=True)
    tone = fields.String(required=True, validate=validate.OneOf(TONES))
    frameworks = fields.List(fields.String(validate=validate.OneOf(FRAMEWORKS)), required=True,
                             validate=validate.Length(max=len(FRAMEWORKS)))
    shared = fields.List(fields.String(validate=validate.OneOf(SHARE_KINDS)), required=True,
                         validate=validate.Length(max=len(SHARE_KINDS)), metadata={
                             "description": "what an external model may see (nothing unless listed)"})
    provider = fields.String(required=True, validate=validate.OneOf(PROVIDERS), metadata={
        "description": "builtin: offline, on our servers; external: the configured model"})

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        return each_once(loaded["frameworks"], "frameworks") or each_once(loaded["shared"], "shared")


class AssistantSettings(Schema):
    enabled = fields.Boolean()
    tone = fields.String(metadata={"enum": list(TONES)})
    frameworks = fields.List(fields.String(metadata={"enum": list(FRAMEWORKS)}))
    shared = fields.List(fields.String(metadata={"enum": list(SHARE_KINDS)}))
    provider = fields.String(metadata={"enum": list(PROVIDERS)})
    external_offered = fields.Boolean(metadata={"description": "whether this server has an external model"})


class KnowledgeFields(RequestSchema):
    kind = fields.String(validate=validate.OneOf(KNOWLEDGE_KINDS))
    text = text(500)


class KnowledgeCreate(KnowledgeFields):
    kind = fields.String(required=True, validate=validate.OneOf(KNOWLEDGE_KINDS))
    text = text(500, required=True)


class KnowledgeUpdate(PatchSchema, KnowledgeFields):
    pass


class Knowledge(KnowledgeCreate, Timestamps):
    entry_id = fields.UUID(dump_only=True)


class Message(RequestSchema):
    session_id = Uuid(metadata={"description": "continue this conversation (a new one if it has ended)"})
    text = free_text(MAX_MESSAGE_CHARS, required=True)
    channel = fields.String(load_default="app", validate=validate.OneOf(CHANNELS))

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        return {} if loaded["text"].strip() else {"text": "Say something."}


class SuggestedSkill(Schema):
    skill_id = fields.String()
    name = fields.String()
    module = fields.String()
    minutes = fields.Integer()
    summary = fields.String()
    steps = fields.List(fields.String(), metadata={"description": "the steps safe for you"})


class Reply(Schema):
    session_id = fields.UUID()
    new_session = fields.Boolean()
    reply = fields.String()
    skill = fields.Nested(SuggestedSkill, allow_none=True)
    safety = fields.Boolean(metadata={"description": "the safety screen answered; no model saw it"})
    crisis_line = fields.Nested(CrisisLine)
    offer = fields.String(allow_none=True, metadata={"enum": ["alert_contacts", None],
                                                     "description": "reply yes to accept"})
    alerted = fields.Boolean(metadata={"description": "your contacts are being alerted"})
    crisis_id = fields.UUID()
    provider = fields.String(metadata={"enum": [*PROVIDERS, "safety_screen"]})
    note = fields.String(allow_none=True)
    disclosure = fields.Boolean(metadata={"description": "this reply says it comes from software"})


class Suggestion(Schema):
    state = fields.String(allow_none=True)
    level = fields.Integer()
    skill_id = fields.String(allow_none=True)
    skill = fields.Nested(SuggestedSkill, allow_none=True)
    text = fields.String()
    as_of = stamp(metadata={"description": "the shift it follows"})
    created_at = stamp()

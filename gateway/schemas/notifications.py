"""Schemas for the escalation ladder (crises, acknowledgements), notification
preferences and reminders."""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    Flag,
    Int,
    PatchSchema,
    RequestSchema,
    Timestamps,
    Uuid,
    day,
    stamp,
)
from services.kit.contracts.crisis import CRISIS_REASONS, RULE_NAMES
from services.kit.contracts.medications import TIME_OF_DAY, WEEKDAYS
from services.kit.contracts.notifications import (
    CHANNELS,
    CONTACT_ANSWER,
    LADDER_MINUTES,
    REMINDER_KINDS,
    SNOOZE_MINUTES,
    USER_ANSWERS,
)
from services.kit.contracts.questionnaires import INSTRUMENTS

LINK_TOKEN = validate.Length(min=16, max=128)


def time_of_day(**kwargs) -> fields.String:
    return fields.String(validate=validate.Regexp(TIME_OF_DAY), metadata={"description": "HH:MM, local"},
                         **kwargs)


def each_once(loaded: dict, *names: str) -> dict[str, str]:
    for name in names:
        values = loaded.get(name) or []
        if len(set(values)) != len(values):
            return {name: "Each at most once."}
    return {}


# --- the escalation ladder -------------------------------------------------------------

class Send(Schema):
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    status = fields.String(metadata={"enum": ["pending", "sending", "sent", "failed", "uncertain"]})
    sent_at = fields.String(allow_none=True)


class Step(Schema):
    step = fields.Integer(metadata={"description": "0 is your own prompt when there is one"})
    target = fields.String(metadata={"enum": ["user", "contact"]})
    contact_id = fields.UUID(allow_none=True)
    contact_name = fields.String(allow_none=True)
    skipped = fields.Boolean(metadata={"description": "passed over: no longer a confirmed contact"})
    started_at = fields.String(allow_none=True)
    acknowledged_at = fields.String(allow_none=True)
    sends = fields.List(fields.Nested(Send))


class Crisis(Schema):
    crisis_id = fields.UUID()
    status = fields.String(metadata={"enum": ["open", "acknowledged", "exhausted"]})
    rules = fields.List(fields.String(metadata={"enum": list(CRISIS_REASONS)}))
    detected_at = fields.String()
    acknowledged_at = fields.String(allow_none=True)
    answer = fields.String(allow_none=True, metadata={"enum": [*USER_ANSWERS, CONTACT_ANSWER, None]})
    next_step_at = fields.String(allow_none=True, metadata={"description": "when the next rung is "
                                                                         "alerted, if nobody answers"})
    steps = fields.List(fields.Nested(Step))


class Acknowledgement(RequestSchema):
    answer = fields.String(required=True, validate=validate.OneOf(USER_ANSWERS),
                           metadata={"description": "safe: I'm safe; using_plan: I'm using my plan"})


class LinkAcknowledgement(RequestSchema):
    # In the body, never the URL: paths end up in access logs.
    token = fields.String(required=True, validate=LINK_TOKEN)
    answer = fields.String(required=True, validate=validate.OneOf([*USER_ANSWERS, CONTACT_ANSWER]),
                           metadata={"description": "your prompt: safe or using_plan; a contact's "
                                                    "alert: on_it"})


class LinkAcknowledged(Schema):
    crisis_id = fields.UUID()
    status = fields.String()
    answer = fields.String()


# --- preferences -------------------------------------------------------------------------

class PreferenceFields(RequestSchema):
    prompt_minutes = Int(validate=validate.Range(*LADDER_MINUTES), metadata={
        "description": "how long to wait for your own answer before contact 1 (0: no prompt)"})
    contact_minutes = Int(validate=validate.Range(*LADDER_MINUTES), metadata={
        "description": "how long each contact has to answer before the next (0: all at once)"})
    skip_prompt_for = fields.List(fields.String(validate=validate.OneOf(RULE_NAMES)),
                                  validate=validate.Length(max=len(RULE_NAMES)), metadata={
                                      "description": "rules that go straight to your contacts"})
    quiet_start = time_of_day(allow_none=True)
    quiet_end = time_of_day(allow_none=True)
    check_in_after_days = Int(validate=validate.Range(min=1, max=30), allow_none=True, metadata={
        "description": "a gentle check-in after this many days without an entry (null: off)"})
    check_in_contact_id = Uuid(allow_none=True, metadata={
        "description": "a contact who agreed to check-ins, told after a further wait"})
    check_in_contact_after_days = Int(validate=validate.Range(min=0, max=30), allow_none=True)
    dose_contact_id = Uuid(allow_none=True, metadata={
        "description": "a contact who agreed to hear about missed doses"})
    dose_contact_after_minutes = Int(validate=validate.Range(min=30, max=1440), allow_none=True)


class PreferencesUpdate(PatchSchema, PreferenceFields):
    def unprocessable(self, loaded: dict) -> dict[str, str]:
        if ("quiet_start" in loaded) != ("quiet_end" in loaded) or \
                (loaded.get("quiet_start") is None) != (loaded.get("quiet_end") is None):
            return {"quiet_end": "Give quiet_start and quiet_end together."}
        return each_once(loaded, "skip_prompt_for")


class Preferences(PreferenceFields):
    pass


# --- reminders ----------------------------------------------------------------------------

class ReminderFields(RequestSchema):
    times = fields.List(time_of_day(), validate=validate.Length(min=1, max=8))
    days_of_week = fields.List(fields.String(validate=validate.OneOf(WEEKDAYS)),
                               validate=validate.Length(min=1, max=7), allow_none=True)
    every_n_weeks = Int(validate=validate.Range(min=1, max=26), allow_none=True,
                        metadata={"description": "questionnaires: every N weeks"})
    start_date = day()
    end_date = day(allow_none=True)
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)),
                           validate=validate.Length(min=1, max=2))
    active = Flag()

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        if loaded.get("start_date") and loaded.get("end_date") and loaded["end_date"] < loaded["start_date"]:
            return {"end_date": "Cannot be before start_date."}
        return each_once(loaded, "times", "days_of_week", "channels")


class ReminderCreate(ReminderFields):
    kind = fields.String(required=True, validate=validate.OneOf(REMINDER_KINDS))
    medication_id = Uuid(metadata={"description": "medication: whose schedule it follows"})
    instrument = fields.String(validate=validate.OneOf(INSTRUMENTS),
                               metadata={"description": "questionnaire: which one"})
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)),
                           validate=validate.Length(min=1, max=2), required=True)

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        kind = loaded["kind"]
        if kind == "medication":
            if not loaded.get("medication_id"):
                return {"medication_id": "Which medication?"}
            if loaded.get("times") or loaded.get("days_of_week"):
                return {"times": "A medication reminder follows the medication's schedule."}
        elif loaded.get("medication_id"):
            return {"medication_id": "Only for medication reminders."}
        elif not loaded.get("times"):
            return {"times": "Give at least one time."}
        if kind == "questionnaire" and not loaded.get("instrument"):
            return {"instrument": "Which questionnaire?"}
        if kind != "questionnaire" and (loaded.get("instrument") or loaded.get("every_n_weeks")):
            return {"instrument" if loaded.get("instrument") else "every_n_weeks":
                    "Only for questionnaire reminders."}
        return super().unprocessable(loaded)


class ReminderUpdate(PatchSchema, ReminderFields):
    pass


class Reminder(ReminderCreate, Timestamps):
    reminder_id = fields.UUID(dump_only=True)
    medication_id = fields.UUID(allow_none=True)
    instrument = fields.String(allow_none=True, metadata={"enum": [*INSTRUMENTS, None]})
    times = fields.List(fields.String())
    every_n_days = fields.Integer(allow_none=True, dump_only=True,
                                  metadata={"description": "from the medication's schedule"})
    next_due_at = stamp(allow_none=True)
    snoozed_until = stamp(allow_none=True)
    last_fired_at = stamp(allow_none=True)


class Snooze(RequestSchema):
    token = fields.String(required=True, validate=LINK_TOKEN)
    minutes = Int(load_default=30, validate=validate.Range(*SNOOZE_MINUTES))


class Snoozed(Schema):
    reminder_id = fields.UUID()
    next_due_at = fields.String()

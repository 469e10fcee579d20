"""Schemas for emergency contacts (and their consent), providers and medications.

Each resource's fields are declared once, in its request schema; the response
extends it with the read-only fields the service sets.
"""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    Flag,
    Int,
    LinkToken,
    Number,
    PatchSchema,
    RequestSchema,
    Timestamps,
    day,
    email,
    phone,
    stamp,
    text,
)
from services.kit.contracts.medications import TIME_OF_DAY, UNITS, WEEKDAYS
from services.kit.contracts.notifications import CONTACT_SCOPES

# --- emergency contacts ---------------------------------------------------------


class ContactFields(RequestSchema):
    name = text(100)
    relationship = text(60, allow_none=True)
    email = email(allow_none=True)
    phone = phone(allow_none=True)
    priority = Int(validate=validate.Range(min=1, max=100))
    scopes = fields.List(fields.String(validate=validate.OneOf(CONTACT_SCOPES)),
                         validate=validate.Length(max=len(CONTACT_SCOPES)), metadata={
                             "description": "Beyond crisis alerts, what you also ask of them: "
                                            "a word when you go quiet, missed doses. They agree "
                                            "(or not) when they confirm."})


def scopes_once(loaded: dict) -> dict[str, str]:
    scopes = loaded.get("scopes") or []
    return {"scopes": "Each at most once."} if len(set(scopes)) != len(scopes) else {}


class ContactCreate(ContactFields):
    name = text(100, required=True)

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        return scopes_once(loaded)


class ContactUpdate(PatchSchema, ContactFields):
    consent_state = fields.String(
        validate=validate.OneOf(["revoked"]),
        metadata={"description": "Only 'revoked' (stop alerting this contact); the contact confirms."},
    )

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        return scopes_once(loaded)


class Contact(ContactFields, Timestamps):
    contact_id = fields.UUID(dump_only=True)
    consent_state = fields.String(dump_only=True,
                                  metadata={"enum": ["invited", "confirmed", "revoked"]})
    invited_at = stamp(allow_none=True)
    confirmed_at = stamp(allow_none=True)
    revoked_at = stamp(allow_none=True)
    consented_scopes = fields.List(fields.String(metadata={"enum": list(CONTACT_SCOPES)}),
                                   dump_only=True, metadata={"description": "what they agreed to"})
    sms_opted_out_at = stamp(allow_none=True, metadata={
        "description": "their number replied STOP: no SMS reaches them until it changes"})


class InvitationToken(LinkToken):
    pass


class InvitationAnswer(InvitationToken):
    decision = fields.String(required=True, validate=validate.OneOf(["confirm", "decline"]))
    scopes = fields.List(fields.String(validate=validate.OneOf(CONTACT_SCOPES)),
                         validate=validate.Length(max=len(CONTACT_SCOPES)), metadata={
                             "description": "on confirm: which of the things asked you agree to "
                                            "(default: all)"})

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        return scopes_once(loaded)


class Invitation(Schema):
    inviter_name = fields.String()
    contact_name = fields.String()
    consent_state = fields.String()
    asks_also = fields.List(fields.String(metadata={"enum": list(CONTACT_SCOPES)}))
    agreed_also = fields.List(fields.String(metadata={"enum": list(CONTACT_SCOPES)}))


class ConsentResult(Schema):
    consent_state = fields.String()
    agreed_also = fields.List(fields.String(metadata={"enum": list(CONTACT_SCOPES)}))


# --- healthcare providers --------------------------------------------------------

class ProviderFields(RequestSchema):
    name = text(120)
    role = text(80, allow_none=True)
    organization = text(160, allow_none=True)
    email = email(allow_none=True)
    phone = phone(allow_none=True)


class ProviderCreate(ProviderFields):
    name = text(120, required=True)


class ProviderUpdate(PatchSchema, ProviderFields):
    pass


class Provider(ProviderFields, Timestamps):
    provider_id = fields.UUID(dump_only=True)


# --- medication list -----------------------------------------------------------------

class Schedule(RequestSchema):
    """When to take it: times of day, every day (or on days of the week, or every N
    days), from a start date (default: today) to an optional end; or as needed."""

    times = fields.List(fields.String(validate=validate.Regexp(TIME_OF_DAY)),
                        validate=validate.Length(max=8), metadata={"description": "HH:MM, local"})
    days_of_week = fields.List(fields.String(validate=validate.OneOf(WEEKDAYS)),
                               validate=validate.Length(min=1, max=7), allow_none=True)
    every_n_days = Int(validate=validate.Range(min=1, max=90), allow_none=True)
    start_date = day(allow_none=True)
    end_date = day(allow_none=True)
    as_needed = Flag(load_default=False)

    def load(self, data, **kwargs):
        loaded = super().load(data, **kwargs)
        # Stored as JSON: the days as ISO text.
        return {k: v.isoformat() if k.endswith("_date") and v else v for k, v in loaded.items()}

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        if not loaded["as_needed"] and not loaded.get("times"):
            return {"times": "Give at least one time, or set as_needed."}
        if loaded.get("days_of_week") and loaded.get("every_n_days"):
            return {"every_n_days": "Either days of the week or every N days, not both."}
        if loaded.get("start_date") and loaded.get("end_date") and loaded["end_date"] < loaded["start_date"]:
            return {"end_date": "Cannot be before start_date."}
        return {}


class MedicationFields(RequestSchema):
    name = text(120)
    dose = text(60, metadata={"description": "as written on the prescription"})
    dose_amount = Number(validate=validate.Range(min=0.001, max=100000),
                         allow_none=True, metadata={"description": "the prescribed amount"})
    dose_unit = fields.String(validate=validate.OneOf(UNITS), allow_none=True)
    schedule = fields.Nested(Schedule)
    schedule_note = text(200, allow_none=True)
    active = Flag()


class MedicationCreate(MedicationFields):
    name = text(120, required=True)
    dose = text(60, required=True)
    schedule = fields.Nested(Schedule, required=True)


class MedicationUpdate(PatchSchema, MedicationFields):
    pass


class Medication(MedicationFields, Timestamps):
    medication_id = fields.UUID(dump_only=True)

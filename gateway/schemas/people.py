"""Schemas for emergency contacts (and their consent), providers and medications.

Each resource's fields are declared once, in its request schema; the response
extends it with the read-only fields the service sets.
"""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    Flag,
    Int,
    PatchSchema,
    RequestSchema,
    Timestamps,
    email,
    phone,
    stamp,
    text,
)

# --- emergency contacts ---------------------------------------------------------


class ContactFields(RequestSchema):
    name = text(100)
    relationship = text(60, allow_none=True)
    email = email(allow_none=True)
    phone = phone(allow_none=True)
    priority = Int(validate=validate.Range(min=1, max=100))


class ContactCreate(ContactFields):
    name = text(100, required=True)


class ContactUpdate(PatchSchema, ContactFields):
    consent_state = fields.String(
        validate=validate.OneOf(["revoked"]),
        metadata={"description": "Only 'revoked' (stop alerting this contact); the contact confirms."},
    )


class Contact(ContactFields, Timestamps):
    contact_id = fields.UUID(dump_only=True)
    consent_state = fields.String(dump_only=True,
                                  metadata={"enum": ["invited", "confirmed", "revoked"]})
    invited_at = stamp(allow_none=True)
    confirmed_at = stamp(allow_none=True)
    revoked_at = stamp(allow_none=True)


class InvitationToken(RequestSchema):
    # In the body, never the URL: paths end up in access logs.
    token = fields.String(required=True, validate=validate.Length(min=16, max=128))


class InvitationAnswer(InvitationToken):
    decision = fields.String(required=True, validate=validate.OneOf(["confirm", "decline"]))


class Invitation(Schema):
    inviter_name = fields.String()
    contact_name = fields.String()
    consent_state = fields.String()


class ConsentResult(Schema):
    consent_state = fields.String()


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

class MedicationFields(RequestSchema):
    name = text(120)
    dose = text(60)
    schedule = text(120)
    active = Flag()


class MedicationCreate(MedicationFields):
    name = text(120, required=True)
    dose = text(60, required=True)
    schedule = text(120, required=True)


class MedicationUpdate(PatchSchema, MedicationFields):
    pass


class Medication(MedicationFields, Timestamps):
    medication_id = fields.UUID(dump_only=True)

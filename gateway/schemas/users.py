"""Schemas for accounts, profile, contacts, providers and medications."""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    PatchSchema,
    RequestSchema,
    Trimmed,
    email,
    phone,
    text,
    validate_country,
    validate_locale,
    validate_timezone,
)

PASSWORD = validate.Length(min=10, max=256)


# --- accounts -----------------------------------------------------------------

class RegisterRequest(RequestSchema):
    email = email(required=True)
    password = fields.String(required=True, validate=PASSWORD, load_only=True)
    display_name = text(100)
    timezone = Trimmed(validate=validate_timezone)
    locale = Trimmed(validate=validate_locale)
    country = Trimmed(validate=validate_country)
    phone = phone(allow_none=True)


class LoginRequest(RequestSchema):
    email = email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class RefreshRequest(RequestSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=16, max=256))


class LogoutRequest(RequestSchema):
    everywhere = fields.Boolean(
        load_default=True,
        metadata={"description": "End every session of the account (default) or only this one."},
    )


class DeleteAccountRequest(RequestSchema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class TokenPair(Schema):
    token_type = fields.String()
    access_token = fields.String()
    expires_in = fields.Integer(metadata={"description": "seconds"})
    refresh_token = fields.String()
    refresh_expires_in = fields.Integer(metadata={"description": "seconds"})
    user_id = fields.UUID()


class LogoutResult(Schema):
    sessions_ended = fields.Integer()


class Profile(Schema):
    user_id = fields.UUID()
    email = fields.Email()
    display_name = fields.String(allow_none=True)
    timezone = fields.String()
    locale = fields.String()
    country = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    created_at = fields.String()


class ProfileUpdate(PatchSchema):
    display_name = text(100, allow_none=True)
    timezone = Trimmed(validate=validate_timezone)
    locale = Trimmed(validate=validate_locale)
    country = Trimmed(validate=validate_country, allow_none=True)
    phone = phone(allow_none=True, metadata={"description": "How your contacts can reach you; quoted in alerts."})


# --- emergency contacts ---------------------------------------------------------

class ContactFields(RequestSchema):
    name = text(100)
    relationship = text(60, allow_none=True)
    email = email(allow_none=True)
    phone = phone(allow_none=True)
    priority = fields.Integer(strict=True, validate=validate.Range(min=1, max=100))


class ContactCreate(ContactFields):
    name = text(100, required=True)


class ContactUpdate(PatchSchema, ContactFields):
    consent_state = fields.String(
        validate=validate.OneOf(["revoked"]),
        metadata={"description": "Only 'revoked' (stop alerting this contact); the contact confirms."},
    )


class Contact(Schema):
    contact_id = fields.UUID()
    name = fields.String()
    relationship = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    priority = fields.Integer()
    consent_state = fields.String(metadata={"enum": ["invited", "confirmed", "revoked"]})
    invited_at = fields.String(allow_none=True)
    confirmed_at = fields.String(allow_none=True)
    revoked_at = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()


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


class Provider(Schema):
    provider_id = fields.UUID()
    name = fields.String()
    role = fields.String(allow_none=True)
    organization = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()


# --- medication list -----------------------------------------------------------------

class MedicationFields(RequestSchema):
    name = text(120)
    dose = text(60)
    schedule = text(120)
    active = fields.Boolean()


class MedicationCreate(MedicationFields):
    name = text(120, required=True)
    dose = text(60, required=True)
    schedule = text(120, required=True)


class MedicationUpdate(PatchSchema, MedicationFields):
    pass


class Medication(Schema):
    medication_id = fields.UUID()
    name = fields.String()
    dose = fields.String()
    schedule = fields.String()
    active = fields.Boolean()
    created_at = fields.String()
    updated_at = fields.String()

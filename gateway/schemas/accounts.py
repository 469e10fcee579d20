"""Schemas for accounts, sessions and the profile."""

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    Flag,
    PatchSchema,
    RequestSchema,
    country,
    email,
    locale,
    phone,
    stamp,
    text,
    timezone_name,
)

PASSWORD = validate.Length(min=10, max=256)


class RegisterRequest(RequestSchema):
    email = email(required=True)
    password = fields.String(required=True, validate=PASSWORD, load_only=True)
    display_name = text(100)
    timezone = timezone_name()
    locale = locale()
    country = country()
    phone = phone(allow_none=True)


class LoginRequest(RequestSchema):
    email = email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class RefreshRequest(RequestSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=16, max=256))


class LogoutRequest(RequestSchema):
    everywhere = Flag(
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


class ProfileUpdate(PatchSchema):
    display_name = text(100, allow_none=True)
    timezone = timezone_name()
    locale = locale()
    country = country(allow_none=True)
    phone = phone(allow_none=True,
                  metadata={"description": "How your contacts can reach you; quoted in alerts."})


class Profile(ProfileUpdate):
    user_id = fields.UUID(dump_only=True)
    email = fields.Email(dump_only=True)
    created_at = stamp()

"""Building blocks for request and response schemas.

Requests are validated here, at the gateway; services receive the loaded plain
dicts. Unknown fields are refused (marshmallow's RAISE), so a typo in a field
name is an error, not silently dropped data.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, timedelta
from functools import lru_cache

import phonenumbers
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class Trimmed(fields.String):
    """A string with surrounding whitespace removed, and no control characters
    (they would break email headers and SMS texts built from it)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip()
        if CONTROL.search(value) or (self.metadata.get("single_line") and "\n" in value):
            raise ValidationError("Contains control characters.")
        return value


def text(max_length: int = 200, **kwargs) -> Trimmed:
    """A single line of text: names, labels."""
    metadata = {"single_line": True, **kwargs.pop("metadata", {})}
    return Trimmed(validate=validate.Length(min=1, max=max_length), metadata=metadata, **kwargs)


def validate_phone(value: str) -> None:
    if not E164.match(value):
        raise ValidationError("Use E.164 format, e.g. +447911123456.")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValidationError("Not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("Not a valid phone number.")


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError("Not an IANA time zone (e.g. Europe/London).")


def validate_country(value: str) -> None:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError("Not an ISO 3166-1 alpha-2 country code (e.g. GB, US).")


def validate_locale(value: str) -> None:
    if not LOCALE.match(value):
        raise ValidationError("Not a locale tag (e.g. en, en-GB).")


def phone(**kwargs) -> Trimmed:
    return Trimmed(validate=validate_phone, **kwargs)


def validate_ascii_email(value: str) -> None:
    # Alerts must reach any mail server; internationalised addresses need SMTPUTF8.
    if not value.isascii():
        raise ValidationError("Use an address in plain ASCII characters.")


def email(**kwargs) -> fields.Email:
    return fields.Email(validate=[validate.Length(max=254), validate_ascii_email], **kwargs)


class RequestSchema(Schema):
    class Meta:
        unknown = RAISE


class PatchSchema(RequestSchema):
    """Partial update: every field optional, but at least one must be given."""

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one field to change.", "_schema")


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "machine-readable code"})
    message = fields.String(required=True)
    field_errors = fields.Dict(
        data_key="fields", keys=fields.String(),
        metadata={"description": "field name -> list of messages"},
    )


def plausible_day(value: date) -> None:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationError("Must be between 2000-01-01 and 2100-12-31.")


class DayRange(RequestSchema):
    """from/to as dates; ``to`` defaults to today, ``from`` to 30 days before ``to``."""

    from_ = fields.Date(data_key="from", validate=plausible_day)
    to = fields.Date(validate=plausible_day)

    @validates_schema
    def _bounded(self, data, **kwargs):
        end = data.get("to") or date.today()
        start = data.get("from_") or end - timedelta(days=30)
        if start > end:
            raise ValidationError("Must not be before 'from'.", "to")
        if (end - start).days > 366:
            raise ValidationError("At most 366 days at a time.", "from")


def day_range(query: dict) -> dict:
    end = query.get("to") or date.today()
    return {"from": query.get("from_") or end - timedelta(days=30), "to": end}


def stamp(**kwargs) -> fields.String:
    """A time the service sets (ISO 8601, with offset), shown in responses."""
    return fields.String(dump_only=True, metadata={"format": "date-time"}, **kwargs)


class Timestamps(Schema):
    created_at = stamp()
    updated_at = stamp()

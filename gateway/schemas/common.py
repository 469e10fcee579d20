"""Building blocks for request and response schemas.

Requests are validated here, at the gateway; services receive the loaded plain
dicts. The OpenAPI document is generated from these schemas and states exactly
what they enforce, so every check a field makes is one the document can say:
a type, a length, a range, an enum, a pattern, ``nullable``. Values are checked
as sent, then normalised (surrounding whitespace removed).

What a document cannot say (a phone number no network has, a date in the
future, a range that is too long) is checked after the schema has loaded and
answered 422 Unprocessable, never 400: 400 means "not what the document
describes", 422 "well formed, but not usable". Unknown fields are refused
(``additionalProperties: false``), so a typo in a field name is an error, not
silently dropped data.
"""

from __future__ import annotations

import numbers
import re
import zoneinfo
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import phonenumbers
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from services.kit.errors import Unprocessable, ValidationFailed

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)

# Control characters (C0 and C1) would break the email headers and SMS texts
# built from a value; a single line has no line breaks either. Surrounding ASCII
# whitespace is removed after the check, so a value must have something else in
# it. The sets are spelled out (no \s): regex engines disagree on what \s means.
_SINGLE_LINE = r"\x00-\x08\x0a-\x1f\x7f-\x9f"
_MULTI_LINE = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
SINGLE_LINE = rf"^[^{_SINGLE_LINE}]*[^ \t{_SINGLE_LINE}][^{_SINGLE_LINE}]*$"
MULTI_LINE = rf"^[^{_MULTI_LINE}]*$"
ASCII_WHITESPACE = " \t\n\r\x0b\x0c"
E164 = r"^\+[1-9][0-9]{6,14}$"
LOCALE = r"^[a-z]{2,3}(-[A-Z]{2})?$"
TIMEZONE = r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$"
# An address any mail server takes: plain ASCII (internationalised addresses need
# SMTPUTF8), a dot-atom local part, a domain of at least two labels.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = rf"^{_ATOM}(\.{_ATOM})*@{_LABEL}(\.{_LABEL})+$"


class Text(fields.String):
    """A string checked as sent (so its pattern and length in the document are the
    whole truth), then kept with its surrounding whitespace removed."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        self._validate(value)
        return value.strip(ASCII_WHITESPACE)


def text(max_length: int = 200, *, without: str = "", **kwargs) -> Text:
    """A single line of text (names, labels): not blank, no control characters (nor
    the characters ``without``)."""
    bad = _SINGLE_LINE + re.escape(without)
    pattern = rf"^[^{bad}]*[^ \t{bad}][^{bad}]*$"
    error = "Give one line of text, without control characters" + (
        f" or {' '.join(without)}." if without else ".")
    return Text(validate=[validate.Length(max=max_length), validate.Regexp(pattern, error=error)],
                **kwargs)


def free_text(max_length: int, **kwargs) -> Text:
    """Notes: several lines allowed, may be empty, no control characters."""
    return Text(validate=[validate.Length(max=max_length), validate.Regexp(
        MULTI_LINE, error="Contains control characters.")], **kwargs)


class Flag(fields.Boolean):
    """true or false, nothing else (not 0, 1, "yes")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Int(fields.Integer):
    """A JSON integer (never a boolean, a string or a float)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Number(fields.Float):
    """A JSON number (never a boolean or a string)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


# --- values whose shape the document gives and whose meaning is checked after --

def refusing(field: fields.Field, check: Callable[[object], str | None]) -> fields.Field:
    """``field``, with ``check(value)`` run once the schema has loaded: a message
    means the value is well formed but unusable (422)."""
    field.metadata["refuse"] = check
    return field


def _unknown_phone(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return "Not a phone number."
    return None if phonenumbers.is_valid_number(number) else "No network has this number."


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _unknown_timezone(value: str) -> str | None:
    return None if value in _timezones() else "Not an IANA time zone (e.g. Europe/London)."


def _implausible_day(value: date) -> str | None:
    if FIRST_DAY <= value <= LAST_DAY:
        return None
    return f"Must be between {FIRST_DAY} and {LAST_DAY}."


def phone(**kwargs) -> Text:
    return refusing(Text(validate=validate.Regexp(
        E164, error="Use E.164 format, e.g. +447911123456."), **kwargs), _unknown_phone)


def timezone_name(**kwargs) -> Text:
    return refusing(Text(validate=[validate.Length(max=64), validate.Regexp(
        TIMEZONE, error="Not an IANA time zone name (e.g. Europe/London).")], **kwargs),
        _unknown_timezone)


def locale(**kwargs) -> Text:
    return Text(validate=validate.Regexp(LOCALE, error="Not a locale tag (e.g. en, en-GB)."),
                **kwargs)


def country(**kwargs) -> fields.String:
    return fields.String(validate=validate.OneOf(
        sorted(phonenumbers.SUPPORTED_REGIONS),
        error="Not an ISO 3166-1 alpha-2 country code (e.g. GB, US)."), **kwargs)


def email(**kwargs) -> fields.String:
    metadata = {"description": "an email address, in plain ASCII", **kwargs.pop("metadata", {})}
    return fields.String(validate=[validate.Length(max=254), validate.Regexp(
        EMAIL, error="Not a valid email address.")], metadata=metadata, **kwargs)


class Uuid(fields.UUID):
    """A UUID, passed on to the service as its canonical text."""

    def _deserialize(self, value, attr, data, **kwargs):
        return str(super()._deserialize(value, attr, data, **kwargs))


class Day(fields.Date):
    """A date: loaded from YYYY-MM-DD; in a response, the service's ISO text as it is."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


def day(**kwargs) -> fields.Date:
    return refusing(Day(**kwargs), _implausible_day)


EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _implausible_time(value: datetime) -> str | None:
    return "Must be in the year 2000 or later." if value < EARLIEST else None


def _implausible_past_time(value: datetime) -> str | None:
    if value > datetime.now(timezone.utc) + timedelta(minutes=2):
        return "Cannot be in the future."
    return _implausible_time(value)


def moment(**kwargs) -> fields.AwareDateTime:
    """A time with its UTC offset, from 2000 on."""
    return refusing(fields.AwareDateTime(**kwargs), _implausible_time)


def past_moment(**kwargs) -> fields.AwareDateTime:
    """A time something happened: with its UTC offset, from 2000 on, not in the future."""
    return refusing(fields.AwareDateTime(**kwargs), _implausible_past_time)


# --- schemas -----------------------------------------------------------------------

class RequestSchema(Schema):
    """A request body or query: unknown fields refused; after loading, the checks
    the document cannot state (``refusing`` fields, ``unprocessable``) answer 422."""

    class Meta:
        unknown = RAISE

    min_properties = 0  # at least this many fields (minProperties in the document)

    def load(self, data, **kwargs):
        if isinstance(data, dict) and len(data) < self.min_properties:
            raise ValidationError({"_schema": ["Give at least one field."]})
        loaded = super().load(data, **kwargs)
        problems = {}
        for name, field in self.load_fields.items():
            check = field.metadata.get("refuse")
            if check is not None and loaded.get(name) is not None:
                message = check(loaded[name])
                if message:
                    problems[field.data_key or name] = [message]
        if not problems:  # cross-field checks look only at values that are usable
            problems = {name: [message] for name, message in self.unprocessable(loaded).items()}
        if problems:
            raise Unprocessable(fields=problems)
        return loaded

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        """Override for checks across fields: field name -> why it cannot be used."""
        return {}


class LinkToken(RequestSchema):
    """The token of a one-time link (an invitation, a shared report). In the body,
    never the URL: paths end up in access logs."""

    token = fields.String(required=True, validate=validate.Length(min=16, max=128))


class PatchSchema(RequestSchema):
    """Partial update: every field optional, but at least one must be given
    (``minProperties: 1`` in the document)."""

    min_properties = 1


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "machine-readable code"})
    message = fields.String(required=True)
    field_errors = fields.Dict(
        data_key="fields", keys=fields.String(),
        metadata={"description": "field name -> list of messages"},
    )


class DayRange(RequestSchema):
    """from/to as dates; ``to`` defaults to today, ``from`` to 30 days before
    ``to``; at most 366 days at a time."""

    from_ = day(data_key="from")
    to = day()

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        end = loaded.get("to") or date.today()
        start = loaded.get("from_") or end - timedelta(days=30)
        if start > end:
            return {"to": "Must not be before 'from'."}
        if (end - start).days > 366:
            return {"from": "At most 366 days at a time."}
        return {}


DATE_PARAMETER = {"type": "string", "format": "date"}


def path_day(value: str) -> str:
    """A date in a path, as the service takes it (ISO); 400 if it is not one, 422 if
    it is not a plausible day."""
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(fields={"date": ["Not a date (YYYY-MM-DD)."]}) from None
    message = _implausible_day(parsed)
    if message:
        raise Unprocessable(fields={"date": [message]})
    return parsed.isoformat()


def day_range(query: dict) -> dict:
    end = query.get("to") or date.today()
    return {"from": query.get("from_") or end - timedelta(days=30), "to": end}


def stamp(**kwargs) -> fields.String:
    """A time the service sets (ISO 8601, with offset), shown in responses."""
    metadata = {"format": "date-time", **kwargs.pop("metadata", {})}
    return fields.String(dump_only=True, metadata=metadata, **kwargs)


class Timestamps(Schema):
    created_at = stamp()
    updated_at = stamp()

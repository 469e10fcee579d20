"""The gateway's field rules: checked as sent, so the document's pattern and length
are the whole truth; semantic refusals are 422, shape errors 400."""

import pytest
from marshmallow import ValidationError

from gateway.schemas.accounts import ProfileUpdate, RegisterRequest
from gateway.schemas.common import DayRange
from gateway.schemas.mood import ShiftCreate
from gateway.schemas.people import ContactCreate, ContactUpdate, MedicationUpdate
from services.kit.errors import Unprocessable

SHIFT = {"previous": {"level": 0}, "current": {"level": 1}, "intensity": 3}


def test_text_is_trimmed_after_it_is_checked():
    assert ContactCreate().load({"name": "  Bob  "})["name"] == "Bob"


@pytest.mark.parametrize("name", ["", "   ", "Bob\x07", "\x85", "line\nbreak", "x" * 101])
def test_blank_control_characters_line_breaks_and_overlong_names_are_refused(name):
    with pytest.raises(ValidationError) as caught:
        ContactCreate().load({"name": name})
    assert "name" in caught.value.messages


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
def test_booleans_are_json_booleans(value):
    with pytest.raises(ValidationError):
        MedicationUpdate().load({"active": value})
    assert MedicationUpdate().load({"active": False}) == {"active": False}


@pytest.mark.parametrize("value", [True, "3", 3.0])
def test_integers_are_json_integers(value):
    with pytest.raises(ValidationError):
        ShiftCreate().load({**SHIFT, "intensity": value})


def test_a_patch_needs_one_field():
    with pytest.raises(ValidationError) as caught:
        ContactUpdate().load({})
    assert "_schema" in caught.value.messages


def test_a_well_formed_phone_number_no_network_has_is_unprocessable():
    with pytest.raises(Unprocessable) as caught:
        ContactCreate().load({"name": "Bob", "phone": "+10000000000"})
    assert "phone" in caught.value.fields
    with pytest.raises(ValidationError):
        ContactCreate().load({"name": "Bob", "phone": "07911 123456"})  # not E.164: 400


def test_an_unknown_time_zone_is_unprocessable_and_a_known_one_passes():
    assert ProfileUpdate().load({"timezone": "Europe/London"}) == {"timezone": "Europe/London"}
    with pytest.raises(Unprocessable):
        ProfileUpdate().load({"timezone": "Mars/Base"})


def test_emails_must_be_plain_ascii_with_a_dotted_domain():
    base = {"password": "long enough pw"}
    assert RegisterRequest().load({**base, "email": "ann@example.com"})["email"] == "ann@example.com"
    for bad in ("ann@localhost", "ännie@example.com", "ann@@example.com", "ann@example..com"):
        with pytest.raises(ValidationError):
            RegisterRequest().load({**base, "email": bad})


def test_a_future_shift_is_unprocessable():
    with pytest.raises(Unprocessable) as caught:
        ShiftCreate().load({**SHIFT, "timestamp": "2999-01-01T00:00:00+00:00"})
    assert "timestamp" in caught.value.fields


def test_day_ranges_are_at_most_366_days_and_in_order():
    assert DayRange().load({"from": "2026-01-01", "to": "2026-12-31"})
    with pytest.raises(Unprocessable):
        DayRange().load({"from": "2024-01-01", "to": "2026-01-01"})
    with pytest.raises(Unprocessable):
        DayRange().load({"from": "2026-02-01", "to": "2026-01-01"})


def test_a_day_out_of_range_is_refused_before_the_range_is_worked_out():
    with pytest.raises(Unprocessable) as caught:
        DayRange().load({"to": "0001-01-01"})  # 30 days before it is no date at all
    assert set(caught.value.fields) == {"to"}

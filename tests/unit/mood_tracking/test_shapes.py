"""The mood service's pure pieces: request-to-column mapping and page cursors."""

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from services.kit.errors import Unprocessable
from services.mood_tracking.shifts import columns_from_request, decode_cursor, encode_cursor


def test_nested_states_become_columns():
    columns = columns_from_request({
        "previous": {"level": -1}, "current": {"level": 2, "mixed": True, "state": "irritable"},
        "intensity": 6, "note": "x"})
    assert columns == {"previous_level": -1, "previous_mixed": False, "previous_state": None,
                       "current_level": 2, "current_mixed": True, "current_state": "irritable",
                       "intensity": 6, "note": "x"}


def test_a_correction_maps_only_what_it_changes():
    assert columns_from_request({"sleep_hours": 7.5}) == {"sleep_hours": 7.5}


def test_a_cursor_round_trips():
    row = SimpleNamespace(occurred_at=datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc),
                          shift_id="5b3f2a0e-7c1d-4e8f-9a6b-2d4c8e1f0a3b")
    assert decode_cursor(encode_cursor(row)) == (row.occurred_at, row.shift_id)


@pytest.mark.parametrize("cursor", ["bm90IGEgY3Vyc29y", "", "!!!", "MjAyNnxub3QtYS11dWlk"])
def test_a_cursor_not_from_this_api_is_unprocessable(cursor):
    with pytest.raises(Unprocessable) as caught:
        decode_cursor(cursor)
    assert "cursor" in caught.value.fields

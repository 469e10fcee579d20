"""Episode candidates at the DSM-5 durations and one day short of them."""

from datetime import date, timedelta

import pytest

from services.episode_tracking.candidates import find

START = date(2026, 6, 1)


def days(levels, start=START):
    """Baselines for consecutive days: a positive level is elevation, negative depression."""
    return [{"day": (start + timedelta(days=i)).isoformat(), "peak_elevation": max(level, 0),
             "peak_depression": min(level, 0)} for i, level in enumerate(levels)]


@pytest.mark.parametrize("kind,level,length", [
    ("manic", 2, 7), ("hypomanic", 1, 4), ("depressive", -2, 14)])
def test_a_run_at_the_threshold_is_a_candidate_and_one_day_short_is_not(kind, level, length):
    [candidate] = find(days([level] * length))
    assert candidate["kind"] == kind and candidate["days"] == length
    assert candidate["start_day"] == START.isoformat()
    assert candidate["candidate_id"] == f"{kind}-{START.isoformat()}"
    assert len(candidate["supporting_days"]) == length
    shorter = find(days([level] * (length - 1)))
    assert kind not in {c["kind"] for c in shorter}


def test_a_short_elevated_run_with_a_severe_day_is_a_manic_candidate():
    [candidate] = find(days([2, 4, 3]))
    assert candidate["kind"] == "manic" and candidate["peak_severity"] == 4


def test_a_manic_run_is_not_also_hypomanic():
    assert [c["kind"] for c in find(days([1, 2, 2, 2, 2, 2, 2, 2, 1]))] == ["manic"]


def test_six_elevated_days_at_two_are_hypomania_not_mania():
    assert [c["kind"] for c in find(days([2] * 6))] == ["hypomanic"]


def test_a_day_without_data_ends_a_run():
    baselines = days([-2] * 7) + days([-2] * 7, start=START + timedelta(days=8))
    assert find(baselines) == []


def test_mild_depression_is_not_a_depressive_candidate():
    assert find(days([-1] * 20)) == []

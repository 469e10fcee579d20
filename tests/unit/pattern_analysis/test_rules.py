"""Crisis rules over a mood event's facts, without the stack."""

import pytest

from services.kit.contracts.crisis import (
    DROP_24H,
    RAPID_CYCLING,
    RULE_DEFAULTS,
    SEVERE_STATE,
    USER_THRESHOLD,
)
from services.pattern_analysis.rules import Rules, fired


def facts(level, drop=0, crossings=0):
    return {"current_level": level, "drop_24h": drop, "crossings_today": crossings,
            "rapid_cycling_today": crossings >= 2}


def tightened(**changes):
    return Rules(**{**RULE_DEFAULTS, **changes})


@pytest.mark.parametrize("level,expected", [(-4, True), (4, True), (-3, False), (3, False), (0, False)])
def test_a_severe_state_is_four_either_way_by_default(level, expected):
    assert (SEVERE_STATE in fired(facts(level), Rules.defaults())) is expected


def test_a_tightened_severe_level_fires_at_three():
    assert fired(facts(-3), tightened(severe_level=3)) == {
        SEVERE_STATE: {"level": -3, "threshold": 3}}


@pytest.mark.parametrize("drop,expected", [(2, False), (3, True), (5, True)])
def test_a_drop_of_three_within_a_day(drop, expected):
    assert (DROP_24H in fired(facts(0, drop=drop), Rules.defaults())) is expected


def test_the_users_own_thresholds_on_either_side():
    rules = tightened(depression_threshold=-2, elevation_threshold=3)
    assert fired(facts(-2), rules) == {USER_THRESHOLD: {"level": -2, "threshold": -2}}
    assert fired(facts(3), rules) == {USER_THRESHOLD: {"level": 3, "threshold": 3}}
    assert fired(facts(-1), rules) == {} and fired(facts(2), rules) == {}


def test_rapid_cycling_needs_two_crossings():
    assert fired(facts(1, crossings=1), Rules.defaults()) == {}
    assert fired(facts(1, crossings=2), Rules.defaults()) == {RAPID_CYCLING: {"crossings": 2}}


def test_several_rules_can_fire_on_one_shift():
    assert set(fired(facts(-4, drop=6, crossings=3), Rules.defaults())) == {
        SEVERE_STATE, DROP_24H, RAPID_CYCLING}

"""Session memory's merge: a fact no newer than what a facet holds changes nothing."""

from services.sessions.memory import _merge, from_card, from_shift


def shift(at: str, level: int, state: str | None = None) -> dict:
    return from_shift({"shift_id": f"s-{at}", "current_level": level, "current_state": state,
                       "occurred_at": at})[1]


def test_a_newer_shift_replaces_an_older_one_and_never_the_reverse():
    older, newer = shift("2026-12-02T08:00:00+00:00", -1, "sad"), shift("2026-12-02T09:00:00+00:00", 1)
    assert _merge("mood", older, newer) == newer
    assert _merge("mood", newer, older) is None
    assert _merge("mood", newer, newer) is None            # the same event twice


def test_missed_doses_of_a_day_add_up_once_each():
    first = {"local_date": "2026-12-02", "scheduled_for": "2026-12-02T08:00:00+00:00",
             "as_of": "2026-12-02T08:00:00+00:00"}
    second = {**first, "scheduled_for": "2026-12-02T20:00:00+00:00", "as_of": "2026-12-02T20:00:00+00:00"}
    held = _merge("doses", None, first)
    held = _merge("doses", held, second)
    assert held["missed"] == [first["scheduled_for"], second["scheduled_for"]]
    assert _merge("doses", held, first) is None
    yesterday = {**first, "local_date": "2026-12-01", "scheduled_for": "2026-12-01T08:00:00+00:00"}
    assert _merge("doses", held, yesterday) is None


def test_a_diary_card_says_whether_the_last_suggested_skill_helped():
    suggested = {"skill_id": "tipp", "name": "TIPP", "helped": None, "as_of": "2026-12-02T08:00:00+00:00"}
    [_, (_, rated)] = from_card({"user_id": "u", "entry_id": "e", "local_date": "2026-12-02",
                                 "occurred_at": "2026-12-02T10:00:00+00:00",
                                 "skills": [{"skill_id": "tipp", "rating": 7}]})
    assert _merge("skill", suggested, rated)["helped"] is True
    other = {**rated, "helped": {"wise_mind": True}}
    assert _merge("skill", suggested, other) is None


def test_an_acknowledgement_closes_only_its_own_crisis():
    held = {"crisis_id": "c1", "status": "open", "as_of": "2026-12-02T08:00:00+00:00"}
    closed = _merge("crisis", held, {"crisis_id": "c1", "status": "acknowledged",
                                     "as_of": "2026-12-02T08:05:00+00:00"})
    assert closed["status"] == "acknowledged"
    assert _merge("crisis", held, {"crisis_id": "c2", "status": "acknowledged",
                                   "as_of": "2026-12-02T08:05:00+00:00"}) is None

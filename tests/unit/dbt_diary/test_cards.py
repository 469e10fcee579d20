"""The diary card's pure rules: one path per item, peaks across saves, and the
skill-effectiveness arithmetic (helped: 5 and 7; did not: 3, 4 and 6)."""

from services.dbt_diary.cards import flatten, helped, merge, peak, tally


def test_a_card_becomes_one_path_per_item():
    assert flatten({
        "urges": {"suicide": {"rating": 2, "acted": False}},
        "targets": [{"name": "Binge eating", "rating": 3, "acted": True}],
        "emotions": {"shame": 4}, "own_emotions": [{"name": "Restless", "rating": 2}],
        "misery": {"physical": 1}, "belief_in_control": {"thoughts": 3},
        "medication_as_prescribed": True, "note": "kept apart", "skills": [],
    }) == {
        "urges.suicide.rating": 2, "urges.suicide.acted": False,
        "targets.binge eating.rating": 3, "targets.binge eating.acted": True,
        "emotions.shame": 4, "own_emotions.restless": 2, "misery.physical": 1,
        "belief_in_control.thoughts": 3, "medication_as_prescribed": True,
    }


def test_ratings_keep_their_peak_and_acting_on_an_urge_stays():
    assert peak("emotions.shame", 4, 2) == 4 and peak("emotions.shame", 2, 4) == 4
    assert peak("urges.self_harm.acted", True, False) is True
    assert peak("urges.self_harm.acted", None, False) is False


def test_medication_not_taken_as_prescribed_once_is_what_the_day_keeps():
    assert peak("medication_as_prescribed", True, False) is False
    assert peak("medication_as_prescribed", False, True) is False


def test_a_merge_records_when_each_value_was_set():
    ratings, set_at = merge({}, {}, {"emotions.shame": 2, "misery.physical": 3}, "08:00")
    ratings, set_at = merge(ratings, set_at, {"emotions.shame": 4, "misery.physical": 1}, "20:00")
    assert ratings == {"emotions.shame": 4, "misery.physical": 3}
    assert set_at == {"emotions.shame": "20:00", "misery.physical": "08:00"}  # 1 < 3: unchanged


def test_what_a_skill_rating_says_about_helping():
    assert [helped(r) for r in range(8)] == [None, None, None, False, False, True, False, True]


def test_effectiveness_counts_days_used_and_helped():
    rows = tally([("tipp", 5), ("tipp", 7), ("tipp", 4), ("tipp", 1),
                  ("stop", 3), ("stop", 6), ("check_the_facts", 0)])
    assert rows == [
        {"skill_id": "tipp", "days_rated": 4, "days_used": 3, "helped": 2, "did_not_help": 1,
         "helped_share": 0.667},
        {"skill_id": "stop", "days_rated": 2, "days_used": 2, "helped": 0, "did_not_help": 2,
         "helped_share": 0.0},
        {"skill_id": "check_the_facts", "days_rated": 1, "days_used": 0, "helped": 0,
         "did_not_help": 0, "helped_share": None},
    ]

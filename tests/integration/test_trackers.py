"""The specialized trackers and questionnaires through the gateway."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.support import db
from tests.support.flows import confirmed_contact, crisis_emails, shift, unique_email, wait_until

NOW = datetime.now(timezone.utc)
TODAY = NOW.date()

KINDS = {
    "abandonment": ({"occurred_at": (NOW - timedelta(hours=5)).isoformat(), "trigger": "no reply",
                     "perceived": 8, "urges": ["text again and again"], "reality_check": True,
                     "skill_id": "check_the_facts", "intensity_after": 3},
                    {"intensity_after": 2}),
    "emotions": ({"emotion": "shame", "intensity": 7, "onset_at": (NOW - timedelta(hours=3)).isoformat(),
                  "peak_at": (NOW - timedelta(hours=2)).isoformat()},
                 {"baseline_at": (NOW - timedelta(hours=1)).isoformat()}),
    "cycle": ({"day": TODAY.isoformat(), "flow": "medium", "drsp": {"1": 3, "2": 4}},
              {"flow": "heavy"}),
    "routine": ({"day": TODAY.isoformat(), "out_of_bed": "07:10", "bed": "23:30"},
                {"dinner": "19:00"}),
}


@pytest.mark.parametrize("kind", KINDS)
def test_create_read_correct_delete(user, kind):
    create, change = KINDS[kind]
    created = user.post(f"/api/v1/trackers/{kind}", json=create)
    assert created.status_code == 201, created.text
    record = created.json()
    path = f"/api/v1/trackers/{kind}/{record['record_id']}"
    assert user.get(path).json()["record_id"] == record["record_id"]
    corrected = user.patch(path, json=change)
    assert corrected.status_code == 200, corrected.text
    for key, value in change.items():
        got = corrected.json()[key]
        assert got == value or datetime.fromisoformat(got) == datetime.fromisoformat(value)
    assert [r["record_id"] for r in user.get(f"/api/v1/trackers/{kind}").json()] == [record["record_id"]]
    assert user.delete(path).status_code == 204
    assert user.get(path).status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_another_user_can_neither_see_nor_change_a_record(user, other_user, kind):
    create, change = KINDS[kind]
    record = user.post(f"/api/v1/trackers/{kind}", json=create).json()
    path = f"/api/v1/trackers/{kind}/{record['record_id']}"
    for response in (other_user.get(path), other_user.patch(path, json=change), other_user.delete(path)):
        assert response.status_code == 404
    assert other_user.get(f"/api/v1/trackers/{kind}").json() == []
    assert user.get(path).status_code == 200


def test_one_cycle_and_one_routine_record_a_day(user):
    for kind in ("cycle", "routine"):
        assert user.post(f"/api/v1/trackers/{kind}", json=KINDS[kind][0]).status_code == 201
        again = user.post(f"/api/v1/trackers/{kind}", json=KINDS[kind][0])
        assert again.status_code == 409 and "day" in again.json()["fields"]


def test_the_weekly_social_rhythm_score(user):
    monday = TODAY - timedelta(days=TODAY.weekday() + 7)
    for offset, (up, bed) in enumerate([("07:00", "23:00"), ("07:30", "23:30"), ("07:10", "00:10"),
                                        ("09:00", "23:20"), ("07:05", None)]):
        body = {"day": (monday + timedelta(days=offset)).isoformat(), "out_of_bed": up}
        if bed:
            body["bed"] = bed
        assert user.post("/api/v1/trackers/routine", json=body).status_code == 201
    week = user.get("/api/v1/trackers/routine/regularity", params={"start": monday.isoformat()}).json()
    assert week["anchors"]["out_of_bed"] == {"days": 5, "counted": True, "hits": 4, "habitual": "07:10"}
    assert week["anchors"]["bed"]["hits"] == 4 and week["anchors"]["dinner"]["counted"] is False
    assert week["score"] == 4.0 and week["stable"] is True and "median" in week["method"]


def test_the_emotion_curve(user):
    for back in (30, 90, 60):
        onset = NOW - timedelta(days=back, hours=2)
        user.post("/api/v1/trackers/emotions", json={
            "emotion": "anger", "intensity": 6, "onset_at": onset.isoformat(),
            "peak_at": (onset + timedelta(minutes=15)).isoformat(),
            "baseline_at": (onset + timedelta(minutes=back)).isoformat()})
    user.post("/api/v1/trackers/emotions", json={"emotion": "fear", "intensity": 3,
                                                 "onset_at": NOW.isoformat()})
    curve = user.get("/api/v1/trackers/emotions/curve", params={
        "emotion": "anger", "from": (TODAY - timedelta(days=100)).isoformat()}).json()
    assert [e["minutes_to_baseline"] for e in curve["episodes"]] == [90.0, 60.0, 30.0]
    assert curve["median_minutes_to_baseline"] == 60.0
    backwards = user.post("/api/v1/trackers/emotions", json={
        "emotion": "fear", "intensity": 3, "onset_at": NOW.isoformat(),
        "peak_at": (NOW - timedelta(hours=1)).isoformat()})
    assert backwards.status_code == 422 and "peak_at" in backwards.json()["fields"]


def test_cycle_days_and_phases_line_up_with_mood_over_two_cycles(user):
    first = TODAY - timedelta(days=70)
    starts = [first, first + timedelta(days=28), first + timedelta(days=56)]
    for start in starts:
        for offset in range(4):
            user.post("/api/v1/trackers/cycle", json={"day": (start + timedelta(days=offset)).isoformat(),
                                                      "flow": "medium"})
    for start in starts[1:]:  # the premenstrual week: low mood and high DRSP
        for back in range(1, 8):
            day = start - timedelta(days=back)
            user.post("/api/v1/trackers/cycle", json={"day": day.isoformat(),
                                                      "drsp": {str(n): 5 for n in range(1, 22)}})
            user.post("/api/v1/mood/shift", json=shift(-2, previous=-2,
                                                       timestamp=f"{day.isoformat()}T12:00:00+00:00"))
    listed = user.get("/api/v1/trackers/cycle", params={"from": first.isoformat()}).json()
    by_day = {r["day"]: r for r in listed}
    assert by_day[first.isoformat()]["cycle_day"] == 1 and by_day[first.isoformat()]["phase"] == "menstrual"
    assert by_day[(starts[1] - timedelta(days=1)).isoformat()]["phase"] == "premenstrual"
    report = user.get("/api/v1/trackers/cycle/mood", params={"from": first.isoformat()}).json()
    assert report["enough_cycles"] is True and len(report["cycles"]) == 2
    for cycle in report["cycles"]:
        assert cycle["length_days"] == 28
        assert cycle["premenstrual"]["mean_peak_depression"] == -2.0
        assert cycle["premenstrual"]["mean_drsp"] == 5.0
        assert cycle["postmenstrual"]["mean_drsp"] is None
    assert "diagnosis" in report["note"]


@pytest.mark.parametrize("instrument,answers,score,band", [
    ("phq9", [1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild"),
    ("phq9", [3, 3, 3, 3, 3, 3, 2, 0, 0], 20, "severe"),
    ("gad7", [2, 2, 2, 2, 2, 0, 0], 10, "moderate"),
    ("asrm", [2, 1, 1, 1, 1], 6, "probable mania or hypomania"),
    ("asrm", [1, 1, 1, 2, None], 6, "probable mania or hypomania"),
])
def test_questionnaires_are_scored(user, instrument, answers, score, band):
    response = user.post(f"/api/v1/questionnaires/{instrument}", json={"answers": answers})
    assert response.status_code == 201, response.text
    assert (response.json()["score"], response.json()["band"]) == (score, band)
    history = user.get(f"/api/v1/questionnaires/{instrument}").json()
    assert history[0]["response_id"] == response.json()["response_id"]


def test_questionnaires_refuse_what_cannot_be_scored(user):
    for instrument, answers in (("asrm", [1, 1, 1, None, None]), ("phq9", [0] * 8),
                                ("gad7", [4] * 7), ("phq9", [0] * 8 + [None])):
        response = user.post(f"/api/v1/questionnaires/{instrument}", json={"answers": answers})
        assert response.status_code == 422 and "answers" in response.json()["fields"], answers
    assert user.post("/api/v1/questionnaires/bdi", json={"answers": [0] * 5}).status_code == 404
    assert user.get("/api/v1/questionnaires/phq9").json() == []
    items = {i["instrument"]: i for i in user.get("/api/v1/questionnaires").json()}
    assert len(items["phq9"]["items"]) == 9 and items["asrm"]["items_that_may_be_left_out"] == 1


def test_phq9_item_nine_alerts_a_confirmed_contact_once(user, sinks):
    email = unique_email()
    confirmed_contact(user, sinks, email=email)
    answers = [0, 0, 0, 0, 0, 0, 0, 0, 1]  # a total of 1: minimal, and still a crisis
    assert user.post("/api/v1/questionnaires/phq9", json={"answers": answers}).status_code == 201
    wait_until(lambda: crisis_emails(sinks, email), timeout=20)
    user.post("/api/v1/questionnaires/phq9", json={"answers": answers})  # within the cool-down
    wait_until(lambda: db.scalar("SELECT count(*) FROM pattern_analysis.pattern_analyses WHERE "
                                 "user_id = :u AND source = 'questionnaire'", u=user.user_id) == 2)
    assert len(crisis_emails(sinks, email)) == 1
    rules = [f["rule"] for f in user.get("/api/v1/patterns/flags").json()]
    assert rules == ["phq9_item9", "phq9_item9"]  # both flagged; alerted once

"""Episodes, candidates from the daily baselines, interventions and the safety
plan through the gateway; ownership and account erasure across the three new
schemas."""

from datetime import datetime, time, timedelta, timezone

import pytest

from tests.support import db
from tests.support.flows import confirmed_contact, shift, unique_email, wait_until

TODAY = datetime.now(timezone.utc).date()


def log_days(user, levels, first_day):
    """One backdated shift a day, at noon UTC (the user's zone): the day's baseline."""
    for offset, level in enumerate(levels):
        at = datetime.combine(first_day + timedelta(days=offset), time(12), timezone.utc)
        response = user.post("/api/v1/mood/shift", json=shift(level, previous=level,
                                                               timestamp=at.isoformat()))
        assert response.status_code == 201, response.text


def candidates(user):
    response = user.get("/api/v1/episodes/candidates")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("kind,level,length", [("hypomanic", 1, 4), ("depressive", -2, 14)])
def test_a_candidate_at_the_threshold_and_none_a_day_short(api, kind, level, length):
    short, enough = api.new_user(), api.new_user()
    first = TODAY - timedelta(days=length + 5)
    log_days(short, [level] * (length - 1), first)
    log_days(enough, [level] * length, first)
    assert candidates(short) == []
    [candidate] = candidates(enough)
    assert candidate["kind"] == kind and candidate["days"] == length
    assert candidate["start_day"] == first.isoformat()
    assert [d["level"] for d in candidate["supporting_days"]] == [level] * length


def test_confirming_a_candidate_records_the_episode_and_dismissing_forgets_it(api):
    user = api.new_user()
    log_days(user, [2] * 7, TODAY - timedelta(days=30))
    log_days(user, [1] * 4, TODAY - timedelta(days=15))
    by_kind = {c["kind"]: c for c in candidates(user)}
    assert set(by_kind) == {"manic", "hypomanic"}
    confirmed = user.post(f"/api/v1/episodes/candidates/{by_kind['manic']['candidate_id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    episode = confirmed.json()["episode"]
    assert episode["kind"] == "manic" and episode["origin"] == "candidate"
    assert episode["end_day"] == (TODAY - timedelta(days=24)).isoformat()
    assert episode["peak_severity"] == 2
    dismissed = user.post(f"/api/v1/episodes/candidates/{by_kind['hypomanic']['candidate_id']}/dismiss")
    assert dismissed.json() == {"candidate_id": by_kind["hypomanic"]["candidate_id"],
                                "decision": "dismiss", "episode": None}
    assert candidates(user) == []  # neither is proposed again
    assert [e["episode_id"] for e in user.get("/api/v1/episodes").json()] == [episode["episode_id"]]
    again = user.post(f"/api/v1/episodes/candidates/{by_kind['manic']['candidate_id']}/confirm")
    assert again.status_code == 404


def test_episodes_of_one_kind_may_not_overlap_and_can_be_closed(user):
    start = (TODAY - timedelta(days=20)).isoformat()
    created = user.post("/api/v1/episodes", json={"kind": "depressive", "start_day": start})
    assert created.status_code == 201 and created.json()["end_day"] is None
    overlapping = user.post("/api/v1/episodes", json={
        "kind": "depressive", "start_day": (TODAY - timedelta(days=2)).isoformat()})
    assert overlapping.status_code == 409 and "start_day" in overlapping.json()["fields"]
    other_kind = user.post("/api/v1/episodes", json={
        "kind": "mixed", "start_day": (TODAY - timedelta(days=2)).isoformat()})
    assert other_kind.status_code == 201
    episode_id = created.json()["episode_id"]
    closed = user.post(f"/api/v1/episodes/{episode_id}/close",
                       json={"end_day": (TODAY - timedelta(days=5)).isoformat()})
    assert closed.status_code == 200 and closed.json()["end_day"] == (TODAY - timedelta(days=5)).isoformat()
    later = user.post("/api/v1/episodes", json={
        "kind": "depressive", "start_day": (TODAY - timedelta(days=3)).isoformat(),
        "hospitalised": True, "peak_severity": 4})
    assert later.status_code == 201
    backwards = user.patch(f"/api/v1/episodes/{episode_id}", json={"end_day": "2000-01-01"})
    assert backwards.status_code == 422 and "end_day" in backwards.json()["fields"]


def test_the_fourth_mood_episode_within_a_year_raises_a_rapid_cycling_flag(user):
    kinds = ["depressive", "hypomanic", "depressive", "manic"]
    for index, kind in enumerate(kinds):
        start = TODAY - timedelta(days=300 - 80 * index)
        created = user.post("/api/v1/episodes", json={
            "kind": kind, "start_day": start.isoformat(),
            "end_day": (start + timedelta(days=20)).isoformat()})
        assert created.status_code == 201, created.text
        analysed = wait_until(lambda n=index + 1: len(db.rows(
            "SELECT 1 FROM pattern_analysis.pattern_analyses WHERE user_id = :u AND source = "
            "'episode'", u=user.user_id)) == n)
        assert analysed
        flags = user.get("/api/v1/patterns/flags", params={
            "from": (TODAY - timedelta(days=360)).isoformat(), "to": TODAY.isoformat()}).json()
        rapid = [f for f in flags if f["rule"] == "rapid_cycling_episodes"]
        assert len(rapid) == (1 if index == 3 else 0), index
    assert rapid[0]["alerted"] is False and rapid[0]["source"] == "episode"  # a pattern, not a crisis


def test_interventions_are_recorded_on_an_episode(user):
    episode = user.post("/api/v1/episodes", json={
        "kind": "bpd_crisis", "start_day": TODAY.isoformat()}).json()
    path = f"/api/v1/episodes/{episode['episode_id']}/interventions"
    at = datetime.now(timezone.utc).isoformat()
    added = user.post(path, json={"kind": "crisis_line_called", "happened_at": at,
                                  "by_whom": "me", "outcome": "talked it through"})
    assert added.status_code == 201, added.text
    assert [i["kind"] for i in user.get(path).json()] == ["crisis_line_called"]
    automatic = user.post(path, json={"kind": "alert_sent", "happened_at": at})
    assert automatic.status_code == 400 and "kind" in automatic.json()["fields"]


def test_the_safety_plan_is_versioned_and_names_contacts_skills_and_the_crisis_line(user, sinks):
    user.patch("/api/v1/profile", json={"country": "GB"})
    contact = confirmed_contact(user, sinks, email=unique_email())
    first = user.call("PUT", "/api/v1/safety-plan", json={
        "warning_signs": ["not sleeping", "pulling away from people"],
        "internal_coping": [{"skill_id": "tipp"}, {"text": "a cold shower"}],
        "distractions": {"people": ["my sister"], "places": ["the park"]},
        "people_to_ask": [{"contact_id": contact["contact_id"]}, {"name": "Sam", "phone": "+447911123456"}],
        "professionals": [{"name": "Dr Rao", "role": "psychiatrist"}],
        "environment": ["give the pills to Sam"]})
    assert first.status_code == 200, first.text
    plan = first.json()
    assert plan["version"] == 1 and plan["crisis_line"]["name"] == "Samaritans"
    second = user.call("PUT", "/api/v1/safety-plan", json={"warning_signs": ["racing thoughts"]})
    assert second.json()["version"] == 2
    assert user.get("/api/v1/safety-plan").json()["steps"] == {"warning_signs": ["racing thoughts"]}
    assert [v["version"] for v in user.get("/api/v1/safety-plan/versions").json()] == [2, 1]
    assert user.get("/api/v1/safety-plan/versions/1").json()["steps"]["environment"] == [
        "give the pills to Sam"]
    assert user.get("/api/v1/safety-plan/versions/3").status_code == 404


def test_a_safety_plan_refuses_skills_and_contacts_that_are_not_there(user, other_user, sinks):
    theirs = other_user.post("/api/v1/contacts", json={"name": "Z", "email": unique_email()}).json()
    for body, field in (({"internal_coping": [{"skill_id": "levitation"}]}, "internal_coping"),
                        ({"people_to_ask": [{"contact_id": theirs["contact_id"]}]}, "people_to_ask")):
        response = user.call("PUT", "/api/v1/safety-plan", json=body)
        assert response.status_code == 422 and field in response.json()["fields"], body
    assert user.get("/api/v1/safety-plan").status_code == 404  # nothing was saved


def test_another_user_can_neither_see_nor_change_an_episode(user, other_user):
    episode = user.post("/api/v1/episodes", json={
        "kind": "other", "start_day": TODAY.isoformat(), "notes": "private note"}).json()
    path = f"/api/v1/episodes/{episode['episode_id']}"
    at = datetime.now(timezone.utc).isoformat()
    for response in (other_user.get(path), other_user.patch(path, json={"notes": "x"}),
                     other_user.post(f"{path}/close", json={"end_day": TODAY.isoformat()}),
                     other_user.get(f"{path}/interventions"),
                     other_user.post(f"{path}/interventions",
                                     json={"kind": "clinician_seen", "happened_at": at}),
                     other_user.delete(path)):
        assert response.status_code == 404 and "private note" not in response.text
    assert other_user.get("/api/v1/episodes").json() == []
    assert user.get(path).json()["notes"] == "private note"
    user.call("PUT", "/api/v1/safety-plan", json={"warning_signs": ["mine"]})
    assert other_user.get("/api/v1/safety-plan").status_code == 404


def test_deleting_the_account_leaves_nothing_in_the_three_schemas(user, sinks):
    user.call("PUT", f"/api/v1/dbt/cards/{TODAY.isoformat()}",
              json={"skills": [{"skill_id": "stop", "rating": 5}], "note": "x"})
    episode = user.post("/api/v1/episodes", json={"kind": "other", "start_day": TODAY.isoformat()}).json()
    user.post(f"/api/v1/episodes/{episode['episode_id']}/interventions",
              json={"kind": "clinician_seen", "happened_at": datetime.now(timezone.utc).isoformat()})
    user.call("PUT", "/api/v1/safety-plan", json={"warning_signs": ["x"]})
    assert user.delete("/api/v1/account", json={"password": user.password}).status_code == 204
    tables = db.rows("SELECT table_schema, table_name FROM information_schema.columns WHERE "
                     "column_name = 'user_id' AND table_schema IN ('dbt_diary', 'episode_tracking',"
                     " 'therapeutic_content')")
    assert len(tables) >= 6
    for schema, table in tables:
        assert db.scalar(f'SELECT count(*) FROM "{schema}"."{table}" WHERE user_id = :u',
                         u=user.user_id) == 0, table
    for schema in ("dbt_diary", "episode_tracking"):
        def erased(schema=schema):
            return db.scalar(f'SELECT count(*) FROM "{schema}".outbox WHERE subject_id = :u',
                             u=user.user_id) == 0
        wait_until(erased)

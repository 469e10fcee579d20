"""The DBT diary card through the gateway: peaks across saves, the weekly grid,
skill effectiveness, the diary's crisis rule, ownership and bad input."""

from datetime import date, datetime, timedelta, timezone

from tests.support import db
from tests.support.flows import (
    confirmed_contact,
    crisis_emails,
    crisis_sms,
    unique_email,
    unique_phone,
    wait_until,
)

TODAY = datetime.now(timezone.utc).date()  # the test users live in UTC


def card_path(day: date) -> str:
    return f"/api/v1/dbt/cards/{day.isoformat()}"


def analyses(user, source="dbt_card"):
    return db.rows("SELECT rules_fired, crisis_id FROM pattern_analysis.pattern_analyses "
                   "WHERE user_id = :u AND source = :s", u=user.user_id, s=source)


def test_saving_twice_in_a_day_keeps_the_peak_of_each_rating(user):
    first = user.call("PUT", card_path(TODAY), json={
        "urges": {"substance_use": {"rating": 1}}, "emotions": {"shame": 2},
        "misery": {"physical": 3}, "medication_as_prescribed": True, "note": "morning"})
    assert first.status_code == 200, first.text
    second = user.call("PUT", card_path(TODAY), json={
        "urges": {"substance_use": {"rating": 0, "acted": True}}, "emotions": {"shame": 4},
        "misery": {"physical": 1}, "medication_as_prescribed": False,
        "targets": [{"name": "Binge eating", "rating": 2, "acted": False}]})
    assert second.status_code == 200, second.text
    card = user.get(card_path(TODAY)).json()
    assert card["urges"]["substance_use"] == {"rating": 1, "acted": True}
    assert card["emotions"] == {"shame": 4} and card["misery"] == {"physical": 3}
    assert card["medication_as_prescribed"] is False and card["note"] == "morning"
    assert card["targets"] == [{"name": "binge eating", "rating": 2, "acted": False}]
    stamps = card["set_at"]
    assert stamps["emotions.shame"] > stamps["misery.physical"]  # raised later; 1 < 3 kept
    assert card == second.json()


def test_the_weekly_grid_has_a_row_per_item_and_a_column_per_day(user):
    monday = TODAY - timedelta(days=TODAY.weekday() + 7)
    user.call("PUT", card_path(monday), json={"emotions": {"sadness": 3},
                                              "skills": [{"skill_id": "tipp", "rating": 5}]})
    user.call("PUT", card_path(monday + timedelta(days=2)), json={"emotions": {"sadness": 1}})
    week = user.get("/api/v1/dbt/week", params={"start": monday.isoformat()}).json()
    assert week["days"][0] == monday.isoformat() and len(week["days"]) == 7
    rows = {row["item"]: row["values"] for row in week["rows"]}
    assert rows["emotions.sadness"] == [3, None, 1, None, None, None, None]
    assert rows["skills.tipp"] == [5, None, None, None, None, None, None]


def test_skill_effectiveness_counts_the_days_a_skill_helped(user):
    ratings = {"tipp": [5, 7, 4], "stop": [3, 6], "check_the_facts": [1]}
    for offset in range(3):
        skills = [{"skill_id": skill, "rating": values[offset]}
                  for skill, values in ratings.items() if offset < len(values)]
        saved = user.call("PUT", card_path(TODAY - timedelta(days=offset + 1)), json={"skills": skills})
        assert saved.status_code == 200, saved.text
    report = user.get("/api/v1/dbt/skills/effectiveness").json()
    assert report == [
        {"skill_id": "tipp", "days_rated": 3, "days_used": 3, "helped": 2, "did_not_help": 1,
         "helped_share": 0.667},
        {"skill_id": "stop", "days_rated": 2, "days_used": 2, "helped": 0, "did_not_help": 2,
         "helped_share": 0.0},
        {"skill_id": "check_the_facts", "days_rated": 1, "days_used": 0, "helped": 0,
         "did_not_help": 0, "helped_share": None},
    ]


def test_an_urge_to_suicide_at_four_alerts_once_and_records_an_intervention(user, sinks):
    email, phone = unique_email(), unique_phone()
    confirmed_contact(user, sinks, email=email, phone=phone)
    assert user.call("PUT", card_path(TODAY), json={
        "urges": {"suicide": {"rating": 4, "acted": False}}}).status_code == 200
    wait_until(lambda: crisis_emails(sinks, email) and crisis_sms(sinks, phone), timeout=20)
    # Saved again, higher: the same card has raised its crisis already.
    user.call("PUT", card_path(TODAY), json={"urges": {"suicide": {"rating": 5}}})
    wait_until(lambda: len(analyses(user)) == 2)  # both saves analysed: nothing more is coming
    assert [a.rules_fired for a in analyses(user)].count(["dbt_suicide_urge"]) == 1
    assert len(crisis_emails(sinks, email)) == 1 and len(crisis_sms(sinks, phone)) == 1

    def crisis_episode():
        found = [e for e in user.get("/api/v1/episodes").json() if e["origin"] == "crisis"]
        return found or None

    [episode] = wait_until(crisis_episode)
    [intervention] = user.get(f"/api/v1/episodes/{episode['episode_id']}/interventions").json()
    assert intervention["kind"] == "alert_sent" and intervention["crisis_id"]
    flags = user.get("/api/v1/patterns/flags").json()
    assert [(f["rule"], f["source"]) for f in flags] == [("dbt_suicide_urge", "dbt_card")]


def test_self_harm_acted_on_is_a_crisis_and_a_backdated_card_alerts_nobody(user, sinks):
    email = unique_email()
    confirmed_contact(user, sinks, email=email)
    last_week = TODAY - timedelta(days=7)
    user.call("PUT", card_path(last_week), json={"urges": {"self_harm": {"rating": 3, "acted": True}}})
    [old] = wait_until(lambda: analyses(user))
    assert old.rules_fired == ["dbt_self_harm"] and old.crisis_id is None
    user.call("PUT", card_path(TODAY), json={"urges": {"self_harm": {"rating": 2, "acted": True}}})
    wait_until(lambda: crisis_emails(sinks, email))


def test_unknown_skills_and_out_of_range_ratings_are_refused_and_nothing_is_written(user):
    unknown = user.call("PUT", card_path(TODAY), json={
        "skills": [{"skill_id": "levitation", "rating": 5}]})
    assert unknown.status_code == 422 and "skills" in unknown.json()["fields"]
    for body, field in (({"emotions": {"shame": 6}}, "emotions"),
                        ({"skills": [{"skill_id": "tipp", "rating": 8}]}, "skills"),
                        ({"urges": {"suicide": {"rating": -1}}}, "urges"),
                        ({"urges": {"suicide": {}}}, "urges"),
                        ({"targets": [{"name": "a.b", "rating": 1}]}, "targets"),
                        ({"medication_as_prescribed": 1}, "medication_as_prescribed"),
                        ({}, "_schema")):
        response = user.call("PUT", card_path(TODAY), json=body)
        assert response.status_code == 400 and field in response.json()["fields"], body
    assert user.get(card_path(TODAY)).status_code == 404


def test_dates_are_checked(user):
    tomorrow = user.call("PUT", card_path(TODAY + timedelta(days=2)), json={"emotions": {"joy": 1}})
    assert tomorrow.status_code == 422 and "date" in tomorrow.json()["fields"]
    assert user.get("/api/v1/dbt/cards/yesterday").status_code == 400
    assert user.get("/api/v1/dbt/cards/1999-01-01").status_code == 422


def test_another_user_can_neither_see_nor_change_a_card(user, other_user):
    user.call("PUT", card_path(TODAY), json={"emotions": {"fear": 3}, "note": "private"})
    for response in (other_user.get(card_path(TODAY)), other_user.delete(card_path(TODAY))):
        assert response.status_code == 404 and "private" not in response.text
    assert other_user.get("/api/v1/dbt/cards").json() == []
    week = other_user.get("/api/v1/dbt/week", params={"start": TODAY.isoformat()}).json()
    assert week["rows"] == []
    assert user.get(card_path(TODAY)).json()["emotions"] == {"fear": 3}


def test_cards_list_by_range_and_delete(user):
    for offset in (0, 1, 40):
        user.call("PUT", card_path(TODAY - timedelta(days=offset)), json={"emotions": {"joy": 2}})
    listed = user.get("/api/v1/dbt/cards").json()  # the last 30 days
    assert [c["date"] for c in listed] == [(TODAY - timedelta(days=1)).isoformat(), TODAY.isoformat()]
    assert user.delete(card_path(TODAY)).status_code == 204
    assert user.get(card_path(TODAY)).status_code == 404

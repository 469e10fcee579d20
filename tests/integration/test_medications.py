"""Medication tracking through the gateway: doses, adherence, changes, side
effects, missed doses with two instances running, ownership."""

import time as clock
from datetime import datetime, time, timedelta, timezone

from services import registry
from tests.support import db
from tests.support.events import capture_events
from tests.support.flows import wait_until

TODAY = datetime.now(timezone.utc).date()


def at(day, hhmm="08:05"):
    return datetime.combine(day, time.fromisoformat(hhmm), timezone.utc).isoformat()


def medication(user, **overrides):
    body = {"name": "Lithium carbonate", "dose": "400 mg", "dose_amount": 400, "dose_unit": "mg",
            "schedule": {"times": ["08:00"]}, **overrides}
    created = user.post("/api/v1/medications", json=body)
    assert created.status_code == 201, created.text
    return created.json()


def test_a_week_with_one_dose_skipped_and_one_missing(user):
    first = TODAY - timedelta(days=7)
    med = medication(user, schedule={"times": ["08:00"], "start_date": first.isoformat(),
                                     "end_date": (TODAY - timedelta(days=1)).isoformat()})
    path = f"/api/v1/medications/{med['medication_id']}/doses"
    for offset in range(5):
        logged = user.post(path, json={"status": "taken", "taken_at": at(first + timedelta(days=offset))})
        assert logged.status_code == 201, logged.text
        assert logged.json()["scheduled_for"].startswith((first + timedelta(days=offset)).isoformat())
    user.post(path, json={"status": "skipped", "taken_at": at(first + timedelta(days=5), "09:00")})
    # the seventh day: nothing logged at all
    weeks = user.get("/api/v1/medications/adherence",
                     params={"from": first.isoformat(), "to": TODAY.isoformat()}).json()
    totals = {key: sum(w[key] for w in weeks) for key in ("scheduled", "taken", "skipped", "missed", "late")}
    assert totals == {"scheduled": 7, "taken": 5, "skipped": 1, "missed": 1, "late": 0}
    assert all(w["medication_id"] == med["medication_id"] for w in weeks)
    for week in weeks:
        assert week["percentage"] == round(100 * (week["taken"] + week["late"]) / week["scheduled"], 1)


def test_a_repeat_of_a_scheduled_dose_answers_with_the_first(user):
    med = medication(user, schedule={"times": ["08:00"], "start_date": (TODAY - timedelta(days=1)).isoformat()})
    path = f"/api/v1/medications/{med['medication_id']}/doses"
    yesterday = TODAY - timedelta(days=1)
    first = user.post(path, json={"status": "taken", "taken_at": at(yesterday, "08:10")}).json()
    again = user.post(path, json={"status": "late", "taken_at": at(yesterday, "09:00")}).json()
    assert again == first
    assert len(user.get(path, params={"from": yesterday.isoformat()}).json()) == 1


def test_a_change_applies_from_its_date_forward_and_updates_the_list(user):
    start = TODAY - timedelta(days=6)
    med = medication(user, schedule={"times": ["08:00"], "start_date": start.isoformat()})
    path = f"/api/v1/medications/{med['medication_id']}"
    provider = user.post("/api/v1/providers", json={"name": "Dr Rao"}).json()
    change = user.post(f"{path}/changes", json={
        "kind": "dose_changed", "effective_date": (TODAY - timedelta(days=3)).isoformat(),
        "reason": "levels low", "prescriber_id": provider["provider_id"],
        "new": {"dose": "600 mg", "dose_amount": 600}})
    assert change.status_code == 201, change.text
    assert change.json()["before"]["dose_amount"] == 400 and change.json()["after"]["dose_amount"] == 600
    assert user.get(path).json()["dose_amount"] == 600 and user.get(path).json()["dose"] == "600 mg"
    before = user.post(f"{path}/doses", json={"status": "taken", "amount": 600,
                                              "taken_at": at(TODAY - timedelta(days=5))}).json()
    after = user.post(f"{path}/doses", json={"status": "taken", "amount": 600,
                                             "taken_at": at(TODAY - timedelta(days=2))}).json()
    assert before["off_prescription"] is True and after["off_prescription"] is False
    assert [c["kind"] for c in user.get(f"{path}/changes").json()] == ["dose_changed"]
    weeks = user.get("/api/v1/medications/adherence", params={"from": start.isoformat()}).json()
    assert sum(w["off_prescription"] for w in weeks) == 1


def test_changes_are_checked(user, other_user):
    med = medication(user)
    path = f"/api/v1/medications/{med['medication_id']}/changes"
    theirs = other_user.post("/api/v1/providers", json={"name": "Dr X"}).json()
    for body, field in (({"kind": "dose_changed", "effective_date": TODAY.isoformat()}, "new"),
                        ({"kind": "stopped", "effective_date": (TODAY + timedelta(days=3)).isoformat()},
                         "effective_date"),
                        ({"kind": "stopped", "effective_date": TODAY.isoformat(),
                          "prescriber_id": theirs["provider_id"]}, "prescriber_id")):
        response = user.post(path, json=body)
        assert response.status_code == 422 and field in response.json()["fields"], body
    stopped = user.post(path, json={"kind": "stopped", "effective_date": TODAY.isoformat()})
    assert stopped.status_code == 201
    assert user.get(f"/api/v1/medications/{med['medication_id']}").json()["active"] is False


def test_side_effects_by_medication_and_range(user):
    med = medication(user)
    path = f"/api/v1/medications/{med['medication_id']}/side-effects"
    old = user.post(path, json={"effect": "tremor", "severity": 2,
                                "started_on": (TODAY - timedelta(days=60)).isoformat(),
                                "ended_on": (TODAY - timedelta(days=50)).isoformat()})
    assert old.status_code == 201, old.text
    user.post(path, json={"effect": "thirst", "severity": 1,
                          "started_on": (TODAY - timedelta(days=5)).isoformat()})
    user.post(path, json={"effect": "other", "description": "metallic taste", "severity": 1,
                          "started_on": TODAY.isoformat()})
    assert user.post(path, json={"effect": "other", "severity": 1,
                                 "started_on": TODAY.isoformat()}).status_code == 422
    recent = user.get(path).json()  # the last 30 days
    assert [e["effect"] for e in recent] == ["other", "thirst"]
    older = user.get("/api/v1/medications/side-effects",
                     params={"from": (TODAY - timedelta(days=70)).isoformat(),
                             "to": (TODAY - timedelta(days=40)).isoformat()}).json()
    assert [e["effect"] for e in older] == ["tremor"]


def test_a_missed_dose_is_published_once_with_two_instances_running(api, stack):
    stack.start_one("medications_2", registry.SERVICES["medications"].path)
    log = stack.log_path("medications_2")
    wait_until(lambda: log.exists() and "starting services: medications" in log.read_text(), timeout=30)
    try:
        user = api.new_user()
        due = datetime.now(timezone.utc) - timedelta(hours=3)
        with capture_events("medications", "medication.dose_missed") as captured:
            medication(user, schedule={"times": [due.strftime("%H:%M")],
                                       "start_date": (TODAY - timedelta(days=1)).isoformat()})
            wait_until(lambda: db.scalar("SELECT count(*) FROM medications.missed_doses "
                                         "WHERE user_id = :u", u=user.user_id) == 1, timeout=30)
            clock.sleep(3)  # three more checks by each instance; the claim's key allows no second
        # The outbox publishes at least once (a sweep on the other instance may
        # republish a row before this one marks it); handlers dedupe by event id.
        # The claim is what must be once: one event id, one outbox row.
        mine = {e["event_id"]: e for e in captured if e["data"]["user_id"] == user.user_id}
        assert len(mine) == 1 and next(iter(mine.values()))["data"]["minutes_late"] >= 170
        assert db.scalar("SELECT count(*) FROM medications.outbox WHERE subject_id = :u AND "
                         "event_type = 'medication.dose_missed'", u=user.user_id) == 1
        [missed] = user.get("/api/v1/medications/missed").json()
        assert missed["scheduled_for"].startswith(due.strftime("%Y-%m-%dT%H:%M"))
    finally:
        stack.stop_one("medications_2")


def test_another_users_or_a_deleted_medication_is_404(user, other_user):
    med = medication(user)
    path = f"/api/v1/medications/{med['medication_id']}"
    for method, suffix, body in (("POST", "/doses", {"status": "taken"}), ("GET", "/doses", None),
                                 ("POST", "/side-effects", {"effect": "rash", "severity": 1,
                                                            "started_on": TODAY.isoformat()}),
                                 ("GET", "/side-effects", None), ("GET", "/changes", None),
                                 ("POST", "/changes", {"kind": "stopped",
                                                       "effective_date": TODAY.isoformat()})):
        response = other_user.call(method, path + suffix, json=body)
        assert response.status_code == 404, (method, suffix, response.text)
    effect = user.post(f"{path}/side-effects", json={"effect": "rash", "severity": 1,
                                                     "started_on": TODAY.isoformat()}).json()
    effect_path = f"/api/v1/medications/side-effects/{effect['side_effect_id']}"
    assert other_user.patch(effect_path, json={"severity": 3}).status_code == 404
    assert other_user.delete(effect_path).status_code == 404
    assert other_user.get("/api/v1/medications/adherence").json() == []
    assert user.delete(path).status_code == 204
    assert user.post(f"{path}/doses", json={"status": "taken"}).status_code == 404

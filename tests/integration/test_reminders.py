"""Reminders, missed-dose notes and quiet check-ins on the real stack: each fires
once, with two instances of notifications running or one killed mid-work."""

import re
import signal
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from services import registry
from services.kit import config
from tests.support import db
from tests.support.barriers import events_handled
from tests.support.flows import confirmed_contact, shift, unique_email, wait_until

SNOOZE_LINK = re.compile(r"/reminders/snooze\?token=([A-Za-z0-9_\-]+)")
TODAY = datetime.now(timezone.utc).date()


def reminder(user, **body) -> dict:
    body = {k: v for k, v in {"kind": "diary", "times": ["03:00"], "channels": ["email"], **body}.items()
            if v is not None}
    created = user.post("/api/v1/reminders", json=body)
    assert created.status_code == 201, created.text
    return created.json()


def make_due(reminder_ids: list[str]) -> None:
    db.execute("UPDATE notifications.scheduled_reminders SET next_due_at = now() "
            "WHERE reminder_id = ANY(CAST(:ids AS uuid[]))", ids=reminder_ids)


def reminder_emails(sinks, user) -> list[dict]:
    return [m for m in sinks.emails(to=user.email) if m["subject"].startswith("Reminder:")]


def sends_of(reminder_ids: list[str]) -> dict[str, list[str]]:
    """reminder id -> the status of each message planned for it."""
    found: dict[str, list[str]] = {r: [] for r in reminder_ids}
    for reference, status in db.rows(
            "SELECT reference, status FROM notifications.notifications WHERE kind = 'reminder' "
            "AND split_part(reference, '@', 1) = ANY(:ids)", ids=reminder_ids):
        found[reference.split("@")[0]].append(status)
    return found


def not_due_again(reminder_ids: list[str]) -> bool:
    """Each of these reminders has fired and moved on: none is due now."""
    return db.scalar("SELECT count(*) FROM notifications.scheduled_reminders WHERE reminder_id = "
                     "ANY(CAST(:ids AS uuid[])) AND next_due_at <= now()", ids=reminder_ids) == 0


def test_a_reminder_is_created_in_the_users_time_zone_listed_changed_and_deleted(api):
    user = api.new_user(timezone="Europe/London")
    created = reminder(user, times=["08:00"], days_of_week=["mon", "thu"])
    due = datetime.fromisoformat(created["next_due_at"])
    assert due > datetime.now(timezone.utc)
    assert due.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M %a") in ("08:00 Mon", "08:00 Thu")
    assert [r["reminder_id"] for r in user.get("/api/v1/reminders").json()] == [created["reminder_id"]]
    changed = user.patch(f"/api/v1/reminders/{created['reminder_id']}", json={"times": ["21:30"]})
    assert changed.status_code == 200 and changed.json()["times"] == ["21:30"]
    off = user.patch(f"/api/v1/reminders/{created['reminder_id']}", json={"active": False})
    assert off.json()["next_due_at"] is None
    assert user.delete(f"/api/v1/reminders/{created['reminder_id']}").status_code == 204
    assert user.get(f"/api/v1/reminders/{created['reminder_id']}").status_code == 404


def test_a_due_reminder_is_sent_once_and_snoozed_from_its_message(user, sinks):
    created = reminder(user)
    make_due([created["reminder_id"]])
    [message] = wait_until(lambda: reminder_emails(sinks, user))
    assert message["subject"] == "Reminder: your diary card"
    token = SNOOZE_LINK.search(message["body"]).group(1)
    moved = user.get(f"/api/v1/reminders/{created['reminder_id']}").json()
    assert datetime.fromisoformat(moved["next_due_at"]) > datetime.now(timezone.utc) + timedelta(hours=1) \
        or moved["last_fired_at"]
    snooze = lambda body: user.api.request("POST", "/api/v1/reminders/snooze", json=body)  # noqa: E731
    snoozed = snooze({"token": token, "minutes": 15})
    assert snoozed.status_code == 200, snoozed.text
    at = datetime.fromisoformat(snoozed.json()["next_due_at"])
    assert timedelta(minutes=14) < at - datetime.now(timezone.utc) < timedelta(minutes=16)
    assert snooze({"token": token, "minutes": 15}).status_code == 404  # a link snoozes once
    assert snooze({"token": "y" * 32}).status_code == 404
    assert snooze({"token": token, "minutes": 2}).status_code == 400
    # Its one message is final and it is not due again (snoozed for a quarter of an
    # hour): nothing more can be sent for it.
    rid = created["reminder_id"]
    wait_until(lambda: sends_of([rid])[rid] == ["sent"])
    assert not_due_again([rid])
    assert len(reminder_emails(sinks, user)) == 1


def test_a_medication_reminder_follows_the_medication_schedule(user):
    medication = user.post("/api/v1/medications", json={
        "name": "Lamotrigine", "dose": "100 mg", "schedule": {"times": ["09:00", "21:00"]}}).json()
    created = reminder(user, kind="medication", medication_id=medication["medication_id"], times=None)
    assert created["times"] == ["09:00", "21:00"]
    user.patch(f"/api/v1/medications/{medication['medication_id']}",
               json={"schedule": {"times": ["10:00"], "days_of_week": ["mon"]}})
    path = f"/api/v1/reminders/{created['reminder_id']}"
    followed = wait_until(lambda: (r := user.get(path).json())["times"] == ["10:00"] and r)
    assert followed["days_of_week"] == ["mon"]
    refused = user.patch(path, json={"times": ["11:00"]})
    assert refused.status_code == 422 and "times" in refused.json()["fields"]
    user.delete(f"/api/v1/medications/{medication['medication_id']}")
    wait_until(lambda: user.get(path).status_code == 404)


@pytest.mark.parametrize("body, status, field", [
    ({"kind": "diary", "times": ["25:00"], "channels": ["email"]}, 400, "times"),
    ({"kind": "diary", "times": ["08:00"], "channels": ["pigeon"]}, 400, "channels"),
    ({"kind": "diary", "times": [], "channels": ["email"]}, 400, "times"),
    ({"kind": "diary", "channels": ["email"]}, 422, "times"),
    ({"kind": "diary", "times": ["08:00", "08:00"], "channels": ["email"]}, 422, "times"),
    ({"kind": "medication", "channels": ["email"]}, 422, "medication_id"),
    ({"kind": "questionnaire", "times": ["08:00"], "channels": ["email"]}, 422, "instrument"),
    ({"kind": "diary", "times": ["08:00"], "channels": ["email"], "instrument": "phq9"}, 422, "instrument"),
    ({"kind": "diary", "times": ["08:00"], "channels": ["email"], "start_date": "2026-02-01",
      "end_date": "2026-01-01"}, 422, "end_date"),
])
def test_bad_reminders_are_refused_naming_the_field(user, body, status, field):
    answer = user.post("/api/v1/reminders", json=body)
    assert answer.status_code == status and field in answer.json()["fields"], answer.text
    assert user.get("/api/v1/reminders").json() == []


def test_another_users_reminder_or_medication_is_out_of_reach(user, other_user):
    mine = reminder(user)
    path = f"/api/v1/reminders/{mine['reminder_id']}"
    assert other_user.get(path).status_code == 404
    assert other_user.patch(path, json={"times": ["04:00"]}).status_code == 404
    assert other_user.delete(path).status_code == 404
    assert other_user.get("/api/v1/reminders").json() == []
    theirs = other_user.post("/api/v1/medications", json={
        "name": "Quetiapine", "dose": "50 mg", "schedule": {"times": ["22:00"]}}).json()
    refused = user.post("/api/v1/reminders", json={"kind": "medication", "channels": ["email"],
                                                   "medication_id": theirs["medication_id"]})
    assert refused.status_code == 422 and "medication_id" in refused.json()["fields"]
    assert user.get(path).json()["times"] == ["03:00"]


@pytest.fixture
def second_instance(stack):
    stack.start_one("notifications_2", registry.SERVICES["notifications"].path)
    log = stack.log_path("notifications_2")
    wait_until(lambda: log.exists() and "starting services: notifications" in log.read_text(), timeout=30)
    yield "notifications_2"
    stack.stop_one("notifications_2")


def in_flight(reminder_ids: list[str], killed_at) -> int:
    """Messages of these reminders still to be settled by a living instance."""
    return db.scalar(
        "SELECT count(*) FROM notifications.notifications WHERE kind = 'reminder' "
        "AND split_part(reference, '@', 1) = ANY(:ids) AND (status = 'pending' "
        "OR (status = 'sending' AND claimed_at >= :killed))", ids=reminder_ids, killed=killed_at)


def many_reminders(api, users: int = 4, each: int = 25) -> tuple[list, list[str]]:
    people = [api.new_user() for _ in range(users)]
    ids = [reminder(person)["reminder_id"] for person in people for _ in range(each)]
    return people, ids


def test_a_hundred_reminders_due_at_once_fire_once_each_with_two_instances(api, sinks, second_instance):
    people, ids = many_reminders(api)
    make_due(ids)
    wait_until(lambda: all(s == ["sent"] for s in sends_of(ids).values()), timeout=60)
    assert not_due_again(ids)  # each fired and moved on: nothing more can go out
    assert all(len(reminder_emails(sinks, person)) == 25 for person in people)
    assert all(s == ["sent"] for s in sends_of(ids).values())


def test_reminders_claimed_by_an_instance_that_dies_are_taken_over(api, sinks, stack, second_instance):
    people, ids = many_reminders(api, users=2, each=25)
    # An instance that has claimed ten reminders (locked them) and dies mid-work:
    # its connection closes, the claim rolls back, another instance takes them.
    engine = create_engine(config.kit().database_url)
    claimant = engine.connect()
    # Due in a moment, and locked before that moment comes: no scheduler can fire them
    # between the commit that makes them due and the lock.
    claimant.execute(text("UPDATE notifications.scheduled_reminders SET next_due_at = "
                          "now() + interval '2 seconds' WHERE reminder_id = ANY(CAST(:ids AS uuid[]))"),
                     {"ids": ids[:10]})
    claimant.commit()
    claimant.execute(text("SELECT 1 FROM notifications.scheduled_reminders WHERE reminder_id = "
                          "ANY(CAST(:ids AS uuid[])) FOR UPDATE"), {"ids": ids[:10]})
    assert all(s == [] for s in sends_of(ids[:10]).values())  # not due yet when locked
    # A reminder made due after theirs, fired, proves a scheduler looked while the ten
    # were due and locked (due before it, so it saw them first).
    marker = reminder(api.new_user())["reminder_id"]
    time.sleep(2.5)  # past their due time (not a wait for work: the barrier follows)
    make_due([marker])
    wait_until(lambda: sends_of([marker])[marker], timeout=30)
    assert all(s == [] for s in sends_of(ids[:10]).values())  # locked: nobody else fires them
    claimant.invalidate()  # the connection drops, as a killed process's does
    engine.dispose()
    wait_until(lambda: all(s == ["sent"] for s in sends_of(ids[:10]).values()), timeout=30)

    # And a real instance killed at once after the rest fall due.
    make_due(ids[10:])
    time.sleep(0.2)  # let the instances start on them: the kill should land mid-work
    stack.stop_one(second_instance, signal.SIGKILL)
    killed_at = db.scalar("SELECT now()")
    # Every reminder fired and moved on, and every message either final or claimed by
    # the dead instance (left "sending" until it is marked uncertain, never resent).
    wait_until(lambda: all(s for s in sends_of(ids[10:]).values()) and not_due_again(ids)
               and in_flight(ids, killed_at) == 0, timeout=30)
    for reminder_id, statuses in sends_of(ids).items():
        # Once each: sent, or (killed between the SMTP server's reply and the record
        # of it) marked uncertain and never resent.
        assert len(statuses) == 1 and statuses[0] in ("sent", "sending", "uncertain"), reminder_id
    sent = sum(s == ["sent"] for s in sends_of(ids).values())
    assert sum(len(reminder_emails(sinks, person)) for person in people) in range(sent, len(ids) + 1)


def test_a_missed_dose_reminds_the_user_then_tells_the_chosen_contact(api, sinks):
    user = api.new_user()
    contact = confirmed_contact(user, sinks, email=unique_email(), scopes=["missed_doses"])
    assert contact["consented_scopes"] == ["missed_doses"]
    chosen = user.patch("/api/v1/notifications/settings", json={
        "dose_contact_id": contact["contact_id"], "dose_contact_after_minutes": 30})
    assert chosen.status_code == 200, chosen.text
    due = datetime.now(timezone.utc) - timedelta(hours=3)
    user.post("/api/v1/medications", json={
        "name": "Lithium carbonate", "dose": "400 mg", "schedule": {
            "times": [due.strftime("%H:%M")], "start_date": (TODAY - timedelta(days=1)).isoformat()}})
    mine = wait_until(lambda: [m for m in sinks.emails(to=user.email)
                               if m["subject"] == "A dose has not been logged"], timeout=30)
    assert len(mine) == 1 and "Lithium" not in mine[0]["body"]
    told = wait_until(lambda: [m for m in sinks.emails(to=contact["email"])
                               if m["subject"].startswith("A note about")], timeout=30)
    assert len(told) == 1 and "/consent/withdraw?token=" in told[0]["body"]


def test_a_missed_dose_logged_late_or_a_contact_who_did_not_agree_hears_nothing(api, sinks):
    user = api.new_user()
    contact = confirmed_contact(user, sinks, email=unique_email())  # crisis alerts only
    user.patch("/api/v1/notifications/settings", json={"dose_contact_id": contact["contact_id"],
                                                       "dose_contact_after_minutes": 30})
    due = datetime.now(timezone.utc) - timedelta(hours=3)
    user.post("/api/v1/medications", json={
        "name": "Valproate", "dose": "500 mg", "schedule": {
            "times": [due.strftime("%H:%M")], "start_date": (TODAY - timedelta(days=1)).isoformat()}})
    wait_until(lambda: [m for m in sinks.emails(to=user.email)
                        if m["subject"] == "A dose has not been logged"], timeout=30)
    wait_until(lambda: db.scalar("SELECT count(*) FROM notifications.dose_follow_ups "
                                 "WHERE user_id = :u AND claimed_at IS NOT NULL", u=user.user_id))
    # The claim went out as an event; once it is handled, whatever it planned exists.
    events_handled("notifications", "dose.follow_up_due", user.user_id, "notifications")
    assert db.scalar("SELECT count(*) FROM notifications.notifications WHERE user_id = :u AND "
                     "contact_id = :c AND kind = 'dose_missed'", u=user.user_id,
                     c=contact["contact_id"]) == 0
    assert sinks.emails(to=contact["email"])[-1]["subject"].endswith("emergency contact")  # the invitation


def test_a_user_who_goes_quiet_gets_a_gentle_check_in_and_then_their_chosen_contact(api, sinks):
    user = api.new_user()
    assert user.post("/api/v1/mood/shift", json=shift(1)).status_code == 201
    wait_until(lambda: db.scalar("SELECT count(*) FROM notifications.activity_days WHERE user_id = :u",
                                 u=user.user_id))  # logging is noticed from the events
    contact = confirmed_contact(user, sinks, email=unique_email(), scopes=["check_ins"])
    # Thirteen days of entries that stopped three days ago.
    db.execute("DELETE FROM notifications.activity_days WHERE user_id = :u", u=user.user_id)
    for back in range(3, 16):
        day = date.today() - timedelta(days=back)
        db.execute("INSERT INTO notifications.activity_days VALUES (:u, :d, :at)",
                u=user.user_id, d=day, at=datetime.combine(day, datetime.min.time(), timezone.utc)
                + timedelta(hours=20))
    chosen = user.patch("/api/v1/notifications/settings", json={
        "check_in_after_days": 2, "check_in_contact_id": contact["contact_id"],
        "check_in_contact_after_days": 0})
    assert chosen.status_code == 200, chosen.text
    [mine] = wait_until(lambda: [m for m in sinks.emails(to=user.email)
                                 if m["subject"] == "Thinking of you"], timeout=30)
    [theirs] = wait_until(lambda: [m for m in sinks.emails(to=contact["email"])
                                   if "quiet" in m["subject"]], timeout=30)
    for text_ in (mine["body"], theirs["body"]):
        assert "crisis" not in text_.lower() and "mood" not in theirs["body"].lower()
    # Both check-ins are claimed for this quiet spell (a row per spell; later looks
    # claim nothing again) and both messages are final: nothing more can go out.
    assert db.scalar("SELECT count(*) FROM notifications.check_ins WHERE user_id = :u AND "
                     "user_sent_at IS NOT NULL AND contact_sent_at IS NOT NULL", u=user.user_id) == 1
    wait_until(lambda: db.scalar("SELECT count(*) FROM notifications.notifications WHERE "
                                 "user_id = :u AND kind = 'check_in' AND status = 'sent'",
                                 u=user.user_id) == 2)
    assert len([m for m in sinks.emails(to=user.email) if m["subject"] == "Thinking of you"]) == 1
    assert len([m for m in sinks.emails(to=contact["email"]) if "quiet" in m["subject"]]) == 1

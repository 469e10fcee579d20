"""The crisis escalation ladder on the real stack: the user is prompted first;
unacknowledged, contact 1, then contact 2; any acknowledgement stops it. The
ladder's clock is ``notifications.crises.next_step_at``: the tests move it to now
instead of waiting minutes."""

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.ops.operator import operator_rpc
from tests.support import db
from tests.support.barriers import sends_final
from tests.support.events import republish
from tests.support.flows import (
    confirmed_contact,
    crisis_emails,
    crisis_sms,
    shift,
    unique_email,
    wait_until,
)

ACK_LINK = re.compile(r"/respond\?token=([A-Za-z0-9_\-]+)&answer=(\w+)")
WITHDRAW_LINK = re.compile(r"/consent/withdraw\?token=([A-Za-z0-9_\-.:]+)")
PROMPT_SUBJECT = "Checking in on you"


def ladder(user, sinks, *, contacts=2, prompt_minutes=10, contact_minutes=10, **more) -> list[dict]:
    chosen = user.patch("/api/v1/notifications/settings", json={
        "prompt_minutes": prompt_minutes, "contact_minutes": contact_minutes, **more})
    assert chosen.status_code == 200, chosen.text
    assert user.patch("/api/v1/profile", json={"display_name": "Ann", "country": "GB"}).status_code == 200
    return [confirmed_contact(user, sinks, name=f"Contact {n}", email=unique_email(), priority=n)
            for n in range(1, contacts + 1)]


def raise_crisis(user) -> dict:
    assert user.post("/api/v1/mood/shift", json=shift(-4, previous=-1)).status_code == 201
    return wait_until(lambda: user.get("/api/v1/crises").json(), message="no crisis opened")[0]


def prompts(sinks, user) -> list[dict]:
    return [m for m in sinks.emails(to=user.email) if m["subject"] == PROMPT_SUBJECT]


def link_in(message: dict) -> tuple[str, str]:
    return ACK_LINK.search(message["body"]).groups()


def move_clock_on(crisis_id: str) -> int:
    """As if the current rung's wait were over; 0 if the ladder has stopped."""
    return db.execute("UPDATE notifications.crises SET next_step_at = now() "
                      "WHERE crisis_id = :c AND status = 'open'", c=crisis_id)


def crisis(user, crisis_id: str) -> dict:
    found = user.get(f"/api/v1/crises/{crisis_id}")
    assert found.status_code == 200, found.text
    return found.json()


def waiting_before(user, crisis_id: str, step: int) -> dict:
    """Wait until the ladder has run every rung before ``step``, each rung's messages are
    final, and ``step`` is minutes away: until the clock moves, nothing more can go out
    (a rung's messages are planned only when it runs, and it runs only when due)."""
    def reached():
        shown = crisis(user, crisis_id)
        ran = [bool(s["started_at"]) for s in shown["steps"]]
        done = ran[:step] == [True] * step and not any(ran[step:]) and all(
            s["sends"] and sends_final(s["sends"]) for s in shown["steps"][:step])
        return shown if done else None
    shown = wait_until(reached, message=f"the ladder did not stop before step {step}")
    assert shown["status"] == "open"
    assert datetime.fromisoformat(shown["next_step_at"]) > datetime.now(timezone.utc) + timedelta(minutes=5)
    return shown


def stopped(user, crisis_id: str) -> dict:
    """The ladder has stopped: no rung can fall due again, whatever the clock says."""
    assert move_clock_on(crisis_id) == 0
    shown = crisis(user, crisis_id)
    assert shown["status"] != "open" and shown["next_step_at"] is None
    return shown


def test_a_crisis_the_user_acknowledges_in_time_alerts_no_contact(user, sinks):
    contacts = ladder(user, sinks)
    opened = raise_crisis(user)
    [prompt] = wait_until(lambda: prompts(sinks, user))
    for expected in ("/safety-plan", "116 123", "answer=safe", "answer=using_plan", "10 minutes",
                     "Contact 1"):
        assert expected in prompt["body"]
    shown = crisis(user, opened["crisis_id"])
    assert shown["status"] == "open" and shown["next_step_at"]
    assert [(s["target"], bool(s["started_at"])) for s in shown["steps"]] == [
        ("user", True), ("contact", False), ("contact", False)]

    answered = user.post(f"/api/v1/crises/{opened['crisis_id']}/acknowledge", json={"answer": "safe"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "acknowledged" and answered.json()["answer"] == "safe"

    shown = stopped(user, opened["crisis_id"])
    assert [bool(s["started_at"]) for s in shown["steps"]] == [True, False, False]
    for contact in contacts:
        assert crisis_emails(sinks, contact["email"]) == []
    again = user.post(f"/api/v1/crises/{opened['crisis_id']}/acknowledge", json={"answer": "using_plan"})
    assert again.status_code == 409
    token, _ = link_in(prompt)
    assert user.api.request("POST", "/api/v1/crises/acknowledge",
                            json={"token": token, "answer": "safe"}).status_code == 409
    assert crisis(user, opened["crisis_id"])["answer"] == "safe"  # the first answer stands


def test_the_ladder_climbs_contact_by_contact_until_one_is_on_it(user, sinks):
    first, second, third = ladder(user, sinks, contacts=3)
    opened = raise_crisis(user)
    waiting_before(user, opened["crisis_id"], step=1)  # the user has ten minutes first
    assert len(prompts(sinks, user)) == 1
    assert crisis_emails(sinks, first["email"]) == []

    assert move_clock_on(opened["crisis_id"]) == 1     # the user did not answer
    waiting_before(user, opened["crisis_id"], step=2)
    [alert] = crisis_emails(sinks, first["email"])
    assert "Ann" in alert["body"] and "answer=on_it" in alert["body"]
    assert crisis_emails(sinks, second["email"]) == []

    assert move_clock_on(opened["crisis_id"]) == 1     # contact 1 did not answer
    [alert] = wait_until(lambda: crisis_emails(sinks, second["email"]))
    token, answer = link_in(alert)
    assert answer == "on_it"
    done = user.api.request("POST", "/api/v1/crises/acknowledge", json={"token": token, "answer": "on_it"})
    assert done.status_code == 200, done.text
    assert done.json() == {"crisis_id": opened["crisis_id"], "status": "acknowledged", "answer": "on_it"}

    stopped(user, opened["crisis_id"])
    wait_until(lambda: sends_final(crisis(user, opened["crisis_id"])["steps"][2]["sends"]))
    assert crisis_emails(sinks, third["email"]) == []  # nothing more goes out
    assert len(crisis_emails(sinks, first["email"])) == len(crisis_emails(sinks, second["email"])) == 1
    shown = crisis(user, opened["crisis_id"])
    assert shown["status"] == "acknowledged" and shown["next_step_at"] is None
    steps = shown["steps"]
    assert [bool(s["started_at"]) for s in steps] == [True, True, True, False]
    assert steps[2]["contact_id"] == second["contact_id"] and steps[2]["acknowledged_at"]
    assert steps[1]["sends"][0]["status"] == "sent" and steps[1]["sends"][0]["channel"] == "email"

    # The same link again, or contact 1's, changes nothing.
    assert user.api.request("POST", "/api/v1/crises/acknowledge",
                            json={"token": token, "answer": "on_it"}).status_code == 409
    first_token, _ = link_in(crisis_emails(sinks, first["email"])[0])
    assert user.api.request("POST", "/api/v1/crises/acknowledge",
                            json={"token": first_token, "answer": "on_it"}).status_code == 409


def test_each_step_goes_out_once_whatever_is_redelivered(user, sinks):
    first, second = ladder(user, sinks)
    opened = raise_crisis(user)
    waiting_before(user, opened["crisis_id"], step=1)
    move_clock_on(opened["crisis_id"])
    waiting_before(user, opened["crisis_id"], step=2)
    # The step's event again: what a relay crash or a broker redelivery produces.
    again = str(uuid.uuid4())
    republish("notifications", {"event_id": again,
                                "event_type": "crisis.step_due", "source": "notifications",
                                "occurred_at": "2026-12-01T00:00:00+00:00", "subject_id": user.user_id,
                                "data": {"crisis_id": opened["crisis_id"], "step": 1,
                                         "user_id": user.user_id}})
    wait_until(lambda: db.scalar("SELECT count(*) FROM notifications.processed_events "
                                 "WHERE event_id = :e", e=again))  # handled, and committed
    waiting_before(user, opened["crisis_id"], step=2)
    assert len(crisis_emails(sinks, first["email"])) == 1
    assert crisis_emails(sinks, second["email"]) == []
    assert len(prompts(sinks, user)) == 1


def test_rules_the_user_chose_go_straight_to_contact_one(user, sinks):
    [first] = ladder(user, sinks, contacts=1, skip_prompt_for=["severe_state"])
    opened = raise_crisis(user)
    wait_until(lambda: crisis_emails(sinks, first["email"]))
    assert prompts(sinks, user) == []
    assert crisis(user, opened["crisis_id"])["steps"][0]["target"] == "contact"


def test_links_that_are_unknown_expired_or_answer_the_wrong_question_are_refused(user, sinks):
    ladder(user, sinks, contacts=1)
    opened = raise_crisis(user)
    [prompt] = wait_until(lambda: prompts(sinks, user))
    token, _ = link_in(prompt)
    ask = lambda body: user.api.request("POST", "/api/v1/crises/acknowledge", json=body)  # noqa: E731
    assert ask({"token": "x" * 32, "answer": "safe"}).status_code == 404
    wrong = ask({"token": token, "answer": "on_it"})  # a contact's answer on the user's link
    assert wrong.status_code == 409 and "answer" in wrong.json()["fields"]
    assert ask({"token": token, "answer": "maybe"}).status_code == 400
    assert ask({"answer": "safe"}).status_code == 400
    db.execute("UPDATE notifications.crisis_steps SET started_at = now() - interval '25 hours' "
            "WHERE crisis_id = :c", c=opened["crisis_id"])
    expired = ask({"token": token, "answer": "safe"})
    assert expired.status_code == 409 and "token" in expired.json()["fields"]
    assert crisis(user, opened["crisis_id"])["status"] == "open"  # nothing changed


def test_another_user_can_neither_see_nor_acknowledge_a_crisis(user, other_user, sinks):
    ladder(user, sinks, contacts=1)
    opened = raise_crisis(user)
    path = f"/api/v1/crises/{opened['crisis_id']}"
    assert other_user.get(path).status_code == 404
    assert other_user.post(f"{path}/acknowledge", json={"answer": "safe"}).status_code == 404
    assert other_user.get("/api/v1/crises").json() == []
    assert user.post(f"{path}/acknowledge", json={"answer": "on_it"}).status_code == 400
    assert user.get("/api/v1/crises/not-a-uuid").status_code == 404
    assert crisis(user, opened["crisis_id"])["status"] == "open"


def test_the_operators_audit_trail_shows_steps_and_sends_but_no_names_or_addresses(user, sinks):
    [first] = ladder(user, sinks, contacts=1)
    opened = raise_crisis(user)
    wait_until(lambda: prompts(sinks, user))
    move_clock_on(opened["crisis_id"])
    wait_until(lambda: crisis_emails(sinks, first["email"]))
    wait_until(lambda: all(s["sends"] and s["sends"][0]["status"] == "sent"
                           for s in crisis(user, opened["crisis_id"])["steps"]))
    with operator_rpc() as rpc:
        trail = rpc.notifications.crisis_audit(opened["crisis_id"])
    assert [s["target"] for s in trail["steps"]] == ["user", "contact"]
    assert all(s["sends"] for s in trail["steps"])
    text_ = repr(trail)
    for private in (first["email"], user.email, "Contact 1", "Ann", "severe_state"):
        assert private not in text_


def test_an_opted_out_number_gets_no_sms_and_the_contact_shows_it(user, sinks):
    opted_out = "+447911123499"  # the local SNS treats numbers ending in 99 as opted out
    email = unique_email()
    contact = confirmed_contact(user, sinks, email=email, phone=opted_out)
    assert contact["sms_opted_out_at"] is None
    raise_crisis(user)  # the test environment's defaults: straight to the contacts
    wait_until(lambda: crisis_emails(sinks, email))
    shown = wait_until(lambda: (c := user.get(f"/api/v1/contacts/{contact['contact_id']}").json())
                       ["sms_opted_out_at"] and c)
    assert shown["consent_state"] == "confirmed"  # email still reaches them
    assert crisis_sms(sinks, opted_out) == []
    sms = [a for a in user.get("/api/v1/alerts").json() if a["channel"] == "sms"]
    assert [a["status"] for a in sms] == ["failed"]


def test_a_contact_withdraws_from_the_link_in_any_message(user, sinks):
    email = unique_email()
    contact = confirmed_contact(user, sinks, email=email)
    raise_crisis(user)
    [alert] = wait_until(lambda: crisis_emails(sinks, email))
    token = WITHDRAW_LINK.search(alert["body"]).group(1)
    withdraw = lambda t: user.api.request("POST", "/api/v1/consent/withdraw", json={"token": t})  # noqa: E731
    assert withdraw(token[:-2] + "00" if not token.endswith("00") else token[:-2] + "11").status_code == 404
    assert withdraw(token).json()["consent_state"] == "revoked"
    assert withdraw(token).status_code == 409
    assert user.get(f"/api/v1/contacts/{contact['contact_id']}").json()["consent_state"] == "revoked"


@pytest.mark.parametrize("bad", [
    {"prompt_minutes": -1}, {"prompt_minutes": 241}, {"contact_minutes": "10"},
    {"skip_prompt_for": ["no_such_rule"]}, {"quiet_start": "25:00", "quiet_end": "07:00"},
    {"check_in_after_days": 0}, {"unknown": 1}, {},
])
def test_bad_settings_are_refused(user, bad):
    answer = user.patch("/api/v1/notifications/settings", json=bad)
    assert answer.status_code == 400, answer.text


def test_settings_that_cannot_be_used_are_422_and_change_nothing(user, other_user, sinks):
    before = user.get("/api/v1/notifications/settings").json()
    theirs = other_user.post("/api/v1/contacts", json={"name": "Eve", "email": unique_email()}).json()
    for bad, field in [({"check_in_contact_id": theirs["contact_id"]}, "check_in_contact_id"),
                       ({"dose_contact_id": theirs["contact_id"]}, "dose_contact_id"),
                       ({"quiet_start": "22:00"}, "quiet_end"),
                       ({"skip_prompt_for": ["severe_state", "severe_state"]}, "skip_prompt_for")]:
        answer = user.patch("/api/v1/notifications/settings", json=bad)
        assert answer.status_code == 422 and field in answer.json()["fields"], answer.text
    assert user.get("/api/v1/notifications/settings").json() == before

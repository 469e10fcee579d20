"""The seed's central flow, end to end: a user logs a mood shift; pattern
analysis finds a crisis; notifications alerts the confirmed contacts by email
(local SMTP server) and SMS (local moto SNS), exactly once each."""

import time

from sqlalchemy import create_engine, text

from services.kit import config
from tests.support.flows import (
    confirmed_contact,
    crisis_emails,
    crisis_sms,
    shift,
    unique_email,
    unique_phone,
    wait_until,
)


def settle(seconds: float = 1.5) -> None:
    """Time for anything that was going to be sent to have been sent."""
    time.sleep(seconds)


def test_a_crisis_alerts_each_confirmed_contact_once_by_email_and_sms(user, sinks):
    email, phone = unique_email(), unique_phone()
    profile = user.patch("/api/v1/profile", json={"display_name": "Ann", "phone": "+447911123456",
                                                  "country": "GB"})
    assert profile.status_code == 200, profile.text
    confirmed_contact(user, sinks, email=email, phone=phone)

    logged = user.post("/api/v1/mood/shift", json=shift(-4, previous=-1, note="can't go on"))
    assert logged.status_code == 201, logged.text

    wait_until(lambda: crisis_emails(sinks, email) and crisis_sms(sinks, phone))
    settle()
    [mail] = crisis_emails(sinks, email)
    [sms] = crisis_sms(sinks, phone)
    for text_ in (mail["subject"] + mail["body"], sms["text"]):
        assert "Ann" in text_ and "+447911123456" in text_   # who, and how to reach them
        assert "116 123" in text_                            # the UK crisis line
        assert "can't go on" not in text_ and "-4" not in text_  # no notes, no mood values
        assert "bipolar" not in text_.lower() and "crisis" not in text_.lower()

    alerts = user.get("/api/v1/alerts").json()
    assert sorted(a["channel"] for a in alerts) == ["email", "sms"]
    assert {a["status"] for a in alerts} == {"sent"}
    assert len({a["crisis_id"] for a in alerts}) == 1


def test_non_crisis_shifts_send_nothing(user, sinks):
    email = unique_email()
    confirmed_contact(user, sinks, email=email)
    for level, previous in [(-1, 0), (-2, -1), (-1, -2), (0, -1), (1, 0)]:  # no drop of 3, one crossing
        assert user.post("/api/v1/mood/shift", json=shift(level, previous)).status_code == 201
    settle()
    assert crisis_emails(sinks, email) == []
    assert user.get("/api/v1/alerts").json() == []


def test_unconfirmed_and_revoked_contacts_get_nothing(user, sinks):
    invited_only = unique_email("invited")
    user.post("/api/v1/contacts", json={"name": "Invited", "email": invited_only})
    revoked = unique_email("revoked")
    contact = confirmed_contact(user, sinks, name="Revoked", email=revoked)
    user.patch(f"/api/v1/contacts/{contact['contact_id']}", json={"consent_state": "revoked"})
    confirmed = unique_email("confirmed")
    confirmed_contact(user, sinks, name="Confirmed", email=confirmed)

    user.post("/api/v1/mood/shift", json=shift(4, previous=1))
    wait_until(lambda: crisis_emails(sinks, confirmed))
    settle()
    assert crisis_emails(sinks, invited_only) == []
    assert crisis_emails(sinks, revoked) == []
    assert len(crisis_emails(sinks, confirmed)) == 1


def test_contacts_are_alerted_in_priority_order_and_a_failing_one_does_not_block(user, sinks):
    first, third = unique_email("first"), unique_email("third")
    failing = unique_email("gone").replace("example.com", "bounce.example")
    confirmed_contact(user, sinks, name="First", email=first, priority=1)
    contact = user.post("/api/v1/contacts", json={"name": "Bounces", "email": unique_email("b"), "priority": 2}).json()
    third_contact = confirmed_contact(user, sinks, name="Third", email=third, priority=3)
    # Confirm the bouncing contact through its own invitation, then point it at a dead mailbox
    # (which restarts consent), so confirm once more with the new invitation's token.
    assert user.patch(f"/api/v1/contacts/{contact['contact_id']}", json={"email": failing}).ok
    token = _token_from_outbox(user.user_id)
    answer = user.api.request("POST", "/api/v1/consent", json={"token": token, "decision": "confirm"})
    assert answer.ok, answer.text

    user.post("/api/v1/mood/shift", json=shift(-4))
    wait_until(lambda: crisis_emails(sinks, first) and crisis_emails(sinks, third))
    first_at = crisis_emails(sinks, first)[0]["received_at"]
    third_at = crisis_emails(sinks, third)[0]["received_at"]
    assert first_at <= third_at
    alerts = wait_until(lambda: [a for a in user.get("/api/v1/alerts").json()
                                 if a["status"] in ("sent", "failed")] or None)
    statuses = {a["contact_name"]: a["status"] for a in user.get("/api/v1/alerts").json()}
    assert statuses == {"First": "sent", "Bounces": "failed", "Third": "sent"}, alerts
    assert third_contact["consent_state"] == "invited"  # as created; confirmed afterwards


def _token_from_outbox(user_id):
    engine = create_engine(config.get("DATABASE_URL"))
    with engine.connect() as conn:
        token = conn.execute(text(
            "SELECT payload->'data'->>'token' FROM user_management.outbox WHERE subject_id = :u "
            "AND event_type = 'contact.invited' ORDER BY created_at DESC LIMIT 1"), {"u": user_id}).scalar()
    engine.dispose()
    return token


def test_a_temporarily_failing_channel_is_retried(user, sinks):
    email = unique_email()
    contact = confirmed_contact(user, sinks, email=email)
    user.patch(f"/api/v1/contacts/{contact['contact_id']}", json={"email": email.replace("example.com", "tempfail.example")})
    token = _token_from_outbox(user.user_id)
    user.api.request("POST", "/api/v1/consent", json={"token": token, "decision": "confirm"})
    user.post("/api/v1/mood/shift", json=shift(-4))
    alerts = wait_until(lambda: [a for a in user.get("/api/v1/alerts").json() if a["status"] == "failed"])
    assert alerts[0]["attempts"] == 3  # NOTIFY_MAX_ATTEMPTS in the test environment


def test_a_drop_of_three_within_a_day_is_a_crisis(user, sinks):
    email = unique_email()
    confirmed_contact(user, sinks, email=email)
    user.post("/api/v1/mood/shift", json=shift(2, previous=1))
    settle(0.5)
    assert crisis_emails(sinks, email) == []
    user.post("/api/v1/mood/shift", json=shift(-1, previous=2))
    wait_until(lambda: crisis_emails(sinks, email))
    flags = user.get("/api/v1/patterns/flags").json()
    assert [f["rule"] for f in flags] == ["drop_24h"] and flags[0]["alerted"]


def test_rapid_cycling_today_is_flagged_once(user, sinks):
    email = unique_email()
    confirmed_contact(user, sinks, email=email)
    for previous, level in [(-1, 2), (2, -2), (-2, 1), (1, -1)]:
        user.post("/api/v1/mood/shift", json=shift(level, previous))
    wait_until(lambda: crisis_emails(sinks, email))
    settle()
    rules = [f["rule"] for f in user.get("/api/v1/patterns/flags").json()]
    assert rules.count("rapid_cycling") == 1
    assert len(crisis_emails(sinks, email)) == 1  # one alert, then the cool-down
    days = user.get("/api/v1/mood/rapid-cycling").json()
    assert len(days) == 1 and days[0]["crossings"] >= 2


def test_tightened_rules_alert_earlier(user, sinks):
    email = unique_email()
    confirmed_contact(user, sinks, email=email)
    tightened = user.patch("/api/v1/alert-rules", json={"severe_level": 3, "depression_threshold": -2})
    assert tightened.status_code == 200 and tightened.json()["severe_level"] == 3
    user.post("/api/v1/mood/shift", json=shift(-2, previous=-1))
    wait_until(lambda: crisis_emails(sinks, email))
    assert [f["rule"] for f in user.get("/api/v1/patterns/flags").json()] == ["user_threshold"]


def test_rules_cannot_be_loosened_or_switched_off(user):
    for change in ({"severe_level": 5}, {"drop_levels": 4}, {"cooldown_minutes": 100000},
                   {"severe_level": None}):
        response = user.patch("/api/v1/alert-rules", json=change)
        assert response.status_code == 400, change
        field = next(iter(change))
        assert field in response.json()["fields"]
    assert user.get("/api/v1/alert-rules").json()["severe_level"] == 4


def test_invitations_reach_contacts_by_sms_when_there_is_no_email(user, sinks):
    phone = unique_phone()
    confirmed_contact(user, sinks, phone=phone)
    [invitation] = [m for m in sinks.sms(to=phone) if "emergency contact" in m["text"]]
    assert "https://app.test/consent?token=" in invitation["text"]


def test_a_mood_event_delivered_twice_yields_one_flag_one_crisis_one_alert(user, sinks):
    """Redelivery (a relay crash after publishing, a broker redelivery) changes nothing."""
    email = unique_email()
    confirmed_contact(user, sinks, email=email)
    shift_id = user.post("/api/v1/mood/shift", json=shift(-4, previous=-3)).json()["shift_id"]
    wait_until(lambda: crisis_emails(sinks, email))
    engine = create_engine(config.get("DATABASE_URL"))
    with engine.connect() as conn:
        event = conn.execute(text(
            "SELECT payload FROM mood_tracking.outbox WHERE payload->'data'->>'shift_id' = :s"),
            {"s": shift_id}).scalar_one()
    engine.dispose()
    _republish(event)
    _republish(event)
    settle()
    assert len(crisis_emails(sinks, email)) == 1
    flags = user.get("/api/v1/patterns/flags").json()
    assert [f["rule"] for f in flags] == ["severe_state"]
    assert len({a["crisis_id"] for a in user.get("/api/v1/alerts").json()}) == 1


def _republish(event: dict) -> None:
    """Publish the very same envelope again, as the mood service would."""
    from nameko.amqp.publish import Publisher
    from nameko.standalone.events import get_event_exchange

    from services.kit import service_auth
    from services.kit.events import amqp_uri

    Publisher(amqp_uri(), use_confirms=True, serializer="json").publish(
        event, exchange=get_event_exchange("mood_tracking"), routing_key=event["event_type"],
        headers={service_auth.HEADER: service_auth.credential_for("mood_tracking")}, mandatory=True)

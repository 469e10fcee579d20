"""The providers failing, on the real stack: the SMS stand-in refuses a number
permanently, temporarily, or because it opted out (services/ops/sms_sink.py), and a
mail server that requires STARTTLS and a login, with a certificate from a CA of its
own, is the only way out for email."""

import pytest

from tests.support import db
from tests.support.barriers import crises_settled
from tests.support.flows import (
    confirmed_contact,
    crisis_emails,
    crisis_sms,
    shift,
    unique_email,
    unique_phone,
    wait_until,
)
from tests.support.processes import TlsMailSink, free_port

MAX_ATTEMPTS = 3  # NOTIFY_MAX_ATTEMPTS in the test environment


def last_errors(user_id: str) -> dict[str, str]:
    """contact name -> why its crisis SMS failed (the alert's last error)."""
    return {row.contact_name: row.last_error for row in db.rows(
        "SELECT contact_name, last_error FROM notifications.notifications WHERE user_id = :u "
        "AND kind = 'crisis' AND channel = 'sms' AND status = 'failed'", u=user_id)}


def test_refused_sms_fail_as_the_provider_says_and_the_rest_go_out(user, sinks):
    refusals = {"Permanent": "permanent", "Temporary": "temporary", "OptedOut": "opted_out",
                "Fine": "none"}
    contacts = {}
    for priority, (name, mode) in enumerate(refusals.items(), 1):
        email, phone = unique_email(name.lower()), unique_phone()
        contacts[name] = confirmed_contact(user, sinks, name=name, email=email, phone=phone,
                                           priority=priority)
        sinks.refuse_sms(phone, mode)

    assert user.post("/api/v1/mood/shift", json=shift(-4)).status_code == 201
    crises_settled(user, shifts=1)  # every alert sent, or failed for good

    alerts = {(a["contact_name"], a["channel"]): a for a in user.get("/api/v1/alerts").json()}
    # Email reaches everyone: a refused SMS holds nothing else up.
    for name, contact in contacts.items():
        assert alerts[(name, "email")]["status"] == "sent", name
        assert len(crisis_emails(sinks, contact["email"])) == 1, name
    # The provider's answer decides: a number that can never receive SMS is tried once,
    # a temporary refusal until the attempts run out, an opted-out number never.
    sms = {name: (alerts[(name, "sms")]["status"], alerts[(name, "sms")]["attempts"])
           for name in contacts}
    assert sms == {"Permanent": ("failed", 1), "Temporary": ("failed", MAX_ATTEMPTS),
                   "OptedOut": ("failed", 1), "Fine": ("sent", 1)}
    assert last_errors(user.user_id) == {"Permanent": "permanent: InvalidParameter",
                                         "Temporary": "gave up: InternalError",
                                         "OptedOut": "opted out"}
    for name, contact in contacts.items():
        assert len(crisis_sms(sinks, contact["phone"])) == (name == "Fine"), name
    # The user sees who opted out (told by an event written with the failure); the
    # other refusals mark nobody.
    wait_until(lambda: user.get(f"/api/v1/contacts/{contacts['OptedOut']['contact_id']}")
               .json()["sms_opted_out_at"])
    marked = [name for name, c in contacts.items()
              if user.get(f"/api/v1/contacts/{c['contact_id']}").json()["sms_opted_out_at"]]
    assert marked == ["OptedOut"]


def test_an_opt_out_the_provider_reports_only_on_send_is_shown_on_the_contact(user, sinks):
    phone = unique_phone()
    contact = confirmed_contact(user, sinks, email=unique_email(), phone=phone)
    sinks.refuse_sms(phone, "opted_out_on_send")
    assert user.post("/api/v1/mood/shift", json=shift(-4)).status_code == 201
    crises_settled(user, shifts=1)
    [sms] = [a for a in user.get("/api/v1/alerts").json() if a["channel"] == "sms"]
    assert sms["status"] == "failed" and crisis_sms(sinks, phone) == []
    # The event that tells user management is written in the failure's transaction.
    assert db.scalar("SELECT count(*) FROM notifications.outbox WHERE subject_id = :u AND "
                     "event_type = 'contact.sms_opted_out'", u=user.user_id) == 1
    wait_until(lambda: user.get(f"/api/v1/contacts/{contact['contact_id']}").json()["sms_opted_out_at"])


@pytest.fixture
def notifications_over_tls(stack, tmp_path):
    """The stack's notifications service replaced by one that delivers email only to a
    sink requiring STARTTLS and a login (SMTP_STARTTLS, SMTP_USERNAME,
    SMTP_PASSWORD_FILE, SMTP_CA_FILE), then put back."""
    sink = TlsMailSink(free_port())
    sink.start(tmp_path)
    stack.stop_one("notifications")
    try:
        stack.start_one("notifications", env=sink.env())
        stack.wait_ready(timeout=60, names=["notifications"])
        yield sink
    finally:
        stack.stop_one("notifications")
        sink.stop()
        stack.start_one("notifications")
        stack.wait_ready(timeout=60, names=["notifications"])


def test_mail_goes_out_over_starttls_with_a_login(user, sinks, notifications_over_tls):
    email = unique_email()
    assert user.post("/api/v1/contacts", json={"name": "Bob", "email": email}).status_code == 201
    [invitation] = wait_until(lambda: notifications_over_tls.emails(to=email))
    assert "emergency contact" in invitation["subject"]
    assert sinks.emails(to=email) == []  # the plain sink saw nothing of it
    [sent] = wait_until(lambda: [n for n in db.rows(
        "SELECT status, provider_message_id FROM notifications.notifications WHERE user_id = :u "
        "AND kind = 'invitation'", u=user.user_id) if n.status == "sent"])
    assert sent.provider_message_id == invitation["headers"]["Message-ID"]

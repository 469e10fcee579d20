"""Multi-step journeys the mood and crisis tests share."""

from __future__ import annotations

import random
import re
import time
import uuid

CRISIS_SUBJECT = "may need your support"
TOKEN_IN_LINK = re.compile(r"/consent\?token=([A-Za-z0-9_\-]+)")


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or "condition not met in time")


def unique_email(label: str = "contact") -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


def unique_phone() -> str:
    """Never ending in 99: the local SNS (moto) treats those numbers as opted out."""
    return f"+4479111{random.randint(0, 9999):04d}{random.randint(0, 8)}"


def invitation_token(sinks, email: str | None = None, phone: str | None = None) -> str:
    def find():
        texts = ([m["body"] for m in sinks.emails(to=email)] if email
                 else [m["text"] for m in sinks.sms(to=phone)])
        tokens = [TOKEN_IN_LINK.search(t) for t in texts]
        return [t.group(1) for t in tokens if t]
    return wait_until(find, message=f"no invitation reached {email or phone}")[-1]


def confirmed_contact(user, sinks, *, name="Bob", email=None, phone=None, priority=1,
                      scopes=()) -> dict:
    """Add a contact and have them confirm through the link their invitation carries
    (agreeing to whatever else ``scopes`` asks)."""
    body = {"name": name, "priority": priority, "scopes": list(scopes)}
    if email:
        body["email"] = email
    if phone:
        body["phone"] = phone
    contact = user.post("/api/v1/contacts", json=body)
    assert contact.status_code == 201, contact.text
    token = invitation_token(sinks, email=email, phone=None if email else phone)
    answer = user.api.request("POST", "/api/v1/consent", json={"token": token, "decision": "confirm"})
    assert answer.json() == {"consent_state": "confirmed", "agreed_also": sorted(scopes)}, answer.text
    return user.get(f"/api/v1/contacts/{contact.json()['contact_id']}").json()


def shift(level: int, previous: int = 0, **extra) -> dict:
    return {"previous": {"level": previous}, "current": {"level": level},
            "intensity": extra.pop("intensity", 7), **extra}


def crisis_emails(sinks, email: str) -> list[dict]:
    return [m for m in sinks.emails(to=email) if CRISIS_SUBJECT in m["subject"]]


def crisis_sms(sinks, phone: str) -> list[dict]:
    return [m for m in sinks.sms(to=phone) if "may need your support" in m["text"]]

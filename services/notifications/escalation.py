"""The crisis escalation ladder.

A crisis first prompts the user (unless they chose no prompt, or the rule that
fired is one they want to go straight to their contacts), with their safety plan,
their country's crisis line and two one-time links: "I'm safe", "I'm using my
plan". Unacknowledged after their ``prompt_minutes``, contact 1 (highest
priority) is alerted with an "I'm on it" link; unacknowledged after
``contact_minutes``, contact 2; and so on. Any acknowledgement stops the ladder.

Exactly once: each step is run under the crisis row's lock, only if it is the
crisis's next step, and its messages are rows unique per crisis, recipient and
channel. The ladder's clock is ``next_step_at`` in PostgreSQL: whichever instance
claims a due crisis (FOR UPDATE SKIP LOCKED) hands the step to a handler, so a
restart or an extra instance changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.kit.contracts.crisis import ASKED_FOR_HELP
from services.kit.contracts.notifications import CONTACT_ANSWER, USER_ANSWERS
from services.kit.errors import Conflict, NotFound
from services.kit.records import utcnow
from services.notifications import messages
from services.notifications.models import Crisis, CrisisStep, Notification

# A claimed step whose handler never ran it (a crash, the broker down) is claimed
# again this long after: running a step twice is harmless, it only runs once.
CLAIM_LEASE = timedelta(seconds=60)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_crisis(db: Session, crisis: dict, context: dict, settings: dict) -> bool:
    """Record the crisis and its ladder (once per crisis id); True if it is new."""
    created = db.execute(insert(Crisis).values(
        crisis_id=crisis["crisis_id"], user_id=crisis["user_id"], rules=crisis["rules"],
        detected_at=datetime.fromisoformat(crisis["detected_at"]), next_step=0,
        next_step_at=func.now()).on_conflict_do_nothing().returning(Crisis.crisis_id)).scalar()
    if created is None:
        return False
    # No prompt when the user has just asked the assistant to alert their contacts.
    prompt = settings["prompt_minutes"] > 0 and ASKED_FOR_HELP not in crisis["rules"] \
        and not set(crisis["rules"]) & set(settings["skip_prompt_for"])
    steps = [{"target": "user"}] if prompt and (context["user"].get("email") or context["user"].get("phone")) else []
    steps += [{"target": "contact", "contact_id": c["contact_id"], "contact_name": c["name"]}
              for c in context["contacts"]]
    for number, step in enumerate(steps):
        db.add(CrisisStep(crisis_id=crisis["crisis_id"], step=number, **step))
    db.flush()
    return True


def run_due_step(db: Session, crisis_id: str, step: int, context: dict, line: dict,
                 settings: dict, links: dict) -> int:
    """Run ``step`` if it is the crisis's next one and the crisis is open; a contact who
    is no longer confirmed is passed over (the next one follows at once), and so is
    every next contact while the wait is 0. Returns the number of messages planned."""
    crisis = db.scalars(select(Crisis).where(Crisis.crisis_id == crisis_id).with_for_update()).one()
    planned = 0
    while crisis.status == "open" and crisis.next_step == step:
        rung = db.get(CrisisStep, (crisis_id, step))
        if rung is None:
            crisis.status, crisis.next_step_at = "exhausted", None
            break
        contact = next((c for c in context["contacts"] if c["contact_id"] == rung.contact_id), None)
        if rung.target == "contact" and contact is None:
            rung.skipped = True
            step = crisis.next_step = step + 1
            continue
        token = secrets.token_urlsafe(24)
        rung.token_hash, rung.started_at = digest(token), utcnow()
        planned += _plan_step(db, crisis, rung, context, contact, line, settings, links, token)
        wait = settings["prompt_minutes"] if rung.target == "user" else settings["contact_minutes"]
        step = crisis.next_step = step + 1
        crisis.next_step_at = utcnow() + timedelta(minutes=wait)
        if wait > 0:
            break  # else the next contact is alerted now, with this one
    db.flush()
    return planned


def _plan_step(db, crisis, rung, context, contact, line, settings, links, token) -> int:
    user, reference = context["user"], crisis.crisis_id
    ack = f"{links['ack']}?token={token}"
    if rung.target == "user":
        first = next((c["name"] for c in context["contacts"]), None)
        subject, body = messages.crisis_prompt_email(user, line, ack, links["safety_plan"],
                                                     settings["prompt_minutes"], first)
        sms = messages.crisis_prompt_sms(user, line, ack, settings["prompt_minutes"])
        recipient = {"contact_id": crisis.user_id, "name": user.get("display_name") or "you",
                     "email": user.get("email"), "phone": user.get("phone")}
        kind = "crisis_prompt"
    else:
        withdraw = f"{links['withdraw']}?token={contact['withdraw_token']}"
        subject, body = messages.crisis_email(user, contact, line, ack, withdraw)
        sms = messages.crisis_sms(user, contact, line, ack)
        recipient, kind = contact, "crisis"
    planned = 0
    common = dict(user_id=crisis.user_id, kind=kind, reference=reference,
                  contact_id=recipient["contact_id"], contact_name=recipient["name"],
                  priority=rung.step)
    if recipient.get("email"):
        planned += plan(db, channel="email", recipient=recipient["email"], subject=subject,
                        body=body, **common)
    if recipient.get("phone"):
        planned += plan(db, channel="sms", recipient=recipient["phone"], body=sms, **common)
    return planned


def plan(db: Session, **values) -> bool:
    """One message, once: unique per kind, reference, recipient and channel."""
    inserted = db.execute(
        insert(Notification).values(**values)
        .on_conflict_do_nothing(constraint="once_per_contact_and_channel")
        .returning(Notification.notification_id)).scalar()
    return inserted is not None


def plan_one(db: Session, reach: dict, subject: str, body: str, sms: str, **common) -> bool:
    """A message that is not urgent: by email if there is one, else by SMS."""
    if reach.get("email"):
        return plan(db, channel="email", recipient=reach["email"], subject=subject, body=body, **common)
    if reach.get("phone"):
        return plan(db, channel="sms", recipient=reach["phone"], body=sms, **common)
    return False


def claim_due(db: Session, limit: int = 50) -> list[dict]:
    """Crises whose next step is due, claimed (SKIP LOCKED) for a lease, in the
    transaction that also carries the events that run the steps."""
    rows = db.execute(select(Crisis.crisis_id, Crisis.next_step, Crisis.user_id).where(
        Crisis.status == "open", Crisis.next_step_at <= func.now())
        .order_by(Crisis.next_step_at).limit(limit).with_for_update(skip_locked=True)).all()
    if rows:
        db.execute(update(Crisis).where(Crisis.crisis_id.in_([r.crisis_id for r in rows]))
                   .values(next_step_at=func.now() + CLAIM_LEASE))
    return [{"crisis_id": r.crisis_id, "step": r.next_step, "user_id": r.user_id} for r in rows]


# --- acknowledgements ------------------------------------------------------------------

def acknowledge_by_user(db: Session, user_id: str, crisis_id: str, answer: str) -> dict:
    crisis = db.scalars(select(Crisis).where(Crisis.crisis_id == crisis_id, Crisis.user_id == user_id)
                        .with_for_update()).first()
    if crisis is None:
        raise NotFound("crisis not found")
    prompt = db.get(CrisisStep, (crisis_id, 0))
    return _stop(db, crisis, prompt if prompt is not None and prompt.target == "user" else None, answer)


def acknowledge_by_link(db: Session, token: str, answer: str, valid_hours: int) -> dict:
    rung = db.scalars(select(CrisisStep).where(CrisisStep.token_hash == digest(token))).first()
    if rung is None:
        raise NotFound("This link is not valid.")
    expected = USER_ANSWERS if rung.target == "user" else (CONTACT_ANSWER,)
    if answer not in expected:
        raise Conflict("This link answers with: " + ", ".join(expected) + ".",
                       {"answer": [f"One of {', '.join(expected)}."]})
    if rung.started_at is None or rung.started_at < utcnow() - timedelta(hours=valid_hours):
        raise Conflict("This link has expired.", {"token": ["Expired."]})
    crisis = db.scalars(select(Crisis).where(Crisis.crisis_id == rung.crisis_id).with_for_update()).one()
    result = _stop(db, crisis, rung, answer)
    return {"crisis_id": result["crisis_id"], "status": result["status"], "answer": answer,
            "user_id": crisis.user_id, "acknowledged_at": crisis.acknowledged_at.isoformat()}


def _stop(db: Session, crisis: Crisis, rung: CrisisStep | None, answer: str) -> dict:
    if crisis.status == "acknowledged":
        raise Conflict("This crisis has been acknowledged already.")
    if rung is not None and rung.started_at is None:
        raise Conflict("This step has not been reached.")
    now = utcnow()
    crisis.status, crisis.answer, crisis.acknowledged_at, crisis.next_step_at = (
        "acknowledged", answer, now, None)
    if rung is not None:
        rung.acknowledged_at = now
        crisis.acknowledged_step = rung.step
    db.flush()
    return describe(db, crisis)


# --- reading ---------------------------------------------------------------------------------

def describe(db: Session, crisis: Crisis, private: bool = True) -> dict:
    """The crisis, its steps and every message sent; ``private=False`` leaves out
    names and the rules that fired (the operator's audit trail)."""
    sends = db.scalars(select(Notification).where(Notification.reference == crisis.crisis_id,
                                                  Notification.kind.in_(("crisis", "crisis_prompt")))
                       .order_by(Notification.created_at))
    by_step: dict[int, list] = {}
    for send in sends:
        by_step.setdefault(send.priority, []).append({
            "channel": send.channel, "status": send.status,
            "sent_at": send.sent_at.isoformat() if send.sent_at else None})
    steps = []
    for rung in db.scalars(select(CrisisStep).where(CrisisStep.crisis_id == crisis.crisis_id)
                           .order_by(CrisisStep.step)):
        row = {"step": rung.step, "target": rung.target, "skipped": rung.skipped,
               "started_at": rung.started_at.isoformat() if rung.started_at else None,
               "acknowledged_at": rung.acknowledged_at.isoformat() if rung.acknowledged_at else None,
               "sends": by_step.get(rung.step, [])}
        if private:
            row.update(contact_id=rung.contact_id, contact_name=rung.contact_name)
        steps.append(row)
    described = {"crisis_id": crisis.crisis_id, "status": crisis.status,
            "detected_at": crisis.detected_at.isoformat(),
            "acknowledged_at": crisis.acknowledged_at.isoformat() if crisis.acknowledged_at else None,
            "answer": crisis.answer, "next_step_at":
                crisis.next_step_at.isoformat() if crisis.next_step_at and crisis.status == "open"
                else None, "steps": steps}
    if private:
        described["rules"] = list(crisis.rules)
    return described


def audit_trail(db: Session, crisis_id: str) -> dict:
    crisis = db.get(Crisis, crisis_id)
    if crisis is None:
        raise NotFound("crisis not found")
    return {"user_id": crisis.user_id, **describe(db, crisis, private=False)}


def crises_of(db: Session, user_id: str) -> list[dict]:
    return [describe(db, c) for c in db.scalars(select(Crisis).where(Crisis.user_id == user_id)
                                                 .order_by(Crisis.detected_at.desc()).limit(50))]


def crisis_of(db: Session, user_id: str, crisis_id: str) -> dict:
    crisis = db.scalars(select(Crisis).where(Crisis.crisis_id == crisis_id,
                                             Crisis.user_id == user_id)).first()
    if crisis is None:
        raise NotFound("crisis not found")
    return describe(db, crisis)

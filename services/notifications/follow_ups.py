"""Missed doses: medication tracking publishes each once; the user gets a reminder to
log it, and, if they chose a contact for it who agreed to hear about missed doses,
that contact gets a note after a further wait if the dose is still not logged.
Each once: the messages are unique per dose, the follow-up a row claimed once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.kit.profiles import timezone_of
from services.notifications import messages
from services.notifications.escalation import plan_one
from services.notifications.models import DoseFollowUp, Preferences, Recipient


def _when(db: Session, user_id: str, scheduled_for: str) -> str:
    return datetime.fromisoformat(scheduled_for).astimezone(timezone_of(db, user_id)).strftime("%H:%M")


def dose_missed(db: Session, missed: dict, links: dict) -> None:
    user_id, reference = missed["user_id"], f"{missed['medication_id']}@{missed['scheduled_for']}"
    recipient = db.get(Recipient, user_id)
    if recipient is not None:
        subject, body, sms = messages.dose_missed_text(_when(db, user_id, missed["scheduled_for"]),
                                                       links["doses"])
        plan_one(db, {"email": recipient.email, "phone": recipient.phone}, subject, body, sms,
                 user_id=user_id, kind="dose_missed", reference=reference, contact_id=user_id,
                 contact_name="you", priority=40)
    preferences = db.get(Preferences, user_id)
    if preferences is None or preferences.dose_contact_id is None:
        return
    scheduled = datetime.fromisoformat(missed["scheduled_for"])
    db.execute(insert(DoseFollowUp).values(
        medication_id=missed["medication_id"], scheduled_for=scheduled, user_id=user_id,
        contact_id=preferences.dose_contact_id,
        due_at=scheduled + timedelta(minutes=preferences.dose_contact_after_minutes or 120),
    ).on_conflict_do_nothing())


def claim_due(db: Session, limit: int = 100) -> list[dict]:
    """Follow-ups due now, each claimed once (the claim commits with its event)."""
    rows = db.execute(update(DoseFollowUp).where(
        DoseFollowUp.medication_id.in_(
            select(DoseFollowUp.medication_id).where(DoseFollowUp.claimed_at.is_(None),
                                                    DoseFollowUp.due_at <= func.now())
            .limit(limit).with_for_update(skip_locked=True).scalar_subquery()),
        DoseFollowUp.claimed_at.is_(None), DoseFollowUp.due_at <= func.now())
        .values(claimed_at=func.now())
        .returning(DoseFollowUp.user_id, DoseFollowUp.medication_id, DoseFollowUp.scheduled_for,
                   DoseFollowUp.contact_id)).all()
    return [{"user_id": r.user_id, "medication_id": r.medication_id,
             "scheduled_for": r.scheduled_for.isoformat(), "contact_id": r.contact_id} for r in rows]


def tell_contact(db: Session, due: dict, context: dict, links: dict) -> bool:
    """The note to the chosen contact, if they still consent to it."""
    contact = next((c for c in context["contacts"] if c["contact_id"] == due["contact_id"]), None)
    if contact is None or "missed_doses" not in contact["scopes"]:
        return False
    withdraw = f"{links['withdraw']}?token={contact['withdraw_token']}"
    subject, body, sms = messages.contact_dose_text(
        context["user"], contact, _when(db, due["user_id"], due["scheduled_for"]), withdraw)
    return plan_one(db, contact, subject, body, sms, user_id=due["user_id"], kind="dose_missed",
                    reference=f"{due['medication_id']}@{due['scheduled_for']}",
                    contact_id=contact["contact_id"], contact_name=contact["name"], priority=40)

"""When logging goes quiet: a gentle check-in to a user who normally logs daily and
has logged nothing for the days they chose (off by default); later, only if they
chose a contact for it and the contact consented to check-ins, a word to that
contact. Never a crisis alert. Each once per quiet spell (a row per spell)."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.notifications import messages
from services.notifications.escalation import plan_one
from services.notifications.models import ActivityDay, CheckIn, Preferences, Recipient

USUAL_WINDOW_DAYS = 14
USUAL_DAYS = 10  # "normally logs daily": 10 of the 14 days before the silence


def record_activity(db: Session, events: list[dict]) -> None:
    """Days the user logged something, from a batch of shift or card events."""
    rows = {}
    for event in events:
        facts = event["data"]
        key = (facts["user_id"], facts["local_date"])
        at = datetime.fromisoformat(event["occurred_at"])
        rows[key] = max(rows.get(key, at), at)
    db.execute(_keep_latest(), [{"user_id": user, "day": date.fromisoformat(day), "last_at": at}
                                for (user, day), at in rows.items()])


@functools.cache
def _keep_latest():
    """Built and compiled once; a batch runs it as executemany (a multi-row VALUES
    was compiled again for every batch)."""
    table = ActivityDay.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.day],
        set_={"last_at": func.greatest(table.c.last_at, statement.excluded.last_at)})


def claim_quiet(db: Session, now: datetime) -> list[dict]:
    """Plan the check-ins due now; return the contact check-ins due (for a handler,
    which asks user management whether the contact still consents)."""
    contacts = []
    for settings in db.scalars(select(Preferences).where(
            Preferences.check_in_after_days.is_not(None))):
        last = db.scalar(select(func.max(ActivityDay.last_at)).where(
            ActivityDay.user_id == settings.user_id))
        if last is None or now - last < timedelta(days=settings.check_in_after_days):
            continue
        usual = db.scalar(select(func.count()).select_from(ActivityDay).where(
            ActivityDay.user_id == settings.user_id,
            ActivityDay.day > (last - timedelta(days=USUAL_WINDOW_DAYS)).date()))
        if usual < USUAL_DAYS:
            continue
        if db.execute(insert(CheckIn).values(user_id=settings.user_id, quiet_since=last,
                                             user_sent_at=now).on_conflict_do_nothing()
                      .returning(CheckIn.user_id)).scalar():
            _plan_user(db, settings.user_id, last)
        if settings.check_in_contact_id and settings.check_in_contact_after_days is not None and \
                now - last >= timedelta(days=settings.check_in_after_days
                                        + settings.check_in_contact_after_days):
            claimed = db.execute(update(CheckIn).where(
                CheckIn.user_id == settings.user_id, CheckIn.quiet_since == last,
                CheckIn.contact_sent_at.is_(None)).values(contact_sent_at=now)
                .returning(CheckIn.user_id)).scalar()
            if claimed:
                contacts.append({"user_id": settings.user_id, "contact_id": settings.check_in_contact_id,
                                 "quiet_since": last.isoformat()})
    return contacts


def _plan_user(db: Session, user_id: str, since: datetime) -> None:
    recipient = db.get(Recipient, user_id)
    if recipient is None:
        return
    subject, body, sms = messages.check_in_text({"display_name": recipient.display_name})
    common = dict(user_id=user_id, kind="check_in", reference=since.isoformat(), contact_id=user_id,
                  contact_name="you", priority=60)
    plan_one(db, {"email": recipient.email, "phone": recipient.phone}, subject, body, sms, **common)


def plan_contact(db: Session, due: dict, context: dict, links: dict) -> bool:
    contact = next((c for c in context["contacts"] if c["contact_id"] == due["contact_id"]), None)
    if contact is None or "check_ins" not in contact["scopes"]:
        return False  # not confirmed any more, or never agreed to check-ins
    withdraw = f"{links['withdraw']}?token={contact['withdraw_token']}"
    subject, body, sms = messages.contact_check_in_text(context["user"], contact, withdraw)
    common = dict(user_id=due["user_id"], kind="check_in", reference=due["quiet_since"],
                  contact_id=contact["contact_id"], contact_name=contact["name"], priority=60)
    return plan_one(db, contact, subject, body, sms, **common)

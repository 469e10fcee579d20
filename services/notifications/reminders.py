"""Reminders the user sets, fired exactly once each time they fall due.

When a reminder is next due is worked out in the user's time zone (08:00 stays
08:00 across daylight-saving changes) and moved out of the user's quiet hours
(reminders wait; crisis steps never do). Firing is claimed in PostgreSQL: the due
reminders are locked (FOR UPDATE SKIP LOCKED) in the transaction that plans their
messages and moves them on, so with any number of instances each occurrence is
planned once, and one a killed instance had locked is rolled back and taken over.
A medication reminder follows its medication's structured schedule.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.kit import metrics
from services.kit.contracts.medications import WEEKDAYS
from services.kit.errors import Conflict, NotFound, Unprocessable
from services.kit.profiles import local_today, timezone_of
from services.kit.records import OwnedRecords, apply_changes, get_owned, to_dict, utcnow
from services.notifications import messages
from services.notifications.escalation import digest, plan
from services.notifications.models import Preferences, Recipient, Reminder

reminders = OwnedRecords(Reminder, (Reminder.created_at,))
MAX_REMINDERS = 50
SCHEDULE_FIELDS = ("times", "days_of_week", "every_n_days", "start_date", "end_date")
# Missed while every instance was down longer than this: not sent late, moved on.
STALE_AFTER = timedelta(hours=2)


def in_quiet_hours(moment: time, start: time | None, end: time | None) -> bool:
    if start is None or end is None or start == end:
        return False
    return start <= moment < end if start < end else moment >= start or moment < end


def _on(day: date, reminder: dict, start: date) -> bool:
    if reminder.get("end_date") and day > date.fromisoformat(str(reminder["end_date"])):
        return False
    if reminder.get("every_n_weeks") and ((day - start).days // 7) % reminder["every_n_weeks"]:
        return False
    if reminder.get("every_n_days") and (day - start).days % reminder["every_n_days"]:
        return False
    weekdays = reminder.get("days_of_week")
    return not weekdays or WEEKDAYS[day.weekday()] in weekdays


def next_due(reminder: dict, after: datetime, zone: ZoneInfo,
             quiet: tuple[time | None, time | None] = (None, None)) -> datetime | None:
    """The first time after ``after`` the reminder falls due, out of quiet hours;
    None once it has ended."""
    times = sorted(time.fromisoformat(t) for t in reminder["times"])
    start = date.fromisoformat(str(reminder["start_date"]))
    day = max(start, after.astimezone(zone).date() - timedelta(days=1))
    horizon = 7 * (reminder.get("every_n_weeks") or 1) + (reminder.get("every_n_days") or 1) + 8
    for _ in range(horizon):
        if _on(day, reminder, start):
            for moment in times:
                if in_quiet_hours(moment, *quiet):
                    moment = quiet[1]  # at the end of quiet hours
                due = datetime.combine(day, moment, zone)
                if due > after:
                    return due
        day += timedelta(days=1)
    return None


def quiet_of(db: Session, user_id: str) -> tuple[time | None, time | None]:
    preferences = db.get(Preferences, user_id)
    return (preferences.quiet_start, preferences.quiet_end) if preferences else (None, None)


def _schedule(db: Session, record: Reminder, after: datetime | None = None) -> None:
    record.next_due_at = next_due(to_dict(record), after or utcnow(), timezone_of(db, record.user_id),
                                  quiet_of(db, record.user_id)) if record.active else None


def reschedule_all(db: Session, user_id: str) -> None:
    """After a change of quiet hours or time zone."""
    for record in db.scalars(select(Reminder).where(Reminder.user_id == user_id, Reminder.active)
                             .with_for_update()):
        _schedule(db, record)


def _following(medication: dict) -> dict:
    """A medication reminder's schedule: the medication's own."""
    schedule = medication["schedule"]
    if schedule.get("as_needed") or not schedule.get("times"):
        raise Unprocessable(fields={"medication_id": ["This medication is taken as needed: "
                                                      "it has no times to remind you of."]})
    return {"times": schedule["times"], "days_of_week": schedule.get("days_of_week"),
            "every_n_days": schedule.get("every_n_days"),
            "start_date": schedule.get("start_date") or medication["created_at"][:10],
            "end_date": schedule.get("end_date")}


def create(db: Session, user_id: str, data: dict, medication: dict | None = None) -> dict:
    count = db.scalar(select(func.count()).select_from(Reminder).where(Reminder.user_id == user_id))
    if count >= MAX_REMINDERS:
        raise Conflict(f"At most {MAX_REMINDERS} reminders.")
    values = {k: data[k] for k in reminders.editable if k in data}
    values.setdefault("start_date", local_today(db, user_id))
    if medication is not None:
        values.update(_following(medication))
    record = Reminder(user_id=user_id, **values)
    db.add(record)
    db.flush()
    _schedule(db, record)
    db.flush()
    return to_dict(record, reminders.fields)


def update(db: Session, user_id: str, reminder_id: str, changes: dict) -> dict:
    record = get_owned(db, Reminder, user_id, reminder_id, for_update=True)
    if record.kind == "medication" and set(changes) & set(SCHEDULE_FIELDS):
        raise Unprocessable(fields={name: ["A medication reminder follows the medication's "
                                           "schedule; change it there."]
                                    for name in set(changes) & set(SCHEDULE_FIELDS)})
    if record.kind != "questionnaire" and "every_n_weeks" in changes:
        raise Unprocessable(fields={"every_n_weeks": ["Only for questionnaire reminders."]})
    apply_changes(record, changes, reminders.editable)
    if not record.times:
        raise Unprocessable(fields={"times": ["Give at least one time."]})
    _schedule(db, record)
    db.flush()
    return to_dict(record, reminders.fields)


def follow_medication(db: Session, medication: dict) -> None:
    """The medication's schedule changed (or it stopped): its reminders follow."""
    for record in db.scalars(select(Reminder).where(
            Reminder.medication_id == medication["medication_id"]).with_for_update()):
        try:
            for name, value in _following(medication).items():
                setattr(record, name, value)
        except Unprocessable:  # now taken as needed
            record.active = False
        if not medication["active"]:
            record.active = False
        _schedule(db, record)


def forget_medication(db: Session, medication_id: str) -> None:
    for record in db.scalars(select(Reminder).where(Reminder.medication_id == medication_id)
                             .with_for_update()):
        db.delete(record)


def snooze(db: Session, token: str, minutes: int) -> dict:
    record = db.scalars(select(Reminder).where(Reminder.snooze_token_hash == digest(token))
                        .with_for_update()).first()
    if record is None:
        raise NotFound("This link is not valid.")
    if not record.active:
        raise Conflict("This reminder is switched off.")
    if record.last_fired_at is not None and record.last_fired_at < utcnow() - timedelta(hours=12):
        raise Conflict("This reminder is too old to snooze.")
    record.snoozed_until = utcnow() + timedelta(minutes=minutes)
    record.next_due_at = min(record.snoozed_until, record.next_due_at or record.snoozed_until)
    record.snooze_token_hash = None  # a link snoozes once
    db.flush()
    return {"reminder_id": record.reminder_id, "next_due_at": record.next_due_at.isoformat()}


def fire_due(db: Session, links: dict, limit: int = 200) -> int:
    """Plan the messages of the reminders due now (locked, SKIP LOCKED), and move each
    on to its next time; all in the caller's transaction. Returns how many fired."""
    now = utcnow()
    due = db.scalars(select(Reminder).where(Reminder.active, Reminder.next_due_at <= now)
                     .order_by(Reminder.next_due_at).limit(limit).with_for_update(skip_locked=True)).all()
    recipients = {r.user_id: r for r in db.scalars(
        select(Recipient).where(Recipient.user_id.in_({record.user_id for record in due})))}
    fired: list[str] = []
    for record in due:
        zone = timezone_of(db, record.user_id)
        if now - record.next_due_at < STALE_AFTER:
            _send(db, record, recipients.get(record.user_id), zone, links)
            fired.append(record.kind)
        record.last_fired_at, record.snoozed_until = record.next_due_at, None
        _schedule(db, record, after=max(record.next_due_at, now))
    db.flush()
    db.on_commit(lambda: _count_fired(fired))
    return len(due)


def _count_fired(kinds: list[str]) -> None:
    for kind in kinds:
        metrics.count("sanctum_reminders_fired_total", kind=kind)


def _send(db: Session, record: Reminder, recipient: Recipient | None, zone: ZoneInfo, links: dict):
    if recipient is None:
        return
    token = secrets.token_urlsafe(24)
    when = record.next_due_at.astimezone(zone).strftime("%H:%M")
    subject, body, sms = messages.reminder_text(record.kind, when, f"{links['snooze']}?token={token}")
    common = dict(user_id=record.user_id, kind="reminder",
                  reference=f"{record.reminder_id}@{record.next_due_at.isoformat()}",
                  contact_id=record.user_id, contact_name="you", priority=50)
    if recipient.email and "email" in record.channels:
        plan(db, channel="email", recipient=recipient.email, subject=subject, body=body, **common)
    if recipient.phone and "sms" in record.channels:
        plan(db, channel="sms", recipient=recipient.phone, body=sms, **common)
    record.snooze_token_hash = digest(token)


def save_recipient(db: Session, facts: dict, changed_at: datetime) -> None:
    """How to reach the user themselves; the newest change wins."""
    values = {key: facts.get(key) for key in ("email", "phone", "display_name", "country")}
    statement = insert(Recipient).values(user_id=facts["user_id"], updated_at=changed_at, **values)
    db.execute(statement.on_conflict_do_update(
        index_elements=[Recipient.user_id], set_={**values, "updated_at": changed_at},
        where=Recipient.updated_at < changed_at))

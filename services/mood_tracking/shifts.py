"""Mood shifts in PostgreSQL: write, correct, delete, list; and the per-day
records derived from them (daily baselines, rapid-cycling days), recomputed
in the same transaction as every write so they are never behind.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta

from sqlalchemy import DateTime, bindparam, literal, select, text, tuple_
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Session

from services.kit.contracts.mood import SEVERITY_LABELS
from services.kit.db import KitSession
from services.kit.errors import Unprocessable
from services.kit.profiles import timezone_of
from services.kit.records import get_owned, is_uuid, plain, utcnow
from services.mood_tracking.models import DailyBaseline, MoodShift, RapidCyclingDay

BASELINE_FIELDS = ("day", "peak_elevation", "peak_depression", "irritability", "anxiety",
                   "mixed", "sleep_hours", "shift_count")


# --- shapes ----------------------------------------------------------------------

def columns_from_request(data: dict) -> dict:
    """The API's nested previous/current states as table columns."""
    columns = {}
    if "timestamp" in data:
        columns["occurred_at"] = data["timestamp"]
    for side in ("previous", "current"):
        if side in data:
            columns[f"{side}_level"] = data[side]["level"]
            columns[f"{side}_mixed"] = data[side].get("mixed", False)
            columns[f"{side}_state"] = data[side].get("state")
    for name in ("intensity", "triggers", "note", "sleep_hours"):
        if name in data:
            columns[name] = data[name]
    return columns


def shift_dict(row) -> dict:
    return {
        "shift_id": row.shift_id,
        "timestamp": row.occurred_at.isoformat(),
        "local_date": row.local_date.isoformat(),
        "previous": {"level": row.previous_level, "mixed": row.previous_mixed,
                     "state": row.previous_state},
        "current": {"level": row.current_level, "mixed": row.current_mixed,
                    "state": row.current_state},
        "intensity": row.intensity,
        "triggers": list(row.triggers or []),
        "note": row.note,
        "sleep_hours": plain(row.sleep_hours),
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def baseline_dict(row) -> dict:
    values = {name: plain(getattr(row, name)) for name in BASELINE_FIELDS}
    values["irritability"] = SEVERITY_LABELS[row.irritability]
    values["anxiety"] = SEVERITY_LABELS[row.anxiety]
    return values


# --- time zone --------------------------------------------------------------------



# --- derived per-day records ---------------------------------------------------------
# Worked out by SQL functions (migration 0005), where the shifts are: logging a
# shift is then one statement, and corrections reuse the same definitions.

REFRESH_DAY = text("SELECT mood_tracking.refresh_day(:user_id, :day)")
REFRESH_DAY_AND_FACTS = text(
    "SELECT mood_tracking.shift_facts(:shift_id, mood_tracking.refresh_day(:user_id, :day))")


def refresh_day(db: Session, user_id: str, day: date) -> None:
    """Recompute one day's baseline and rapid-cycling record."""
    db.execute(REFRESH_DAY, {"user_id": user_id, "day": day})


def refresh_day_and_facts(db: Session, user_id: str, shift) -> dict:
    """Refresh the shift's day; return what pattern analysis needs to know of it."""
    return db.execute(REFRESH_DAY_AND_FACTS, {
        "shift_id": shift.shift_id, "user_id": user_id, "day": shift.local_date}).scalar_one()


# --- writes ----------------------------------------------------------------------------

def _validate_time(occurred_at: datetime) -> None:
    if occurred_at > utcnow() + timedelta(minutes=2):
        raise Unprocessable(fields={"timestamp": ["Cannot be in the future."]})


LOG_SHIFT = text(
    "SELECT * FROM mood_tracking.log_shift(CAST(:user_id AS uuid), :request_id, "
    "CAST(:occurred_at AS timestamptz), CAST(:previous_level AS smallint), "
    "CAST(:previous_mixed AS boolean), :previous_state, CAST(:current_level AS smallint), "
    "CAST(:current_mixed AS boolean), :current_state, CAST(:intensity AS smallint), "
    "CAST(:triggers AS text[]), :note, CAST(:sleep_hours AS numeric), :event, :event_headers)"
).bindparams(bindparam("event", type_=JSONB), bindparam("event_headers", type_=JSONB))
# The same lock log_shift takes, for corrections and deletions.
LOCK_USER = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(CAST(CAST(:user_id AS uuid) AS text), 0))")


def lock_user(db: Session, user_id: str) -> None:
    """Serialise one user's writes: each recomputes days from the shifts it can
    see, and two at once would each miss the other's (a lost update)."""
    db.execute(LOCK_USER, {"user_id": user_id})


def create(db: KitSession, user_id: str, data: dict, request_id: str,
           event: dict) -> tuple[dict, dict | None]:
    """Log the shift and its ``event`` (an outbox row, its data filled in by SQL),
    in one statement; return the shift and the event's payload. A request id
    seen before returns that shift and no payload."""
    columns = {"previous_mixed": False, "current_mixed": False, "previous_state": None,
               "current_state": None, "triggers": [], "note": None, "sleep_hours": None,
               **columns_from_request(data)}
    columns.setdefault("occurred_at", utcnow())
    _validate_time(columns["occurred_at"])
    row = db.execute_alone(LOG_SHIFT, {
        "user_id": user_id, "request_id": request_id, **columns,
        "event": event["payload"], "event_headers": event["headers"],
    }).one()
    return shift_dict(row), row.event


def update(db: Session, user_id: str, shift_id: str, changes: dict) -> tuple[dict, dict]:
    lock_user(db, user_id)
    record = get_owned(db, MoodShift, user_id, shift_id, for_update=True)
    old_day = record.local_date
    columns = columns_from_request(changes)
    if "occurred_at" in columns:
        _validate_time(columns["occurred_at"])
        record.local_date = columns["occurred_at"].astimezone(timezone_of(db, user_id)).date()
    for name, value in columns.items():
        setattr(record, name, value)
    db.flush()
    if record.local_date != old_day:
        refresh_day(db, user_id, old_day)
    return shift_dict(record), refresh_day_and_facts(db, user_id, record)


def remove(db: Session, user_id: str, shift_id: str) -> None:
    lock_user(db, user_id)
    record = get_owned(db, MoodShift, user_id, shift_id, for_update=True)
    day = record.local_date
    db.delete(record)
    db.flush()
    refresh_day(db, user_id, day)


# --- reads -------------------------------------------------------------------------------

def encode_cursor(row) -> str:
    raw = f"{row.occurred_at.isoformat()}|{row.shift_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, shift_id = raw.split("|")
        if not is_uuid(shift_id):
            raise ValueError
        return datetime.fromisoformat(stamp), shift_id
    except (ValueError, UnicodeDecodeError):
        raise Unprocessable(fields={"cursor": ["Not a cursor from this API."]}) from None


def page(db: Session, user_id: str, query: dict) -> dict:
    """Newest first, in the [from, to) range, ``limit`` at a time."""
    limit = query.get("limit", 50)
    statement = select(MoodShift).where(MoodShift.user_id == user_id)
    if query.get("from"):
        statement = statement.where(MoodShift.occurred_at >= query["from"])
    if query.get("to"):
        statement = statement.where(MoodShift.occurred_at < query["to"])
    if query.get("cursor"):
        stamp, shift_id = decode_cursor(query["cursor"])
        statement = statement.where(
            tuple_(MoodShift.occurred_at, MoodShift.shift_id)
            < tuple_(literal(stamp, DateTime(timezone=True)), literal(shift_id, UUID(as_uuid=False)))
        )
    rows = db.scalars(
        statement.order_by(MoodShift.occurred_at.desc(), MoodShift.shift_id.desc()).limit(limit + 1)
    ).all()
    items = rows[:limit]
    return {
        "items": [shift_dict(r) for r in items],
        "next_cursor": encode_cursor(items[-1]) if len(rows) > limit else None,
    }


def one(db: Session, user_id: str, shift_id: str) -> dict:
    return shift_dict(get_owned(db, MoodShift, user_id, shift_id))


def baselines(db: Session, user_id: str, start: date, end: date) -> list[dict]:
    rows = db.scalars(
        select(DailyBaseline)
        .where(DailyBaseline.user_id == user_id, DailyBaseline.day >= start, DailyBaseline.day <= end)
        .order_by(DailyBaseline.day)
    ).all()
    return [baseline_dict(r) for r in rows]


def rapid_cycling_days(db: Session, user_id: str, start: date, end: date) -> list[dict]:
    rows = db.scalars(
        select(RapidCyclingDay)
        .where(RapidCyclingDay.user_id == user_id, RapidCyclingDay.day >= start,
               RapidCyclingDay.day <= end)
        .order_by(RapidCyclingDay.day)
    ).all()
    return [{"day": r.day.isoformat(), "crossings": r.crossings,
             "detected_at": r.detected_at.isoformat()} for r in rows]

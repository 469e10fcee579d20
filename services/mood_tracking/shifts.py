"""Mood shifts in PostgreSQL: write, correct, delete, list; and the per-day
records derived from them (daily baselines, rapid-cycling days), recomputed
in the same transaction as every write so they are never behind.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    DateTime,
    Text,
    bindparam,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.orm import Session

from services.kit.errors import ValidationFailed
from services.kit.records import get_owned, is_uuid, plain, utcnow
from services.mood_tracking import logic
from services.mood_tracking.models import DailyBaseline, MoodShift, RapidCyclingDay, UserSettings

SHIFTS = MoodShift.__table__
BASELINES = DailyBaseline.__table__
CYCLING = RapidCyclingDay.__table__
SETTINGS = UserSettings.__table__
EDITABLE = ("occurred_at", "previous_level", "previous_mixed", "previous_state", "current_level",
            "current_mixed", "current_state", "intensity", "triggers", "note", "sleep_hours")
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
    values["irritability"] = logic.SEVERITY_LABELS[row.irritability]
    values["anxiety"] = logic.SEVERITY_LABELS[row.anxiety]
    return values


# --- time zone --------------------------------------------------------------------

def user_timezone(db: Session, user_id: str) -> ZoneInfo:
    name = db.scalar(select(UserSettings.timezone).where(UserSettings.user_id == user_id))
    return ZoneInfo(name or "UTC")


def save_timezone(db: Session, user_id: str, name: str, changed_at: datetime) -> None:
    """Keep the newest time zone (events may arrive out of order)."""
    statement = insert(UserSettings).values(user_id=user_id, timezone=name, updated_at=changed_at)
    db.execute(statement.on_conflict_do_update(
        index_elements=[UserSettings.user_id],
        set_={"timezone": statement.excluded.timezone, "updated_at": statement.excluded.updated_at},
        where=UserSettings.updated_at < statement.excluded.updated_at,
    ))


# --- derived per-day records ---------------------------------------------------------

ROWS_FOR_ANALYSIS = (
    select(SHIFTS.c.shift_id, SHIFTS.c.occurred_at, SHIFTS.c.local_date, SHIFTS.c.previous_level,
           SHIFTS.c.current_level, SHIFTS.c.current_mixed, SHIFTS.c.current_state,
           SHIFTS.c.intensity, SHIFTS.c.sleep_hours)
    .where(SHIFTS.c.user_id == bindparam("user_id"),
           or_(SHIFTS.c.occurred_at >= bindparam("since"), SHIFTS.c.local_date == bindparam("day")))
)


def _rows_for_analysis(db: Session, user_id: str, since: datetime, day: date):
    """The shifts of the 24 h before ``since`` onwards, and every shift of ``day``."""
    return db.execute(ROWS_FOR_ANALYSIS, {"user_id": user_id, "since": since, "day": day}).all()


def _day_rows(db: Session, user_id: str, day: date):
    return db.execute(
        select(SHIFTS.c.occurred_at, SHIFTS.c.previous_level, SHIFTS.c.current_level,
               SHIFTS.c.current_mixed, SHIFTS.c.current_state, SHIFTS.c.intensity,
               SHIFTS.c.sleep_hours)
        .where(SHIFTS.c.user_id == user_id, SHIFTS.c.local_date == day)
    ).all()


def _upsert(table, key: tuple[str, ...], columns: tuple[str, ...], **also):
    statement = insert(table).values({name: bindparam(name) for name in key + columns})
    return statement.on_conflict_do_update(
        index_elements=list(key),
        set_={**{name: statement.excluded[name] for name in columns}, **also},
    )


UPSERT_BASELINE = _upsert(BASELINES, ("user_id", "day"), (
    "peak_elevation", "peak_depression", "irritability", "anxiety", "mixed", "sleep_hours",
    "shift_count"), updated_at=func.now())
UPSERT_CYCLING = _upsert(CYCLING, ("user_id", "day"), ("crossings",))


def refresh_day(db: Session, user_id: str, day: date, rows=None, grew: bool = False) -> int:
    """Recompute one day's baseline and rapid-cycling record; return its crossings.

    ``grew``: the day only gained a shift, and adding a point never removes a
    crossing, so a day below the threshold cannot have a record to delete.
    """
    rows = _day_rows(db, user_id, day) if rows is None else rows
    this_day = (BASELINES.c.user_id == user_id) & (BASELINES.c.day == day)
    cycling_day = (CYCLING.c.user_id == user_id) & (CYCLING.c.day == day)
    if not rows:
        db.execute(delete(BASELINES).where(this_day))
        db.execute(delete(CYCLING).where(cycling_day))
        return 0
    db.execute(UPSERT_BASELINE, {"user_id": user_id, "day": day, **logic.day_summary(rows)})
    crossings = logic.polarity_crossings(rows)
    if crossings >= logic.RAPID_CYCLING_CROSSINGS:
        db.execute(UPSERT_CYCLING, {"user_id": user_id, "day": day, "crossings": crossings})
    elif not grew:
        db.execute(delete(CYCLING).where(cycling_day))
    return crossings


def analysis_facts(db: Session, user_id: str, shift, grew: bool = False) -> dict:
    """Refresh the shift's day; return what pattern analysis needs to know of it.

    Computed here, where the data is, in the writing transaction: the event
    then carries facts, and pattern analysis never has to read mood data back.
    """
    rows = _rows_for_analysis(db, user_id, shift.occurred_at - timedelta(hours=24), shift.local_date)
    crossings = refresh_day(db, user_id, shift.local_date,
                            [r for r in rows if r.local_date == shift.local_date], grew=grew)
    return {
        "shift_id": shift.shift_id,
        "user_id": user_id,
        "occurred_at": shift.occurred_at.isoformat(),
        "local_date": shift.local_date.isoformat(),
        "previous_level": shift.previous_level,
        "current_level": shift.current_level,
        "current_mixed": shift.current_mixed,
        "drop_24h": logic.drop_within_24h(shift, [r for r in rows if r.shift_id != shift.shift_id]),
        "crossings_today": crossings,
        "rapid_cycling_today": crossings >= logic.RAPID_CYCLING_CROSSINGS,
    }


# --- writes ----------------------------------------------------------------------------

def _validate_time(occurred_at: datetime) -> None:
    if occurred_at > utcnow() + timedelta(minutes=2):
        raise ValidationFailed(fields={"timestamp": ["Cannot be in the future."]})


SHIFT_COLUMNS = ("previous_level", "previous_mixed", "previous_state", "current_level",
                 "current_mixed", "current_state", "intensity", "triggers", "note", "sleep_hours")


def _typed(name: str):
    return bindparam(name, type_=SHIFTS.c[name].type)


# Taken in the INSERT itself, so the later reads (a statement with a fresh
# snapshot, after the lock) see every shift another write of this user committed.
LOCK_USER = func.pg_advisory_xact_lock(func.hashtextextended(_typed("user_id").cast(Text), 0))
# Built once: the hot path only binds values (no statement building, no cache-key work).
INSERT_SHIFT = (
    insert(SHIFTS)
    .from_select(
        ["user_id", "request_id", "occurred_at", "local_date", *SHIFT_COLUMNS],
        select(
            _typed("user_id"), _typed("request_id"), _typed("occurred_at"),
            # The calendar day in the user's time zone, worked out inside the INSERT.
            cast(func.timezone(
                func.coalesce(select(SETTINGS.c.timezone)
                              .where(SETTINGS.c.user_id == _typed("user_id")).scalar_subquery(), "UTC"),
                _typed("occurred_at")), Date),
            *(_typed(name) for name in SHIFT_COLUMNS),
        ).select_from(select(LOCK_USER.label("locked")).subquery("user_lock")),
    )
    .on_conflict_do_nothing(index_elements=["user_id", "request_id"])
    .returning(*SHIFTS.c)
)
SHIFT_BY_REQUEST = select(SHIFTS).where(SHIFTS.c.user_id == bindparam("user_id"),
                                        SHIFTS.c.request_id == bindparam("request_id"))


def lock_user(db: Session, user_id: str) -> None:
    """Serialise one user's writes: each recomputes days from the shifts it can
    see, and two at once would each miss the other's (a lost update)."""
    db.execute(select(LOCK_USER), {"user_id": user_id})


def create(db: Session, user_id: str, data: dict, request_id: str) -> tuple[dict, dict | None]:
    """Insert the shift; a request id seen before returns that shift and no facts."""
    columns = {"previous_mixed": False, "current_mixed": False, "previous_state": None,
               "current_state": None, "triggers": [], "note": None, "sleep_hours": None,
               **columns_from_request(data)}
    columns.setdefault("occurred_at", utcnow())
    _validate_time(columns["occurred_at"])
    params = {"user_id": user_id, "request_id": request_id, **columns}
    shift = db.execute(INSERT_SHIFT, params).one_or_none()  # takes the user's lock first
    if shift is None:
        return shift_dict(db.execute(SHIFT_BY_REQUEST, params).one()), None
    return shift_dict(shift), analysis_facts(db, user_id, shift, grew=True)


def update(db: Session, user_id: str, shift_id: str, changes: dict) -> tuple[dict, dict]:
    lock_user(db, user_id)
    record = get_owned(db, MoodShift, user_id, shift_id, for_update=True)
    old_day = record.local_date
    columns = columns_from_request(changes)
    if "occurred_at" in columns:
        _validate_time(columns["occurred_at"])
        record.local_date = columns["occurred_at"].astimezone(user_timezone(db, user_id)).date()
    for name, value in columns.items():
        setattr(record, name, value)
    db.flush()
    if record.local_date != old_day:
        refresh_day(db, user_id, old_day)
    facts = analysis_facts(db, user_id, record)
    return shift_dict(record), facts


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
        raise ValidationFailed(fields={"cursor": ["Not a cursor from this API."]}) from None


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

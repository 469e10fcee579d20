"""Doses, side effects and changes of a user's medications; adherence; and the
scheduled doses that were missed.

Which medications a user has, and their schedules, is user management's: a dose
or a change is checked against it over RPC (the caller passes what it said),
and a copy (``prescriptions``) kept from its events serves the missed-dose check.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.kit.errors import Unprocessable
from services.kit.profiles import local_today, timezone_of
from services.kit.records import OwnedRecords, to_dict, utcnow
from services.medications import schedule as schedules
from services.medications.models import (
    DoseLog,
    MedicationChange,
    MissedDose,
    Prescription,
    SideEffect,
)

PRESCRIPTION_FIELDS = ("name", "dose", "dose_amount", "dose_unit", "schedule", "active")
side_effects = OwnedRecords(SideEffect, (SideEffect.started_on.desc(),))


# --- the copy of the list ------------------------------------------------------------

def remember(db: Session, user_id: str, medication: dict) -> None:
    """Keep the newest copy of a medication (events may arrive out of order)."""
    values = {"user_id": user_id, "name": medication["name"],
              "dose_amount": medication["dose_amount"], "dose_unit": medication["dose_unit"],
              "schedule": medication["schedule"], "active": medication["active"],
              "added_on": datetime.fromisoformat(medication["created_at"]).date(),
              "source_updated_at": datetime.fromisoformat(medication["updated_at"])}
    statement = insert(Prescription).values(medication_id=medication["medication_id"], **values)
    db.execute(statement.on_conflict_do_update(
        index_elements=[Prescription.medication_id], set_=values,
        where=Prescription.source_updated_at <= statement.excluded.source_updated_at))


def forget_prescription(db: Session, medication_id: str) -> None:
    db.execute(Prescription.__table__.delete().where(Prescription.medication_id == medication_id))


# --- what was prescribed on a day --------------------------------------------------------

def changes_of(db: Session, medication_id: str) -> list[MedicationChange]:
    return list(db.scalars(select(MedicationChange).where(
        MedicationChange.medication_id == medication_id)
        .order_by(MedicationChange.effective_date, MedicationChange.created_at)))


def prescribed_on(current: dict, changes: list[MedicationChange], day: date) -> dict:
    """The prescription in effect on ``day``: the last change on or before it, or, if
    every change is later, what the first one replaced; else what it is now."""
    earlier = [c for c in changes if c.effective_date <= day]
    if earlier:
        return earlier[-1].after
    return changes[0].before if changes else current


# --- doses -----------------------------------------------------------------------------------

def log_dose(db: Session, user_id: str, medication: dict, data: dict) -> dict:
    """Log a dose against its scheduled dose time (the nearest within hours, or the one
    given); a second log for the same scheduled dose answers with the first."""
    zone = timezone_of(db, user_id)
    taken_at = data.get("taken_at") or utcnow()
    if taken_at > utcnow() + timedelta(minutes=2):
        raise Unprocessable(fields={"taken_at": ["Cannot be in the future."]})
    remember(db, user_id, medication)
    changes = changes_of(db, medication["medication_id"])
    local_day = taken_at.astimezone(zone).date()
    in_effect = prescribed_on(medication, changes, local_day)
    around = schedules.due_times(
        in_effect["schedule"], local_day - timedelta(days=1), local_day + timedelta(days=1), zone,
        added_on=datetime.fromisoformat(medication["created_at"]).date())
    due = data.get("scheduled_for") or schedules.nearest(around, taken_at)
    if data.get("scheduled_for") and due not in around:
        raise Unprocessable(fields={"scheduled_for": ["No dose of this medication is due then."]})
    row = {"user_id": user_id, "medication_id": medication["medication_id"], "status": data["status"],
           "amount": data.get("amount"), "unit": data.get("unit"), "taken_at": taken_at,
           "scheduled_for": due, "off_prescription": off_prescription(data, in_effect)}
    inserted = db.execute(insert(DoseLog).values(**row).on_conflict_do_nothing(
        index_elements=[DoseLog.medication_id, DoseLog.scheduled_for],
        index_where=DoseLog.scheduled_for.is_not(None)).returning(DoseLog.dose_id)).scalar()
    if inserted is None:  # that scheduled dose is logged already
        return to_dict(db.scalars(select(DoseLog).where(
            DoseLog.medication_id == medication["medication_id"], DoseLog.scheduled_for == due)).one())
    return to_dict(db.get(DoseLog, inserted))


def off_prescription(data: dict, prescribed: dict) -> bool:
    """A dose taken in an amount other than the one prescribed (when both are known)."""
    if data["status"] == "skipped" or data.get("amount") is None or prescribed.get("dose_amount") is None:
        return False
    return (float(data["amount"]) != float(prescribed["dose_amount"])
            or (data.get("unit") or prescribed.get("dose_unit")) != prescribed.get("dose_unit"))


def doses(db: Session, user_id: str, start: date, end: date,
          medication_id: str | None = None) -> list[dict]:
    zone = timezone_of(db, user_id)
    since = datetime.combine(start, datetime.min.time(), zone)
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone)
    query = select(DoseLog).where(DoseLog.user_id == user_id, DoseLog.taken_at >= since,
                                  DoseLog.taken_at < until)
    if medication_id:
        query = query.where(DoseLog.medication_id == medication_id)
    return [to_dict(row) for row in db.scalars(query.order_by(DoseLog.taken_at.desc()))]


# --- side effects ------------------------------------------------------------------------------

def side_effects_in(db: Session, user_id: str, start: date, end: date,
                    medication_id: str | None = None) -> list[dict]:
    """Side effects that were going on at any time in [start, end]."""
    query = select(SideEffect).where(
        SideEffect.user_id == user_id, SideEffect.started_on <= end,
        (SideEffect.ended_on.is_(None)) | (SideEffect.ended_on >= start))
    if medication_id:
        query = query.where(SideEffect.medication_id == medication_id)
    return [to_dict(r) for r in db.scalars(query.order_by(SideEffect.started_on.desc()))]


# --- changes -----------------------------------------------------------------------------------

def plan_change(db: Session, user_id: str, medication: dict, data: dict) -> tuple[dict, dict]:
    """The change's row, and what the medication list must now say."""
    if data["effective_date"] > local_today(db, user_id):
        raise Unprocessable(fields={"effective_date": [
            "A change is recorded from the day it starts: today or earlier."]})
    before = {key: medication.get(key) for key in PRESCRIPTION_FIELDS}
    after = dict(before)
    if data["kind"] == "stopped":
        after["active"] = False
    if data["kind"] == "started":
        after["active"] = True
    for key in ("name", "dose", "dose_amount", "dose_unit", "schedule"):
        if key in data.get("new", {}):
            after[key] = data["new"][key]
    row = {"user_id": user_id, "medication_id": medication["medication_id"], "kind": data["kind"],
           "effective_date": data["effective_date"], "reason": data.get("reason"),
           "prescriber_id": data.get("prescriber_id"), "before": before, "after": after}
    return row, {key: value for key, value in after.items() if before[key] != value}


def save_change(db: Session, row: dict) -> dict:
    change = MedicationChange(**row)
    db.add(change)
    db.flush()
    return to_dict(change)


def changes(db: Session, user_id: str, medication_id: str | None = None) -> list[dict]:
    query = select(MedicationChange).where(MedicationChange.user_id == user_id)
    if medication_id:
        query = query.where(MedicationChange.medication_id == medication_id)
    return [to_dict(r) for r in db.scalars(query.order_by(MedicationChange.effective_date.desc()))]


# --- adherence -----------------------------------------------------------------------------------

def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def adherence(db: Session, user_id: str, medications: list[dict], start: date, end: date) -> list[dict]:
    """Per medication and week (Monday first): doses due, taken, late, skipped, missed (no
    log at all), the share taken (on time or late), and doses off prescription."""
    zone, now = timezone_of(db, user_id), utcnow()
    logs = defaultdict(list)
    for log in db.scalars(select(DoseLog).where(DoseLog.user_id == user_id)):
        logs[log.medication_id].append(log)
    report = []
    for medication in medications:
        history = changes_of(db, medication["medication_id"])
        added = datetime.fromisoformat(medication["created_at"]).date()
        by_time = {log.scheduled_for: log for log in logs[medication["medication_id"]]
                   if log.scheduled_for is not None}
        weeks: dict[date, dict] = {}
        day = start
        while day <= end:
            prescribed = prescribed_on(medication, history, day)
            row = weeks.setdefault(week_of(day), {
                "medication_id": medication["medication_id"], "name": medication["name"],
                "week_start": week_of(day).isoformat(), "scheduled": 0, "taken": 0, "late": 0,
                "skipped": 0, "missed": 0, "off_prescription": 0})
            if prescribed.get("active", True):
                for due in schedules.due_times(prescribed["schedule"], day, day, zone, added):
                    if due > now:
                        continue
                    row["scheduled"] += 1
                    log = by_time.get(due)
                    row[log.status if log else "missed"] += 1
                    row["off_prescription"] += bool(log and log.off_prescription)
            day += timedelta(days=1)
        for row in weeks.values():
            done = row["taken"] + row["late"]
            row["percentage"] = round(100 * done / row["scheduled"], 1) if row["scheduled"] else None
            report.append(row)
    return report


# --- missed doses ---------------------------------------------------------------------------------

def claim_missed(db: Session, now: datetime, grace: timedelta, lookback: timedelta) -> list[dict]:
    """Scheduled doses of every active prescription due between ``now - lookback`` and
    ``now - grace`` with no log: each claimed once (whichever process inserts the claim
    first publishes it), returned as the events' data."""
    found = []
    logged = set(db.execute(select(DoseLog.medication_id, DoseLog.scheduled_for).where(
        DoseLog.scheduled_for >= now - lookback)).all())
    for prescription in db.scalars(select(Prescription).where(Prescription.active)):
        zone = timezone_of(db, prescription.user_id)
        window = [due for due in schedules.due_times(
            prescription.schedule, (now - lookback).astimezone(zone).date(), now.astimezone(zone).date(),
            zone, prescription.added_on) if now - lookback <= due <= now - grace]
        for due in window:
            if (prescription.medication_id, due) in logged:
                continue
            claimed = db.execute(insert(MissedDose).values(
                medication_id=prescription.medication_id, scheduled_for=due,
                user_id=prescription.user_id).on_conflict_do_nothing().returning(
                MissedDose.medication_id)).scalar()
            if claimed:
                found.append({"user_id": prescription.user_id,
                              "medication_id": prescription.medication_id,
                              "scheduled_for": due.isoformat(),
                              "minutes_late": int((now - due).total_seconds() // 60)})
    return found


def missed_in(db: Session, user_id: str) -> list[dict]:
    """Doses noticed missing, newest first; ``logged_since``: the user logged it late."""
    logged = select(DoseLog.dose_id).where(DoseLog.medication_id == MissedDose.medication_id,
                                           DoseLog.scheduled_for == MissedDose.scheduled_for).exists()
    rows = db.execute(select(MissedDose, logged.label("logged_since"))
                      .where(MissedDose.user_id == user_id)
                      .order_by(MissedDose.scheduled_for.desc()).limit(500))
    return [{"medication_id": r.MissedDose.medication_id,
             "scheduled_for": r.MissedDose.scheduled_for.isoformat(),
             "detected_at": r.MissedDose.detected_at.isoformat(),
             "logged_since": r.logged_since} for r in rows]


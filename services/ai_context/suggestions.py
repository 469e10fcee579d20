"""The proactive suggestion after a logged shift, and the copies of other services'
facts it needs (medication names, skills that helped), kept from their events so a
burst of shifts costs no calls to those services."""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.ai_context import replies
from services.ai_context.models import MedicationName, SkillHistory, Suggestion
from services.kit.contracts.dbt import HELPED, USED
from services.kit.records import to_dict, utcnow

SHOWN = ("state", "level", "skill_id", "skill", "text", "as_of", "created_at")


@functools.cache
def _replace_older():
    """One statement for a batch of users (executemany), built and compiled once: a
    multi-row VALUES was compiled again for every batch, most of this handler's CPU."""
    table = Suggestion.__table__
    inserted = insert(table)
    return (inserted.on_conflict_do_update(
        index_elements=[table.c.user_id],
        set_={column.name: inserted.excluded[column.name] for column in table.c
              if not column.primary_key},  # a newer suggestion replaces the whole row
        where=table.c.as_of < inserted.excluded.as_of)
        .returning(table.c.user_id))


def medications_of(db: Session, user_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for user_id, name in db.execute(select(MedicationName.user_id, MedicationName.name).where(
            MedicationName.user_id.in_(user_ids), MedicationName.active)):
        found[user_id].append(name)
    return found


def helped_of(db: Session, user_ids: list[str]) -> dict[str, dict[str, int]]:
    """user -> skill -> days it helped (best first), for the skills that ever helped."""
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for row in db.scalars(select(SkillHistory).where(SkillHistory.user_id.in_(user_ids),
                                                     SkillHistory.helped_days > 0)
                          .order_by(SkillHistory.helped_days.desc(), SkillHistory.skill_id)):
        found[row.user_id][row.skill_id] = row.helped_days
    return found


def prepare(db: Session, shifts: list[dict], fitting) -> list[str]:
    """For each user's newest shift of the batch: the skill that fits (``fitting(state,
    medications, prefer)``), as the suggestion, unless a newer one is held. Returns the
    users whose suggestion changed."""
    newest: dict[str, dict] = {}
    for shift in shifts:
        held = newest.get(shift["user_id"])
        if held is None or shift["occurred_at"] > held["occurred_at"]:
            newest[shift["user_id"]] = shift
    users = list(newest)
    medications, helped = medications_of(db, users), helped_of(db, users)
    rows = []
    for user_id, shift in newest.items():
        state, level = shift.get("current_state"), shift["current_level"]
        skill = fitting(state, level, medications.get(user_id, []), list(helped.get(user_id, {})))
        rows.append({"user_id": user_id, "shift_id": shift["shift_id"],
                     "as_of": datetime.fromisoformat(shift["occurred_at"]), "state": state,
                     "level": level, "skill_id": skill["skill_id"] if skill else None,
                     "skill": brief(skill), "text": replies.suggestion(state, level, skill),
                     "shown_at": None, "created_at": utcnow()})
    # A suggestion is replaced only by one for a newer shift.
    return list(db.scalars(_replace_older(), rows))


def brief(skill: dict | None) -> dict | None:
    if skill is None:
        return None
    return {key: skill[key] for key in ("skill_id", "name", "module", "minutes", "summary", "steps")}


def latest(db: Session, user_id: str) -> tuple[dict | None, bool]:
    """The latest suggestion, and whether this is the first time it is shown."""
    row = db.scalars(select(Suggestion).where(Suggestion.user_id == user_id).with_for_update()).first()
    if row is None:
        return None, False
    first = row.shown_at is None
    if first:
        row.shown_at = utcnow()
    return to_dict(row, SHOWN), first


# --- copies of other services' facts ------------------------------------------------------

def save_medication(db: Session, data: dict) -> None:
    values = {"user_id": data["user_id"], "name": data["name"], "active": data["active"]}
    db.execute(insert(MedicationName).values(medication_id=data["medication_id"], **values)
               .on_conflict_do_update(index_elements=["medication_id"], set_=values))


def forget_medication(db: Session, medication_id: str) -> None:
    db.execute(delete(MedicationName).where(MedicationName.medication_id == medication_id))


def record_card(db: Session, data: dict) -> None:
    """A saved diary card: each rated skill's rating for that day (a later save of the
    same day replaces it)."""
    day = data["local_date"]
    for used in data.get("skills") or []:
        row = db.get(SkillHistory, (data["user_id"], used["skill_id"]), with_for_update=True)
        if row is None:
            row = SkillHistory(user_id=data["user_id"], skill_id=used["skill_id"], days={})
            db.add(row)
        row.days = {**row.days, day: used["rating"]}
        row.helped_days = sum(1 for rating in row.days.values() if rating in HELPED)
        row.used_days = sum(1 for rating in row.days.values() if rating in USED)
    db.flush()

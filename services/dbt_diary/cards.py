"""Diary cards: saving (each rating keeps its peak of the day), reading, the weekly
grid therapists read, and how often each skill helped.

A card is stored flat: each item has a path (``urges.suicide.rating``,
``targets.binge eating.acted``, ``emotions.shame``, ``misery.physical``,
``belief_in_control.thoughts``, ``medication_as_prescribed``) with its value
and the time that value was set. Merging two saves is then one rule per path.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.dbt_diary.models import DailyEntry, SkillUsed
from services.kit.contracts.dbt import BELIEFS, DID_NOT_HELP, EMOTIONS, HELPED, MISERY, URGES, USED
from services.kit.errors import NotFound, Unprocessable
from services.kit.profiles import local_today, timezone_of
from services.kit.records import utcnow

FIRST_DAY = date(2000, 1, 1)
MEDICATION = "medication_as_prescribed"


# --- one path per item ------------------------------------------------------------

def flatten(body: dict) -> dict[str, object]:
    """The request's nested card as ``path -> value`` (skills and the note apart)."""
    items: dict[str, object] = {}
    for urge, rating in (body.get("urges") or {}).items():
        for field, value in rating.items():
            items[f"urges.{urge}.{field}"] = value
    for target in body.get("targets") or []:
        for field in ("rating", "acted"):
            if field in target:
                items[f"targets.{target['name'].lower()}.{field}"] = target[field]
    for section in ("emotions", "misery", "belief_in_control"):
        for name, value in (body.get(section) or {}).items():
            items[f"{section}.{name}"] = value
    for emotion in body.get("own_emotions") or []:
        items[f"own_emotions.{emotion['name'].lower()}"] = emotion["rating"]
    if MEDICATION in body:
        items[MEDICATION] = body[MEDICATION]
    return items


def peak(path: str, old, new):
    """What a day keeps when an item is saved twice: the peak of a rating; "acted on
    it" once acted; medication not as prescribed once it was not."""
    if old is None:
        return new
    if path == MEDICATION:
        return old and new
    return max(old, new)


def merge(ratings: dict, set_at: dict, items: dict, now: str) -> tuple[dict, dict]:
    ratings, set_at = dict(ratings), dict(set_at)
    for path, value in items.items():
        kept = peak(path, ratings.get(path), value)
        if path not in ratings or kept != ratings[path]:
            ratings[path] = kept
            set_at[path] = now
    return ratings, set_at


def nest(entry: DailyEntry, skills: list[SkillUsed]) -> dict:
    """The stored card as the API shows it."""
    ratings = entry.ratings
    card: dict = {"date": entry.day.isoformat(), "urges": {}, "targets": [], "emotions": {},
                  "own_emotions": [], "misery": {}, "belief_in_control": {},
                  MEDICATION: ratings.get(MEDICATION), "note": entry.note}
    targets: dict[str, dict] = {}
    for path, value in sorted(ratings.items()):
        section, _, rest = path.partition(".")
        if section == "urges":
            urge, field = rest.rsplit(".", 1)
            card["urges"].setdefault(urge, {})[field] = value
        elif section == "targets":
            name, field = rest.rsplit(".", 1)
            targets.setdefault(name, {"name": name})[field] = value
        elif section == "own_emotions":
            card["own_emotions"].append({"name": rest, "rating": value})
        elif section in ("emotions", "misery", "belief_in_control"):
            card[section][rest] = value
    card["targets"] = list(targets.values())
    card["skills"] = [{"skill_id": s.skill_id, "rating": s.rating, "helped": helped(s.rating)}
                      for s in sorted(skills, key=lambda s: s.skill_id)]
    card["set_at"] = {**entry.set_at, **{f"skills.{s.skill_id}": s.set_at.isoformat() for s in skills}}
    card["created_at"] = entry.created_at.isoformat()
    card["updated_at"] = entry.updated_at.isoformat()
    return card


def helped(rating: int) -> bool | None:
    """Yes (5, 7), no (3, 4, 6), or not used at all (0-2)."""
    return True if rating in HELPED else False if rating in DID_NOT_HELP else None


# --- writing ------------------------------------------------------------------------

def check_day(db: Session, user_id: str, day: date) -> None:
    if day > local_today(db, user_id):
        raise Unprocessable(fields={"date": ["Cannot be after today (in your time zone)."]})
    if day < FIRST_DAY:
        raise Unprocessable(fields={"date": [f"Must be {FIRST_DAY} or later."]})


def save(db: Session, user_id: str, day: date, body: dict) -> tuple[dict, dict]:
    """Create or update the day's card; return it and the facts pattern analysis needs."""
    check_day(db, user_id, day)
    db.execute(insert(DailyEntry).values(user_id=user_id, day=day)
               .on_conflict_do_nothing(constraint="one_card_per_day"))
    entry = db.scalars(select(DailyEntry).where(DailyEntry.user_id == user_id,
                                                DailyEntry.day == day).with_for_update()).one()
    now = utcnow()
    entry.ratings, entry.set_at = merge(entry.ratings, entry.set_at, flatten(body), now.isoformat())
    if "note" in body:
        entry.note = body["note"]
        entry.set_at = {**entry.set_at, "note": now.isoformat()}
    for skill in body.get("skills") or []:
        statement = insert(SkillUsed).values(entry_id=entry.entry_id, skill_id=skill["skill_id"],
                                             user_id=user_id, day=day, rating=skill["rating"],
                                             set_at=now)
        db.execute(statement.on_conflict_do_update(
            index_elements=[SkillUsed.entry_id, SkillUsed.skill_id],
            set_={"rating": statement.excluded.rating, "set_at": statement.excluded.set_at},
            where=SkillUsed.rating < statement.excluded.rating))
    db.flush()
    db.refresh(entry)
    return nest(entry, skills_of(db, entry)), facts(db, entry)


def facts(db: Session, entry: DailyEntry) -> dict:
    """What other services need of a saved card: no free text; the crisis items for
    pattern analysis, the skills' ratings for session memory."""
    zone = timezone_of(db, entry.user_id)
    end_of_day = datetime.combine(entry.day + timedelta(days=1), time(), zone)
    return {
        "user_id": entry.user_id, "entry_id": entry.entry_id, "local_date": entry.day.isoformat(),
        # When what the card says happened: now, for today's card; the end of its day otherwise.
        "occurred_at": min(utcnow(), end_of_day.astimezone(timezone.utc)).isoformat(),
        "suicide_urge": entry.ratings.get("urges.suicide.rating", 0),
        "self_harm_acted": bool(entry.ratings.get("urges.self_harm.acted", False)),
        # For session memory: which skills the day's card rates, and how (0-7).
        "skills": [{"skill_id": s.skill_id, "rating": s.rating} for s in skills_of(db, entry)],
    }


def remove(db: Session, user_id: str, day: date) -> None:
    if db.execute(delete(DailyEntry).where(DailyEntry.user_id == user_id,
                                           DailyEntry.day == day)).rowcount == 0:
        raise NotFound("card not found")


# --- reading --------------------------------------------------------------------------

def skills_of(db: Session, entry: DailyEntry) -> list[SkillUsed]:
    return list(db.scalars(select(SkillUsed).where(SkillUsed.entry_id == entry.entry_id)))


def entries(db: Session, user_id: str, start: date, end: date) -> list[DailyEntry]:
    return list(db.scalars(select(DailyEntry).where(
        DailyEntry.user_id == user_id, DailyEntry.day >= start, DailyEntry.day <= end)
        .order_by(DailyEntry.day)))


def skills_by_entry(db: Session, user_id: str, start: date, end: date) -> dict[str, list]:
    found: dict[str, list] = {}
    for skill in db.scalars(select(SkillUsed).where(
            SkillUsed.user_id == user_id, SkillUsed.day >= start, SkillUsed.day <= end)):
        found.setdefault(skill.entry_id, []).append(skill)
    return found


def card(db: Session, user_id: str, day: date) -> dict:
    entry = db.scalars(select(DailyEntry).where(DailyEntry.user_id == user_id,
                                                DailyEntry.day == day)).first()
    if entry is None:
        raise NotFound("card not found")
    return nest(entry, skills_of(db, entry))


def cards(db: Session, user_id: str, start: date, end: date) -> list[dict]:
    skills = skills_by_entry(db, user_id, start, end)
    return [nest(entry, skills.get(entry.entry_id, [])) for entry in entries(db, user_id, start, end)]


ROW_ORDER = (
    *(f"urges.{urge}.{field}" for urge in URGES for field in ("rating", "acted")),
    "targets.", *(f"emotions.{emotion}" for emotion in EMOTIONS), "own_emotions.",
    *(f"misery.{name}" for name in MISERY), MEDICATION,
    *(f"belief_in_control.{name}" for name in BELIEFS), "skills.",
)


def _row_rank(path: str) -> tuple[int, str]:
    for index, prefix in enumerate(ROW_ORDER):
        if path == prefix or (prefix.endswith(".") and path.startswith(prefix)):
            return index, path
    return len(ROW_ORDER), path


def week(db: Session, user_id: str, start: date) -> dict:
    """The weekly card: one row per item that has a value on any of the seven days,
    one column per day (None where the day has no value)."""
    days = [start + timedelta(days=offset) for offset in range(7)]
    skills = skills_by_entry(db, user_id, days[0], days[-1])
    by_day: dict[date, dict] = {}
    for entry in entries(db, user_id, days[0], days[-1]):
        values = dict(entry.ratings)
        values.update({f"skills.{s.skill_id}": s.rating for s in skills.get(entry.entry_id, [])})
        by_day[entry.day] = values
    paths = sorted({path for values in by_day.values() for path in values}, key=_row_rank)
    return {
        "start": start.isoformat(), "days": [day.isoformat() for day in days],
        "rows": [{"item": path, "values": [by_day.get(day, {}).get(path) for day in days]}
                 for path in paths],
    }


def effectiveness(db: Session, user_id: str, start: date, end: date) -> list[dict]:
    ratings = db.execute(select(SkillUsed.skill_id, SkillUsed.rating).where(
        SkillUsed.user_id == user_id, SkillUsed.day >= start, SkillUsed.day <= end)).all()
    return tally([(skill_id, rating) for skill_id, rating in ratings])


def tally(ratings: list[tuple[str, int]]) -> list[dict]:
    """Per skill, from its day ratings: the days it was rated, used (tried or used:
    3-7), helped (5, 7) and did not help (3, 4, 6), and the share of the days used
    on which it helped. Most helpful first."""
    counts: dict[str, dict] = {}
    for skill_id, rating in ratings:
        row = counts.setdefault(skill_id, {"skill_id": skill_id, "days_rated": 0, "days_used": 0,
                                           "helped": 0, "did_not_help": 0})
        row["days_rated"] += 1
        row["days_used"] += rating in USED
        row["helped"] += rating in HELPED
        row["did_not_help"] += rating in DID_NOT_HELP
    for row in counts.values():
        row["helped_share"] = round(row["helped"] / row["days_used"], 3) if row["days_used"] else None
    return sorted(counts.values(), key=lambda r: (-r["helped"], -(r["helped_share"] or 0),
                                                  -r["days_used"], r["skill_id"]))

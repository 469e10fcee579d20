"""Episodes (created by the user, or confirmed from a candidate), their crisis
interventions, and the one recorded on its own when a crisis alert goes out."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.episode_tracking import candidates as candidate_rules
from services.episode_tracking.models import CandidateDecision, CrisisIntervention, Episode
from services.kit.contracts.episodes import MOOD_EPISODES
from services.kit.errors import Conflict, NotFound, Unprocessable
from services.kit.profiles import local_today, timezone_of
from services.kit.records import OwnedRecords, get_owned, to_dict

EXCLUSION_VIOLATION = "23P01"
OVERLAP = "An episode of this kind already covers some of these days."
episodes = OwnedRecords(Episode, (Episode.start_day.desc(), Episode.created_at.desc()))
interventions = OwnedRecords(CrisisIntervention, (CrisisIntervention.happened_at.desc(),))


def _check_days(db: Session, user_id: str, start: date, end: date | None) -> None:
    today = local_today(db, user_id)
    problems = {}
    if start > today:
        problems["start_day"] = ["Cannot be after today (in your time zone)."]
    if end is not None and end > today:
        problems["end_day"] = ["Cannot be after today (in your time zone)."]
    if end is not None and end < start:
        problems["end_day"] = ["Cannot be before start_day."]
    if problems:
        raise Unprocessable(fields=problems)


def _written(db: Session, write):
    """Run a write that an overlapping episode of the same kind refuses (409)."""
    try:
        with db.begin_nested():
            return write()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise Conflict(OVERLAP, {"start_day": [OVERLAP]}) from None
        raise


def create(db: Session, user_id: str, data: dict, origin: str = "user") -> dict:
    _check_days(db, user_id, data["start_day"], data.get("end_day"))

    def write():
        record = Episode(user_id=user_id, origin=origin,
                         **{k: data[k] for k in episodes.editable if k in data})
        db.add(record)
        db.flush()
        return to_dict(record)

    return _written(db, write)


def update(db: Session, user_id: str, episode_id: str, changes: dict) -> dict:
    record = get_owned(db, Episode, user_id, episode_id, for_update=True)
    _check_days(db, user_id, changes.get("start_day", record.start_day),
                changes.get("end_day", record.end_day))
    return _written(db, lambda: episodes.update(db, user_id, episode_id, changes))


def mood_episodes_within_a_year(db: Session, user_id: str, episode: dict) -> int:
    """Confirmed mood episodes starting in the 12 months up to this one's start."""
    start = date.fromisoformat(episode["start_day"])
    return db.scalar(select(func.count()).select_from(Episode).where(
        Episode.user_id == user_id, Episode.kind.in_(MOOD_EPISODES),
        Episode.start_day > start - timedelta(days=365), Episode.start_day <= start))


# --- candidates ------------------------------------------------------------------------

def open_candidates(db: Session, user_id: str, baselines: list[dict]) -> list[dict]:
    """Candidates the user has not answered, and that no episode of theirs covers."""
    decided = {(d.kind, d.start_day) for d in db.scalars(
        select(CandidateDecision).where(CandidateDecision.user_id == user_id))}
    mine = db.scalars(select(Episode).where(Episode.user_id == user_id)).all()
    found = []
    for candidate in candidate_rules.find(baselines):
        start, end = date.fromisoformat(candidate["start_day"]), date.fromisoformat(candidate["end_day"])
        covered = any(e.kind == candidate["kind"] and e.start_day <= end
                      and (e.end_day is None or e.end_day >= start) for e in mine)
        if not covered and (candidate["kind"], start) not in decided:
            found.append(candidate)
    return found


def decide(db: Session, user_id: str, candidate: dict, decision: str) -> dict | None:
    """Confirm (an episode is made) or dismiss a candidate; either way it is not proposed again."""
    episode = None
    start, end = date.fromisoformat(candidate["start_day"]), date.fromisoformat(candidate["end_day"])
    if decision == "confirm":
        ongoing = end >= local_today(db, user_id) - timedelta(days=1)
        episode = create(db, user_id, {
            "kind": candidate["kind"], "start_day": start, "end_day": None if ongoing else end,
            "peak_severity": candidate["peak_severity"]}, origin="candidate")
    db.execute(insert(CandidateDecision).values(
        user_id=user_id, kind=candidate["kind"], start_day=start, end_day=end,
        decision="confirmed" if episode else "dismissed",
        episode_id=episode["episode_id"] if episode else None).on_conflict_do_nothing())
    return episode


def candidate_by_id(found: list[dict], candidate_id: str) -> dict:
    for candidate in found:
        if candidate["candidate_id"] == candidate_id:
            return candidate
    raise NotFound("No such episode candidate (it may have been answered already).")


# --- interventions ---------------------------------------------------------------------

def add_intervention(db: Session, user_id: str, episode_id: str, data: dict) -> dict:
    get_owned(db, Episode, user_id, episode_id)
    return interventions.create(db, user_id, {**data, "episode_id": episode_id})


def list_interventions(db: Session, user_id: str, episode_id: str) -> list[dict]:
    get_owned(db, Episode, user_id, episode_id)
    rows = db.scalars(select(CrisisIntervention).where(
        CrisisIntervention.user_id == user_id, CrisisIntervention.episode_id == episode_id)
        .order_by(CrisisIntervention.happened_at.desc()))
    return [to_dict(row) for row in rows]


def record_alert(db: Session, crisis: dict) -> bool:
    """The intervention a crisis alert is: on the user's open episode, else on the crisis
    episode covering that day (made if there is none). Once per crisis."""
    user_id = crisis["user_id"]
    at = datetime.fromisoformat(crisis["detected_at"])
    day = at.astimezone(timezone_of(db, user_id)).date()
    episode = db.scalars(select(Episode).where(
        Episode.user_id == user_id, Episode.start_day <= day,
        or_(Episode.end_day.is_(None), Episode.kind == "crisis"),
        or_(Episode.end_day.is_(None), Episode.end_day >= day))
        .order_by(Episode.end_day.is_(None).desc(), Episode.start_day.desc()).limit(1)).first()
    if episode is None:
        episode = Episode(user_id=user_id, kind="crisis", start_day=day, end_day=day,
                          origin="crisis")
        db.add(episode)
        db.flush()
    inserted = db.execute(insert(CrisisIntervention).values(
        episode_id=episode.episode_id, user_id=user_id, kind="alert_sent", happened_at=at,
        by_whom="SanctumTools",
        outcome="A crisis was detected and alerts to your confirmed contacts were started.",
        crisis_id=crisis["crisis_id"]).on_conflict_do_nothing().returning(
        CrisisIntervention.intervention_id)).scalar()
    return inserted is not None

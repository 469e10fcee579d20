"""Questionnaire responses: scored on the way in, kept with their answers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kit.contracts.questionnaires import INSTRUMENTS, PHQ9_SELF_HARM_ITEM
from services.kit.errors import Unprocessable
from services.kit.profiles import timezone_of
from services.kit.records import to_dict
from services.specialized_trackers import scoring
from services.specialized_trackers.models import QuestionnaireResponse


def instruments() -> list[dict]:
    return [{"instrument": key, "name": spec["name"], "about": spec["about"],
             "items": list(spec["items"]), "min": spec["min"], "max": spec["max"],
             "scale": spec["scale"], "items_that_may_be_left_out": spec["may_miss"],
             "bands": [{"from": cut, "band": name} for cut, name in spec["bands"]]}
            for key, spec in INSTRUMENTS.items()]


def submit(db: Session, user_id: str, instrument: str, answers: list) -> tuple[dict, dict]:
    """Store a scored response; return it and the facts pattern analysis needs."""
    spec = INSTRUMENTS[instrument]
    if len(answers) != len(spec["items"]):
        raise Unprocessable(fields={"answers": [f"{spec['name']} has {len(spec['items'])} items."]})
    if any(a is not None and not spec["min"] <= a <= spec["max"] for a in answers):
        raise Unprocessable(fields={"answers": [
            f"{spec['name']} answers are {spec['min']} to {spec['max']}."]})
    result = scoring.score(instrument, answers)
    row = QuestionnaireResponse(user_id=user_id, instrument=instrument, answers=answers, **result)
    db.add(row)
    db.flush()
    response = to_dict(row)
    local = row.completed_at.astimezone(timezone_of(db, user_id))
    facts = {"user_id": user_id, "response_id": row.response_id, "instrument": instrument,
             "occurred_at": row.completed_at.isoformat(), "local_date": local.date().isoformat(),
             "self_harm_thoughts": answers[PHQ9_SELF_HARM_ITEM - 1] if instrument == "phq9" else None}
    return response, facts


def history(db: Session, user_id: str, instrument: str, start: date, end: date) -> list[dict]:
    zone = timezone_of(db, user_id)
    rows = db.scalars(select(QuestionnaireResponse).where(
        QuestionnaireResponse.user_id == user_id, QuestionnaireResponse.instrument == instrument,
        QuestionnaireResponse.completed_at >= datetime.combine(start, time(), zone),
        QuestionnaireResponse.completed_at < datetime.combine(end + timedelta(days=1), time(), zone))
        .order_by(QuestionnaireResponse.completed_at.desc()))
    return [to_dict(row) for row in rows]

"""The safety plan (Stanley-Brown): six ordered steps, versioned: saving a plan
adds a version, and every earlier one stays readable.

Steps: 1 warning signs; 2 internal coping (may name skills of the library);
3 people and places that distract; 4 people to ask for help (may name the
user's emergency contacts); 5 professionals and crisis lines (the crisis line of
the user's country is added when the plan is read); 6 making the environment safe.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.episode_tracking.models import SafetyPlan
from services.kit.errors import NotFound
from services.kit.records import to_dict


def referenced(steps: dict) -> tuple[list[str], list[str]]:
    """The skill ids and contact ids a plan names."""
    skills = [item["skill_id"] for item in steps.get("internal_coping", []) if item.get("skill_id")]
    contacts = [item["contact_id"] for item in steps.get("people_to_ask", [])
                if item.get("contact_id")]
    return skills, contacts


def save(db: Session, user_id: str, steps: dict) -> dict:
    # One version after another, even for two saves at once: the unique key decides.
    db.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(
        "safety_plan:" + user_id, 0))))
    latest = db.scalar(select(func.max(SafetyPlan.version)).where(SafetyPlan.user_id == user_id))
    plan = SafetyPlan(user_id=user_id, version=(latest or 0) + 1, steps=steps)
    db.add(plan)
    db.flush()
    return to_dict(plan)


def latest(db: Session, user_id: str) -> dict:
    plan = db.scalars(select(SafetyPlan).where(SafetyPlan.user_id == user_id)
                      .order_by(SafetyPlan.version.desc()).limit(1)).first()
    if plan is None:
        raise NotFound("You have no safety plan yet.")
    return to_dict(plan)


def version(db: Session, user_id: str, number: int) -> dict:
    plan = db.scalars(select(SafetyPlan).where(SafetyPlan.user_id == user_id,
                                               SafetyPlan.version == number)).first()
    if plan is None:
        raise NotFound("No such version of your safety plan.")
    return to_dict(plan)


def versions(db: Session, user_id: str) -> list[dict]:
    return [{"version": number, "created_at": created.isoformat()} for number, created in
            db.execute(select(SafetyPlan.version, SafetyPlan.created_at)
                       .where(SafetyPlan.user_id == user_id).order_by(SafetyPlan.version.desc()))]

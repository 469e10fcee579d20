"""A user's notification choices, with the deployment's defaults where they made none."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kit.records import apply_changes, editable_fields, to_dict
from services.notifications.channels import settings
from services.notifications.models import Preferences

FIELDS = editable_fields(Preferences)


def defaults() -> dict:
    options = settings()
    return {name: None for name in FIELDS} | {
        "prompt_minutes": options.default_prompt_minutes,
        "contact_minutes": options.default_contact_minutes, "skip_prompt_for": []}


def _shown(row: Preferences) -> dict:
    shown = to_dict(row, FIELDS)
    for name in ("quiet_start", "quiet_end"):
        shown[name] = getattr(row, name).strftime("%H:%M") if getattr(row, name) else None
    return shown


def of(db: Session, user_id: str) -> dict:
    row = db.get(Preferences, user_id)
    return _shown(row) if row is not None else defaults()


def update(db: Session, user_id: str, changes: dict) -> tuple[dict, set[str]]:
    """Save the changes; return the preferences and which fields changed."""
    row = db.scalars(select(Preferences).where(Preferences.user_id == user_id).with_for_update()).first()
    if row is None:
        row = Preferences(user_id=user_id, **defaults())
        db.add(row)
    changes = {name: time.fromisoformat(value) if name.startswith("quiet_") and value else value
               for name, value in changes.items()}
    changed = apply_changes(row, changes, FIELDS)
    db.flush()
    return _shown(row), changed

"""The user's assistant settings and what they want it to know."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.ai_context.models import AiConfiguration, FrameworkEnabled, KnowledgeEntry
from services.kit.contracts.assistant import FRAMEWORKS
from services.kit.errors import Conflict, Unprocessable
from services.kit.records import OwnedRecords

MAX_KNOWLEDGE = 100
DEFAULTS = {"enabled": True, "tone": "warm", "provider": "builtin", "shared": [],
            "frameworks": list(FRAMEWORKS)}

knowledge = OwnedRecords(KnowledgeEntry, (KnowledgeEntry.created_at,))


def settings_of(db: Session, user_id: str) -> dict:
    row = db.get(AiConfiguration, user_id)
    if row is None:
        return dict(DEFAULTS)
    frameworks = db.scalars(select(FrameworkEnabled.framework)
                            .where(FrameworkEnabled.user_id == user_id)
                            .order_by(FrameworkEnabled.framework)).all()
    return {"enabled": row.enabled, "tone": row.tone, "provider": row.provider,
            "shared": sorted(row.shared), "frameworks": list(frameworks)}


def save_settings(db: Session, user_id: str, body: dict, external_offered: bool) -> dict:
    """Replace the settings (PUT). An external model needs one configured here."""
    if body["provider"] == "external" and not external_offered:
        raise Unprocessable(fields={"provider": ["No external model is configured on this server."]})
    values = {"enabled": body["enabled"], "tone": body["tone"], "provider": body["provider"],
              "shared": sorted(set(body["shared"]))}
    db.execute(insert(AiConfiguration).values(user_id=user_id, **values).on_conflict_do_update(
        index_elements=["user_id"], set_={**values, "updated_at": func.now()}))
    db.execute(delete(FrameworkEnabled).where(FrameworkEnabled.user_id == user_id))
    for framework in sorted(set(body["frameworks"])):
        db.add(FrameworkEnabled(user_id=user_id, framework=framework))
    db.flush()
    return settings_of(db, user_id)


def add_knowledge(db: Session, user_id: str, data: dict) -> dict:
    count = db.scalar(select(func.count()).select_from(KnowledgeEntry)
                      .where(KnowledgeEntry.user_id == user_id))
    if count >= MAX_KNOWLEDGE:
        raise Conflict(f"At most {MAX_KNOWLEDGE} entries.")
    return knowledge.create(db, user_id, data)

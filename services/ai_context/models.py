"""Tables of the ai_context schema: the user's assistant settings, what they want it
to know, the frameworks they enabled, the proactive suggestion, and the copies of
other services' facts the suggestion needs (medication names, skills that helped)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, Integer, SmallInteger, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import MANAGED, one_of, timestamp, user_ref, uuid_pk
from services.kit.contracts.assistant import (
    FRAMEWORKS,
    KNOWLEDGE_KINDS,
    PROVIDERS,
    SHARE_KINDS,
    TONES,
)
from services.kit.db import declarative_base
from services.kit.profiles import user_settings_table

SCHEMA = "ai_context"

Base = declarative_base(SCHEMA)


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)




class AiConfiguration(Base):
    """One user's assistant: on or off, its tone, its provider, and which kinds of
    data may go to an external model (``shared``: none until chosen)."""

    __tablename__ = "ai_configurations"

    user_id: Mapped[str] = user_ref(primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    tone: Mapped[str] = mapped_column(Text, nullable=False, server_default="warm")
    provider: Mapped[str] = mapped_column(Text, nullable=False, server_default="builtin")
    shared: Mapped[list] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (
        CheckConstraint(one_of("tone", TONES), name="assistant_tone"),
        CheckConstraint(one_of("provider", PROVIDERS), name="assistant_provider"),
        CheckConstraint(f"shared <@ ARRAY[{_listed(SHARE_KINDS)}]::text[]", name="assistant_shared_kinds"),
    )


class FrameworkEnabled(Base):
    __tablename__ = "therapeutic_frameworks_enabled"

    user_id: Mapped[str] = user_ref(primary_key=True)
    framework: Mapped[str] = mapped_column(Text, primary_key=True)
    enabled_at: Mapped[datetime] = timestamp()

    __table_args__ = (CheckConstraint(one_of("framework", FRAMEWORKS), name="assistant_framework"),)


class KnowledgeEntry(Base):
    """Something the user wants the assistant to know: a warning sign, what helps,
    a person they trust."""

    __tablename__ = "ai_knowledge_database"

    entry_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref(index=True)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (CheckConstraint(one_of("kind", KNOWLEDGE_KINDS), name="knowledge_kind"),)


class Suggestion(Base):
    """The latest proactive suggestion, prepared after a logged shift."""

    __tablename__ = "suggestions"

    user_id: Mapped[str] = user_ref(primary_key=True)
    shift_id: Mapped[str] = mapped_column(UUID(as_uuid=False), nullable=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    state: Mapped[str | None] = mapped_column(Text)
    level: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    skill_id: Mapped[str | None] = mapped_column(Text)
    skill: Mapped[dict | None] = mapped_column(JSONB)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    shown_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)
    created_at: Mapped[datetime] = timestamp(on_update=True)


class MedicationName(Base):
    """The user's medication names (from user management's events), for cautions."""

    __tablename__ = "medication_names"

    medication_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    user_id: Mapped[str] = user_ref(index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)


class SkillHistory(Base):
    """Per user and skill: the diary days it was used and the days it helped
    (from dbt_diary's events; one row per card and skill in ``days``)."""

    __tablename__ = "skill_history"

    user_id: Mapped[str] = user_ref(primary_key=True)
    skill_id: Mapped[str] = mapped_column(Text, primary_key=True)
    days: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    helped_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    used_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class CrisisOffer(Base):
    """The assistant offered to alert the user's contacts in this conversation."""

    __tablename__ = "crisis_offers"

    session_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    user_id: Mapped[str] = user_ref()
    offered_at: Mapped[datetime] = timestamp()
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    crisis_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))


class ScreenMark(Base):
    """What the safety screen found in a user turn: cue names only, never the text,
    so the screen reads the conversation even when no turns are kept."""

    __tablename__ = "screen_marks"

    mark_id: Mapped[str] = uuid_pk()
    session_id: Mapped[str] = mapped_column(UUID(as_uuid=False), nullable=False)
    user_id: Mapped[str] = user_ref()
    cues: Mapped[list] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = timestamp()

    __table_args__ = (Index("screen_marks_session", "session_id", "created_at"),)


UserSettings = user_settings_table(Base.metadata)

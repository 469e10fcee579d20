"""Tables of the sessions schema: each user's current state (session memory), their
conversations with the assistant and the turns kept of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, SmallInteger, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import MANAGED, PRIVATE, timestamp, user_ref, uuid_pk
from services.kit.contracts.assistant import CHANNELS, LOG_RETENTION_DAYS, ROLES
from services.kit.db import declarative_base
from services.kit.profiles import user_settings_table

SCHEMA = "sessions"

Base = declarative_base(SCHEMA)


class SessionMemory(Base):
    """One current state per user. ``facets`` maps each facet (mood, crisis, flags,
    episode, diary, doses, skill) to its value with ``as_of``, the time of the fact it
    came from: an older fact arriving late never replaces a newer one."""

    __tablename__ = "session_memory"

    user_id: Mapped[str] = user_ref(primary_key=True)
    facets: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    updated_at: Mapped[datetime] = timestamp(on_update=True)


class Session(Base):
    """A conversation with the assistant; it ends after a stretch of inactivity."""

    __tablename__ = "sessions"

    session_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
    channel: Mapped[str] = mapped_column(Text, nullable=False, server_default="app")
    started_at: Mapped[datetime] = timestamp()
    last_activity_at: Mapped[datetime] = timestamp()
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)
    # When the reply last said it comes from software (the start, then every few hours).
    disclosed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=PRIVATE)

    __table_args__ = (
        CheckConstraint(f"channel IN {CHANNELS!r}", name="session_channel"),
        Index("sessions_user_started", "user_id", "started_at"),
        Index("sessions_open", "last_activity_at", postgresql_where="ended_at IS NULL"),
    )


class SessionLog(Base):
    """A turn of a conversation, kept until ``expires_at`` (the user's retention)."""

    __tablename__ = "session_logs"

    log_id: Mapped[str] = uuid_pk()
    session_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey(f"{SCHEMA}.sessions.session_id", ondelete="CASCADE"),
        nullable=False)
    user_id: Mapped[str] = user_ref()
    role: Mapped[str] = mapped_column(Text, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    skill_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, info=PRIVATE)

    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="session_log_role"),
        Index("session_logs_session", "session_id", "created_at"),
        Index("session_logs_expiry", "expires_at"),
    )


class SessionSettings(Base):
    __tablename__ = "session_settings"

    user_id: Mapped[str] = user_ref(primary_key=True)
    log_retention_days: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="30")
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (CheckConstraint(
        f"log_retention_days BETWEEN {LOG_RETENTION_DAYS[0]} AND {LOG_RETENTION_DAYS[1]}",
        name="log_retention_range"),)


# What this service knows of the profile: the time zone (services/kit/profiles.py).
UserSettings = user_settings_table(Base.metadata)

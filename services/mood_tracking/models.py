"""Tables of the mood_tracking schema."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.db import declarative_base

SCHEMA = "mood_tracking"
USERS_FK = "user_management.users.user_id"


Base = declarative_base(SCHEMA)


def _user() -> Mapped[str]:
    return mapped_column(UUID(as_uuid=False), ForeignKey(USERS_FK, ondelete="CASCADE"), nullable=False)


class MoodShift(Base):
    """One logged shift: where the mood was, where it is now (NIMH Life Chart scale)."""

    __tablename__ = "mood_shifts"

    shift_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), primary_key=True, default=lambda: str(uuid.uuid4())
    )
    user_id: Mapped[str] = _user()
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # The user's calendar day at occurred_at, in their time zone when it was logged.
    local_date: Mapped[date] = mapped_column(Date, nullable=False)
    previous_level: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    previous_mixed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    previous_state: Mapped[str | None] = mapped_column(Text)
    current_level: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    current_mixed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    current_state: Mapped[str | None] = mapped_column(Text)
    intensity: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    triggers: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    note: Mapped[str | None] = mapped_column(Text)
    sleep_hours: Mapped[float | None] = mapped_column(Numeric(3, 1))
    # The request that logged it: a retried or redelivered request finds it again.
    request_id: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        UniqueConstraint("user_id", "request_id", name="one_shift_per_request"),
        # Time-series access is always "this user, this time range, newest first".
        Index("mood_shifts_user_time", "user_id", "occurred_at", "shift_id"),
        Index("mood_shifts_user_day", "user_id", "local_date"),
        CheckConstraint("previous_level BETWEEN -4 AND 4", name="previous_level_range"),
        CheckConstraint("current_level BETWEEN -4 AND 4", name="current_level_range"),
        CheckConstraint("intensity BETWEEN 1 AND 10", name="intensity_range"),
        CheckConstraint("sleep_hours IS NULL OR sleep_hours BETWEEN 0 AND 24", name="sleep_range"),
    )


class DailyBaseline(Base):
    """Per day, as eMoods keeps it: peaks, irritability, anxiety (0-3), sleep."""

    __tablename__ = "daily_baselines"

    user_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey(USERS_FK, ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    peak_elevation: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    peak_depression: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    irritability: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    anxiety: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    mixed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    sleep_hours: Mapped[float | None] = mapped_column(Numeric(3, 1))
    shift_count: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class RapidCyclingDay(Base):
    """A day with two or more polarity crossings: a pattern flag, never a diagnosis."""

    __tablename__ = "rapid_cycling_days"

    user_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey(USERS_FK, ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    crossings: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class UserSettings(Base):
    """What this service needs to know of the profile (from user.profile_changed events)."""

    __tablename__ = "user_settings"

    user_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey(USERS_FK, ondelete="CASCADE"), primary_key=True
    )
    timezone: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

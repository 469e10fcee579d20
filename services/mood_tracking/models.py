"""Tables of the mood_tracking schema."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import timestamp, user_ref, uuid_pk
from services.kit.db import declarative_base
from services.kit.profiles import user_settings_table

SCHEMA = "mood_tracking"


Base = declarative_base(SCHEMA)


class MoodShift(Base):
    """One logged shift: where the mood was, where it is now (NIMH Life Chart scale)."""

    __tablename__ = "mood_shifts"

    shift_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
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
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

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

    user_id: Mapped[str] = user_ref(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    peak_elevation: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    peak_depression: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    irritability: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    anxiety: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    mixed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    sleep_hours: Mapped[float | None] = mapped_column(Numeric(3, 1))
    shift_count: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    updated_at: Mapped[datetime] = timestamp()


class RapidCyclingDay(Base):
    """A day with two or more polarity crossings: a pattern flag, never a diagnosis."""

    __tablename__ = "rapid_cycling_days"

    user_id: Mapped[str] = user_ref(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    crossings: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    detected_at: Mapped[datetime] = timestamp()


# What this service knows of the profile: the time zone (services/kit/profiles.py).
UserSettings = user_settings_table(Base.metadata)

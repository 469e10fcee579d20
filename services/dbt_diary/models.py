"""Tables of the dbt_diary schema: one diary card per user and local day, and the
skills used that day with their 0-7 ratings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import timestamp, user_ref, uuid_pk
from services.kit.contracts.dbt import SKILL_RATING_MAX
from services.kit.db import declarative_base
from services.kit.profiles import user_settings_table

SCHEMA = "dbt_diary"


Base = declarative_base(SCHEMA)


class DailyEntry(Base):
    """A day's card. ``ratings`` maps each item (``urges.suicide.rating``,
    ``emotions.shame``, ``misery.physical``...) to its peak of the day, and
    ``set_at`` each item to when that value was set."""

    __tablename__ = "dbt_daily_entries"

    entry_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
    day: Mapped[date] = mapped_column(Date, nullable=False)
    ratings: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    set_at: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (UniqueConstraint("user_id", "day", name="one_card_per_day"),)


class SkillUsed(Base):
    """A skill on a day's card, at its peak rating of the day (0-7)."""

    __tablename__ = "dbt_skills_used"

    entry_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey(f"{SCHEMA}.dbt_daily_entries.entry_id", ondelete="CASCADE"),
        primary_key=True)
    skill_id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = user_ref()
    day: Mapped[date] = mapped_column(Date, nullable=False)
    rating: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (
        CheckConstraint(f"rating BETWEEN 0 AND {SKILL_RATING_MAX}", name="skill_rating_range"),
        Index("dbt_skills_used_user_day", "user_id", "day"),
    )


# What this service knows of the profile: the time zone (services/kit/profiles.py).
UserSettings = user_settings_table(Base.metadata)

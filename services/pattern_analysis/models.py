"""Tables of the pattern_analysis schema."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    Index,
    Integer,
    SmallInteger,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import timestamp, user_ref, uuid_pk
from services.kit.contracts.crisis import (
    COOLDOWN_MINUTES,
    DEPRESSION_THRESHOLDS,
    DROP_LEVELS,
    ELEVATION_THRESHOLDS,
    RULE_DEFAULTS,
    SEVERE_LEVELS,
)
from services.kit.db import declarative_base

SCHEMA = "pattern_analysis"


Base = declarative_base(SCHEMA)


class AlertRules(Base):
    """A user's crisis rules: defaults they may tighten, never switch off."""

    __tablename__ = "alert_rules"

    user_id: Mapped[str] = user_ref(primary_key=True)
    severe_level: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, server_default=str(RULE_DEFAULTS["severe_level"]))
    drop_levels: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, server_default=str(RULE_DEFAULTS["drop_levels"]))
    depression_threshold: Mapped[int | None] = mapped_column(SmallInteger)
    elevation_threshold: Mapped[int | None] = mapped_column(SmallInteger)
    cooldown_minutes: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=str(RULE_DEFAULTS["cooldown_minutes"]))
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (
        CheckConstraint(f"severe_level IN {SEVERE_LEVELS}", name="severe_level_tightened_only"),
        CheckConstraint(f"drop_levels IN {DROP_LEVELS}", name="drop_levels_tightened_only"),
        CheckConstraint("depression_threshold BETWEEN {} AND {}".format(*DEPRESSION_THRESHOLDS),
                        name="depression_threshold_range"),
        CheckConstraint("elevation_threshold BETWEEN {} AND {}".format(*ELEVATION_THRESHOLDS),
                        name="elevation_threshold_range"),
        CheckConstraint("cooldown_minutes BETWEEN {} AND {}".format(*COOLDOWN_MINUTES),
                        name="cooldown_range"),
    )


class PatternFlag(Base):
    """One rule that fired on one record (rapid cycling: once per day)."""

    __tablename__ = "pattern_flags"

    flag_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
    rule: Mapped[str] = mapped_column(Text, nullable=False)
    # What the flag is about: a mood shift, a diary card, an episode.
    source: Mapped[str] = mapped_column(Text, nullable=False)
    record_id: Mapped[str] = mapped_column(UUID(as_uuid=False), nullable=False)
    local_date: Mapped[date] = mapped_column(Date, nullable=False)
    source_event_id: Mapped[str] = mapped_column(UUID(as_uuid=False), nullable=False)
    details: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    crisis_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    detected_at: Mapped[datetime] = timestamp()

    __table_args__ = (
        UniqueConstraint("record_id", "rule", name="one_flag_per_record_and_rule"),
        Index("pattern_flags_user_time", "user_id", "detected_at"),
    )


class PatternAnalysis(Base):
    """A record that an event (a shift, a card, an episode) was analysed, and what came of it."""

    __tablename__ = "pattern_analyses"

    analysis_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref(index=True)
    source_event_id: Mapped[str] = mapped_column(UUID(as_uuid=False), nullable=False, unique=True)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    record_id: Mapped[str] = mapped_column(UUID(as_uuid=False), nullable=False)
    rules_fired: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    crisis_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    analyzed_at: Mapped[datetime] = timestamp()

"""Tables of the episode_tracking schema: episodes, the crisis interventions of
each, the user's decisions on episode candidates, and the safety plan's versions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import MANAGED, timestamp, user_ref, uuid_pk
from services.kit.contracts.episodes import INTERVENTIONS, KINDS
from services.kit.db import declarative_base
from services.kit.profiles import user_settings_table

SCHEMA = "episode_tracking"


Base = declarative_base(SCHEMA)


class Episode(Base):
    __tablename__ = "episodes"
    __label__ = "episode"

    episode_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    start_day: Mapped[date] = mapped_column(Date, nullable=False)
    end_day: Mapped[date | None] = mapped_column(Date)  # open while ongoing
    # Life Chart severity at its worst: 1 mild .. 4 severe (hospitalised counts as severe).
    peak_severity: Mapped[int | None] = mapped_column(SmallInteger)
    hospitalised: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    psychotic_features: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                                     server_default="false")
    notes: Mapped[str | None] = mapped_column(Text)
    # Who made it: the user, a candidate the user confirmed, or a crisis alert.
    origin: Mapped[str] = mapped_column(Text, nullable=False, server_default="user", info=MANAGED)
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS}", name="episode_kind"),
        CheckConstraint("end_day IS NULL OR end_day >= start_day", name="episode_ends_after_start"),
        CheckConstraint("peak_severity BETWEEN 1 AND 4", name="episode_severity"),
        CheckConstraint("origin IN ('user', 'candidate', 'crisis')", name="episode_origin"),
        # Two episodes of one kind never overlap (a concurrent pair included).
        ExcludeConstraint(("user_id", "="), ("kind", "="),
                          (text("daterange(start_day, end_day, '[]')"), "&&"),
                          name="no_overlapping_episodes", using="gist"),
        Index("episodes_user_start", "user_id", "start_day"),
    )


class CrisisIntervention(Base):
    __tablename__ = "crisis_interventions"
    __label__ = "intervention"

    intervention_id: Mapped[str] = uuid_pk()
    episode_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey(f"{SCHEMA}.episodes.episode_id", ondelete="CASCADE"),
        nullable=False, index=True)
    user_id: Mapped[str] = user_ref()
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    happened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    by_whom: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    # Set for the one recorded automatically when a crisis alert goes out: once per crisis.
    crisis_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), unique=True, info=MANAGED)
    created_at: Mapped[datetime] = timestamp()

    __table_args__ = (CheckConstraint(f"kind IN {INTERVENTIONS}", name="intervention_kind"),)


class CandidateDecision(Base):
    """The user's answer to an episode candidate, so it is not proposed again."""

    __tablename__ = "episode_candidate_decisions"

    user_id: Mapped[str] = user_ref(primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    start_day: Mapped[date] = mapped_column(Date, primary_key=True)
    end_day: Mapped[date] = mapped_column(Date, nullable=False)
    decision: Mapped[str] = mapped_column(Text, nullable=False)
    episode_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    decided_at: Mapped[datetime] = timestamp()

    __table_args__ = (CheckConstraint("decision IN ('confirmed', 'dismissed')",
                                      name="candidate_decision"),)


class SafetyPlan(Base):
    """One version of a user's safety plan (Stanley-Brown); a change adds a version."""

    __tablename__ = "safety_plans"

    plan_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    steps: Mapped[dict] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = timestamp()

    __table_args__ = (UniqueConstraint("user_id", "version", name="one_plan_per_version"),)


# What this service knows of the profile: the time zone (services/kit/profiles.py).
UserSettings = user_settings_table(Base.metadata)

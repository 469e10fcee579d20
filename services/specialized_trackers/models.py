"""Tables of the specialized_trackers schema: BPD abandonment episodes and
emotional intensity, the menstrual cycle with the DRSP, the daily routine
(Social Rhythm Metric), and questionnaire responses."""

from __future__ import annotations

from datetime import date, datetime, time

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
    Time,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import MANAGED, timestamp, user_ref, uuid_pk
from services.kit.contracts.trackers import FLOWS
from services.kit.db import declarative_base
from services.kit.profiles import user_settings_table

SCHEMA = "specialized_trackers"


Base = declarative_base(SCHEMA)


class Abandonment(Base):
    """A felt abandonment: what set it off, how strong, the urges, what was done."""

    __tablename__ = "bpd_abandonment_tracking"
    __label__ = "abandonment record"

    record_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    trigger: Mapped[str] = mapped_column(Text, nullable=False)
    perceived: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # 0-10
    urges: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    actions: Mapped[str | None] = mapped_column(Text)
    reality_check: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    skill_id: Mapped[str | None] = mapped_column(Text)
    intensity_after: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (Index("abandonment_user_time", "user_id", "occurred_at"),)


class EmotionalIntensity(Base):
    """One emotion's rise and fall: onset, peak, back to baseline."""

    __tablename__ = "bpd_emotional_intensity"
    __label__ = "emotion record"

    record_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
    emotion: Mapped[str] = mapped_column(Text, nullable=False)
    intensity: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # 0-10, at the peak
    onset_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    peak_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    baseline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (Index("emotional_intensity_user_time", "user_id", "onset_at"),)


class CycleDay(Base):
    """A day of the menstrual cycle: flow, and the DRSP ratings if filled in."""

    __tablename__ = "menstrual_tracking"
    __label__ = "cycle day"

    record_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
    day: Mapped[date] = mapped_column(Date, nullable=False)
    flow: Mapped[str] = mapped_column(Text, nullable=False, server_default="none")
    drsp: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    impairment: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (
        UniqueConstraint("user_id", "day", name="one_cycle_record_per_day"),
        CheckConstraint(f"flow IN {FLOWS}", name="cycle_flow"),
    )


class RoutineDay(Base):
    """A day's Social Rhythm Metric anchors (local times)."""

    __tablename__ = "routine_tracking"
    __label__ = "routine day"

    record_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
    day: Mapped[date] = mapped_column(Date, nullable=False)
    out_of_bed: Mapped[time | None] = mapped_column(Time)
    first_contact: Mapped[time | None] = mapped_column(Time)
    work_start: Mapped[time | None] = mapped_column(Time)
    dinner: Mapped[time | None] = mapped_column(Time)
    bed: Mapped[time | None] = mapped_column(Time)
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (UniqueConstraint("user_id", "day", name="one_routine_record_per_day"),)


class QuestionnaireResponse(Base):
    __tablename__ = "questionnaire_responses"
    __label__ = "questionnaire response"

    response_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
    instrument: Mapped[str] = mapped_column(Text, nullable=False)
    answers: Mapped[list] = mapped_column(JSONB, nullable=False)
    score: Mapped[float] = mapped_column(Numeric(5, 1), nullable=False, info=MANAGED)
    band: Mapped[str] = mapped_column(Text, nullable=False, info=MANAGED)
    prorated: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false",
                                           info=MANAGED)
    completed_at: Mapped[datetime] = timestamp()

    __table_args__ = (Index("questionnaire_responses_user", "user_id", "instrument", "completed_at"),)


# What this service knows of the profile: the time zone (services/kit/profiles.py).
UserSettings = user_settings_table(Base.metadata)

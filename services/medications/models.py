"""Tables of the medications schema: doses logged, side effects, prescription
changes, missed doses (each detected once), and this service's copy of each
prescription (from user management's events)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import MANAGED, timestamp, user_ref, uuid_pk
from services.kit.contracts.medications import CHANGE_KINDS, DOSE_STATUSES, SIDE_EFFECT_SEVERITY_MAX
from services.kit.db import declarative_base
from services.kit.profiles import user_settings_table

SCHEMA = "medications"
MEDICATIONS_FK = "user_management.medications.medication_id"


Base = declarative_base(SCHEMA)
# The medication list lives in user management: its rows go when a medication goes.
Table("medications", Base.metadata, Column("medication_id", UUID(as_uuid=False), primary_key=True),
      schema="user_management", extend_existing=True)


def medication_ref() -> Mapped[str]:
    return mapped_column(UUID(as_uuid=False), ForeignKey(MEDICATIONS_FK, ondelete="CASCADE"),
                         nullable=False, index=True)


class Prescription(Base):
    """What this service knows of a medication on the list (kept from events)."""

    __tablename__ = "prescriptions"

    medication_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey(MEDICATIONS_FK, ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = user_ref(index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    dose_amount: Mapped[float | None] = mapped_column(Numeric(10, 3))
    dose_unit: Mapped[str | None] = mapped_column(Text)
    schedule: Mapped[dict] = mapped_column(JSONB, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    added_on: Mapped[date] = mapped_column(Date, nullable=False)
    source_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class DoseLog(Base):
    __tablename__ = "medication_logs"
    __label__ = "dose"

    dose_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
    medication_id: Mapped[str] = medication_ref()
    status: Mapped[str] = mapped_column(Text, nullable=False)
    amount: Mapped[float | None] = mapped_column(Numeric(10, 3))
    unit: Mapped[str | None] = mapped_column(Text)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # The scheduled dose it is for (None: an as-needed or extra dose).
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)
    off_prescription: Mapped[bool] = mapped_column(Boolean, nullable=False,
                                                   server_default="false", info=MANAGED)
    created_at: Mapped[datetime] = timestamp()

    __table_args__ = (
        CheckConstraint(f"status IN {DOSE_STATUSES}", name="dose_status"),
        Index("one_log_per_scheduled_dose", "medication_id", "scheduled_for", unique=True,
              postgresql_where="scheduled_for IS NOT NULL"),
        Index("medication_logs_user_time", "user_id", "taken_at"),
    )


class SideEffect(Base):
    __tablename__ = "side_effects_log"
    __label__ = "side effect"

    side_effect_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref(index=True)
    medication_id: Mapped[str] = medication_ref()
    effect: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    started_on: Mapped[date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (CheckConstraint(f"severity BETWEEN 0 AND {SIDE_EFFECT_SEVERITY_MAX}",
                                      name="side_effect_severity"),)


class MedicationChange(Base):
    """A change to a prescription, from its date forward; the history stays."""

    __tablename__ = "medication_changes"
    __label__ = "change"

    change_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref(index=True)
    medication_id: Mapped[str] = medication_ref()
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    effective_date: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    prescriber_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    # The prescription before and after (dose_amount, dose_unit, dose, schedule, active, name).
    before: Mapped[dict] = mapped_column(JSONB, nullable=False, info=MANAGED)
    after: Mapped[dict] = mapped_column(JSONB, nullable=False, info=MANAGED)
    created_at: Mapped[datetime] = timestamp()

    __table_args__ = (CheckConstraint(f"kind IN {CHANGE_KINDS}", name="change_kind"),)


class MissedDose(Base):
    """A scheduled dose with no log: the claim that publishes it exactly once."""

    __tablename__ = "missed_doses"

    medication_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey(MEDICATIONS_FK, ondelete="CASCADE"), primary_key=True)
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    user_id: Mapped[str] = user_ref(index=True)
    detected_at: Mapped[datetime] = timestamp()


# What this service knows of the profile: the time zone (services/kit/profiles.py).
UserSettings = user_settings_table(Base.metadata)

"""Tables of the notifications schema."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Text,
    Time,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import MANAGED, PRIVATE, timestamp, user_ref, uuid_pk
from services.kit.db import declarative_base
from services.kit.profiles import user_settings_table

SCHEMA = "notifications"
STATUSES = ("pending", "sending", "sent", "failed", "uncertain")


Base = declarative_base(SCHEMA)


class Notification(Base):
    """One message to one recipient on one channel: the unit of "exactly once"."""

    __tablename__ = "notifications"

    notification_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref()
    kind: Mapped[str] = mapped_column(Text, nullable=False)  # crisis | invitation
    reference: Mapped[str] = mapped_column(Text, nullable=False)  # crisis id / invitation event id
    contact_id: Mapped[str] = mapped_column(UUID(as_uuid=False), nullable=False)
    contact_name: Mapped[str] = mapped_column(Text, nullable=False)
    channel: Mapped[str] = mapped_column(Text, nullable=False)  # email | sms
    recipient: Mapped[str] = mapped_column(Text, nullable=False)
    priority: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                      server_default=func.now())
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("kind", "reference", "contact_id", "channel", name="once_per_contact_and_channel"),
        CheckConstraint(f"status IN {STATUSES}", name="notification_status"),
        CheckConstraint("channel IN ('email', 'sms')", name="notification_channel"),
        Index("notifications_due", "next_attempt_at", postgresql_where="status = 'pending'"),
        Index("notifications_user", "user_id", "created_at"),
    )


class CrisisLine(Base):
    """Where to turn, per country (Stanley-Brown safety plan, step 5)."""

    __tablename__ = "crisis_lines"

    country: Mapped[str] = mapped_column(Text, primary_key=True)  # ISO 3166-1 alpha-2, or '*'
    name: Mapped[str] = mapped_column(Text, nullable=False)
    contact: Mapped[str] = mapped_column(Text, nullable=False)
    emergency_number: Mapped[str] = mapped_column(Text, nullable=False)


class Recipient(Base):
    """How to reach the user themselves (kept from user.profile_changed events)."""

    __tablename__ = "recipients"

    user_id: Mapped[str] = user_ref(primary_key=True)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Preferences(Base):
    """A user's choices: the escalation ladder's waits, quiet hours, the quiet check-in,
    who hears about missed doses. No row: the deployment's defaults."""

    __tablename__ = "preferences"

    user_id: Mapped[str] = user_ref(primary_key=True)
    # Minutes to wait for the user's own acknowledgement before contact 1 (0: no prompt).
    prompt_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    # Minutes each contact has to say "I'm on it" before the next one is alerted
    # (0: everyone at once).
    contact_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    # Rules serious enough to go straight to the contacts.
    skip_prompt_for: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    quiet_start: Mapped[time | None] = mapped_column(Time)  # reminders wait; crisis steps never do
    quiet_end: Mapped[time | None] = mapped_column(Time)
    check_in_after_days: Mapped[int | None] = mapped_column(SmallInteger)  # None: off
    check_in_contact_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    check_in_contact_after_days: Mapped[int | None] = mapped_column(SmallInteger)
    dose_contact_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    dose_contact_after_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime] = timestamp(on_update=True)


class Crisis(Base):
    """A crisis and where its escalation ladder stands."""

    __tablename__ = "crises"

    crisis_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    user_id: Mapped[str] = user_ref(index=True)
    rules: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="open")
    # The step that comes next, and when (None: nothing more to do).
    next_step: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    next_step_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_step: Mapped[int | None] = mapped_column(SmallInteger)
    answer: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("status IN ('open', 'acknowledged', 'exhausted')", name="crisis_status"),
        Index("crises_due", "next_step_at", postgresql_where="status = 'open'"),
    )


class CrisisStep(Base):
    """One rung: the user's prompt (step 0) or a contact, in priority order."""

    __tablename__ = "crisis_steps"

    crisis_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey(f"{SCHEMA}.crises.crisis_id", ondelete="CASCADE"),
        primary_key=True)
    step: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    target: Mapped[str] = mapped_column(Text, nullable=False)  # user | contact
    contact_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    contact_name: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    skipped: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    # SHA-256 of the one-time link the step's messages carry.
    token_hash: Mapped[str | None] = mapped_column(Text, unique=True, info=PRIVATE)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("target IN ('user', 'contact')", name="step_target"),)


class Reminder(Base):
    """A reminder the user set; ``next_due_at`` is when it fires next (UTC)."""

    __tablename__ = "scheduled_reminders"
    __label__ = "reminder"

    reminder_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref(index=True)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    medication_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    instrument: Mapped[str | None] = mapped_column(Text)
    times: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    days_of_week: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    every_n_days: Mapped[int | None] = mapped_column(SmallInteger)
    every_n_weeks: Mapped[int | None] = mapped_column(SmallInteger)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date)
    channels: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)
    snooze_token_hash: Mapped[str | None] = mapped_column(Text, unique=True, info=PRIVATE)
    last_fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (
        CheckConstraint("kind IN ('medication', 'diary', 'routine', 'questionnaire')",
                        name="reminder_kind"),
        CheckConstraint("(kind = 'medication') = (medication_id IS NOT NULL)",
                        name="reminder_medication"),
        Index("reminders_due", "next_due_at", postgresql_where="active"),
        Index("reminders_medication", "medication_id", postgresql_where="medication_id IS NOT NULL"),
    )


class ActivityDay(Base):
    """A day the user logged something (a shift, a card): what "goes quiet" is measured by."""

    __tablename__ = "activity_days"

    user_id: Mapped[str] = user_ref(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CheckIn(Base):
    """A gentle check-in for one quiet spell (from its last entry): to the user, and
    later, if chosen and consented, to a contact. Each once."""

    __tablename__ = "check_ins"

    user_id: Mapped[str] = user_ref(primary_key=True)
    quiet_since: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    user_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    contact_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DoseFollowUp(Base):
    """A missed dose the user chose a contact to hear about, if still not logged by
    ``due_at``; claimed once (``claimed_at``) by whichever instance gets there."""

    __tablename__ = "dose_follow_ups"

    medication_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    user_id: Mapped[str] = user_ref(index=True)
    contact_id: Mapped[str] = mapped_column(UUID(as_uuid=False), nullable=False)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("dose_follow_ups_due", "due_at", postgresql_where="claimed_at IS NULL"),)


# What this service knows of the profile: the time zone (services/kit/profiles.py).
UserSettings = user_settings_table(Base.metadata)

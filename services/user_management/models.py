"""Tables of the user_management schema."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import MANAGED, PRIVATE, timestamp, user_ref, uuid_pk
from services.kit.db import declarative_base

SCHEMA = "user_management"


Base = declarative_base(SCHEMA, references_users=False)


class User(Base):
    __tablename__ = "users"
    __label__ = "user"

    user_id: Mapped[str] = uuid_pk()
    email: Mapped[str] = mapped_column(Text, nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False, info=PRIVATE)
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (Index("users_email_unique", func.lower(email), unique=True),)


class UserProfile(Base):
    __tablename__ = "user_profiles"
    __label__ = "profile"

    user_id: Mapped[str] = user_ref(primary_key=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text, nullable=False, server_default="UTC")
    locale: Mapped[str] = mapped_column(Text, nullable=False, server_default="en")
    country: Mapped[str | None] = mapped_column(Text)
    # How contacts can reach the user, quoted in crisis alerts.
    phone: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = timestamp(on_update=True)


class LoginSession(Base):
    """One log-in: its refresh tokens rotate, its access tokens carry its id."""

    __tablename__ = "login_sessions"

    session_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref(index=True)
    created_at: Mapped[datetime] = timestamp()
    last_refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(Base):
    """Stored as a SHA-256 digest; a used token presented again revokes its session."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(Text, primary_key=True, info=PRIVATE)
    session_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False),
        ForeignKey(f"{SCHEMA}.login_sessions.session_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    user_id: Mapped[str] = user_ref(index=True)
    issued_at: Mapped[datetime] = timestamp()
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EmergencyContact(Base):
    __tablename__ = "emergency_contacts"
    __label__ = "contact"

    contact_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref(index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    relationship: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    # The contact's own decision (the user can only revoke): never set by an edit.
    consent_state: Mapped[str] = mapped_column(Text, nullable=False, server_default="invited",
                                               info=MANAGED)
    # SHA-256 of the invitation token the contact uses to confirm or decline.
    consent_token_hash: Mapped[str | None] = mapped_column(Text, unique=True, info=PRIVATE)
    # Beyond crisis alerts, what the user asks of them (check-ins, missed doses)...
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    # ...and what the contact agreed to when they confirmed.
    consented_scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False,
                                                        server_default="{}", info=MANAGED)
    # The SMS provider reports the number opted out ("STOP"): no SMS until it changes.
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)
    invited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

    __table_args__ = (
        CheckConstraint(
            "consent_state IN ('invited', 'confirmed', 'revoked')", name="contact_consent_state"
        ),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="contact_reachable"),
        CheckConstraint("priority BETWEEN 1 AND 100", name="contact_priority"),
    )


class HealthcareProvider(Base):
    __tablename__ = "healthcare_providers"
    __label__ = "provider"

    provider_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref(index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str | None] = mapped_column(Text)
    organization: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)


class Medication(Base):
    __tablename__ = "medications"
    __label__ = "medication"

    medication_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref(index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    dose: Mapped[str] = mapped_column(Text, nullable=False)
    # The prescribed amount, so a dose taken can be compared with it.
    dose_amount: Mapped[float | None] = mapped_column(Numeric(10, 3))
    dose_unit: Mapped[str | None] = mapped_column(Text)
    # When to take it (services/kit/contracts/medications.py): times of day, on days of
    # the week or every N days, from a start to an end date; or as needed.
    schedule: Mapped[dict] = mapped_column(JSONB, nullable=False)
    schedule_note: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)

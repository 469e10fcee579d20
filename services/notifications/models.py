"""Tables of the notifications schema."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import timestamp, user_ref, uuid_pk
from services.kit.db import declarative_base

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

"""Tables of the export_reports schema: export jobs and the report templates (kinds).

The seed calls the schema ``export_jobs``; here, as for every service, the schema is
named after the service (the kit keeps each service's outbox and event claims in
the schema of its name). The tables keep the seed's names."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.kit.columns import MANAGED, PRIVATE, one_of, timestamp, user_ref, uuid_pk
from services.kit.contracts.exports import DOWNLOAD_OUTCOMES, KINDS, STATUSES
from services.kit.db import declarative_base
from services.kit.profiles import user_settings_table

SCHEMA = "export_reports"

Base = declarative_base(SCHEMA)


class ExportJob(Base):
    """One export: queued, claimed by one instance, run, and its file kept for a while."""

    __tablename__ = "export_jobs"

    job_id: Mapped[str] = uuid_pk()
    user_id: Mapped[str] = user_ref(index=True)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    period_from: Mapped[date | None] = mapped_column(Date)
    period_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="queued", info=MANAGED)
    progress: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0", info=MANAGED)
    step: Mapped[str | None] = mapped_column(Text, info=MANAGED)
    error: Mapped[str | None] = mapped_column(Text, info=MANAGED)
    attempts: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0", info=MANAGED)
    manifest: Mapped[dict | None] = mapped_column(JSONB, info=MANAGED)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, info=MANAGED)
    object_key: Mapped[str | None] = mapped_column(Text, info=PRIVATE)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=PRIVATE)
    created_at: Mapped[datetime] = timestamp()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)

    __table_args__ = (
        CheckConstraint(one_of("kind", KINDS), name="export_kind"),
        CheckConstraint(one_of("status", STATUSES), name="export_status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="export_progress"),
        Index("export_jobs_expiry", "expires_at"),
    )


class ReportTemplate(Base):
    """A kind of export, as the user is offered it."""

    __tablename__ = "report_templates"

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    media_type: Mapped[str] = mapped_column(Text, nullable=False)


class ReportShare(Base):
    """One report shared with one of the user's healthcare providers: a one-time link
    by email, revocable, kept no longer than the file."""

    __tablename__ = "report_shares"

    share_id: Mapped[str] = uuid_pk()
    job_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey(
        "export_reports.export_jobs.job_id", ondelete="CASCADE"), nullable=False, index=True, info=MANAGED)
    user_id: Mapped[str] = user_ref(index=True)
    provider_id: Mapped[str] = mapped_column(UUID(as_uuid=False), nullable=False, info=MANAGED)
    # The provider's name when shared (the list shows it after the provider is edited or removed).
    provider_name: Mapped[str] = mapped_column(Text, nullable=False, info=MANAGED)
    token_hash: Mapped[str] = mapped_column(Text, nullable=False, unique=True, info=PRIVATE)
    created_at: Mapped[datetime] = timestamp()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, info=MANAGED)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=MANAGED)


class ReportDownload(Base):
    """Every use of a share's link, and what became of it: the user sees them all."""

    __tablename__ = "report_downloads"

    download_id: Mapped[str] = uuid_pk()
    share_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey(
        "export_reports.report_shares.share_id", ondelete="CASCADE"), nullable=False, index=True,
        info=MANAGED)
    user_id: Mapped[str] = user_ref()
    outcome: Mapped[str] = mapped_column(Text, nullable=False, info=MANAGED)
    at: Mapped[datetime] = timestamp()

    __table_args__ = (CheckConstraint(one_of("outcome", DOWNLOAD_OUTCOMES), name="download_outcome"),)


UserSettings = user_settings_table(Base.metadata)

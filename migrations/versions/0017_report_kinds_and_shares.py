"""export_reports: the clinician report and FHIR kinds; reports shared with a provider
(one-time links) and every use of those links

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SCHEMA = "export_reports"
# The kinds added, as services/export_reports/jobs.py offered them when this migration was written.
TEMPLATES = (
    ("clinician_pdf", "Clinician report", "A PDF to bring to an appointment: the Life Chart of a "
     "month (or a chosen range, up to a year) with sleep, doses and episodes, then the diary card "
     "summary and which skills helped, adherence, questionnaire scores, crises and the patterns "
     "flagged.", "application/pdf"),
    ("fhir", "FHIR Bundle", "The same period as FHIR R4B resources (Patient, Observations, "
     "QuestionnaireResponses, MedicationStatements, RelatedPersons and Consents, Flags, "
     "Communications) with the clinician report as a DocumentReference, for a clinic's system.",
     "application/fhir+json"),
)
TEMPLATE_TABLE = sa.table("report_templates", sa.column("kind"), sa.column("name"),
                          sa.column("description"), sa.column("media_type"), schema=SCHEMA)


def _kinds(*kinds: str) -> None:
    op.drop_constraint("export_kind", "export_jobs", schema=SCHEMA, type_="check")
    op.create_check_constraint("export_kind", "export_jobs",
                               f"kind IN ({', '.join(repr(k) for k in kinds)})", schema=SCHEMA)


def upgrade() -> None:
    _kinds("full", "csv", "clinician_pdf", "fhir")
    op.bulk_insert(TEMPLATE_TABLE, [dict(zip(("kind", "name", "description", "media_type"), t, strict=True))
                                    for t in TEMPLATES])
    op.create_table('report_shares',
    sa.Column('share_id', postgresql.UUID(as_uuid=False), nullable=False),
    sa.Column('job_id', postgresql.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', postgresql.UUID(as_uuid=False), nullable=False),
    sa.Column('provider_id', postgresql.UUID(as_uuid=False), nullable=False),
    sa.Column('provider_name', sa.Text(), nullable=False),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['export_reports.export_jobs.job_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('share_id'),
    sa.UniqueConstraint('token_hash'),
    schema=SCHEMA
    )
    op.create_index(op.f('ix_export_reports_report_shares_job_id'), 'report_shares', ['job_id'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_export_reports_report_shares_user_id'), 'report_shares', ['user_id'], unique=False, schema=SCHEMA)
    op.create_table('report_downloads',
    sa.Column('download_id', postgresql.UUID(as_uuid=False), nullable=False),
    sa.Column('share_id', postgresql.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', postgresql.UUID(as_uuid=False), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("outcome IN ('downloaded', 'already_used', 'revoked', 'expired')", name='download_outcome'),
    sa.ForeignKeyConstraint(['share_id'], ['export_reports.report_shares.share_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('download_id'),
    schema=SCHEMA
    )
    op.create_index(op.f('ix_export_reports_report_downloads_share_id'), 'report_downloads', ['share_id'], unique=False, schema=SCHEMA)


def downgrade() -> None:
    op.drop_table('report_downloads', schema=SCHEMA)
    op.drop_table('report_shares', schema=SCHEMA)
    op.execute(TEMPLATE_TABLE.delete().where(TEMPLATE_TABLE.c.kind.in_([t[0] for t in TEMPLATES])))
    op.execute(f"DELETE FROM {SCHEMA}.export_jobs WHERE kind IN ('clinician_pdf', 'fhir')")
    _kinds("full", "csv")

"""export_reports: export jobs and the report templates (the kinds offered)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.kit_tables import (
    create_kit_tables,
    create_schema,
    create_user_settings,
    drop_schema,
)

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SCHEMA = "export_reports"
# The kinds, as services/export_reports/jobs.py offered them when this migration was written.
TEMPLATES = (
    ("full", "Full personal-data export", "Every record of yours in every part of SanctumTools, "
     "as JSON, with a manifest of how many records each part holds (GDPR Art. 20).", "application/zip"),
    ("csv", "Spreadsheet export", "One CSV file per kind of record, in a zip, with a README "
     "naming each column.", "application/zip"),
)


def upgrade() -> None:
    create_schema(SCHEMA)
    op.create_table('report_templates',
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('media_type', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('kind'),
    schema='export_reports'
    )
    op.create_table('export_jobs',
    sa.Column('job_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=True),
    sa.Column('period_to', sa.Date(), nullable=True),
    sa.Column('status', sa.Text(), server_default='queued', nullable=False),
    sa.Column('progress', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('step', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('manifest', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('object_key', sa.Text(), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('full', 'csv')", name='export_kind'),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name='export_status'),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name='export_progress'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id'),
    schema='export_reports'
    )
    op.create_index('export_jobs_expiry', 'export_jobs', ['expires_at'], unique=False, schema='export_reports')
    op.create_index(op.f('ix_export_reports_export_jobs_user_id'), 'export_jobs', ['user_id'], unique=False, schema='export_reports')
    op.bulk_insert(sa.table("report_templates", sa.column("kind"), sa.column("name"),
                            sa.column("description"), sa.column("media_type"), schema=SCHEMA),
                   [dict(zip(("kind", "name", "description", "media_type"), t, strict=True)) for t in TEMPLATES])
    create_user_settings(SCHEMA)
    create_kit_tables(SCHEMA)


def downgrade() -> None:
    drop_schema(SCHEMA)

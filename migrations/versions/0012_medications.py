"""medications: doses, side effects, changes, missed doses, and the copy of each prescription

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from migrations.kit_tables import (
    create_kit_tables,
    create_schema,
    create_user_settings,
    drop_schema,
)

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SCHEMA = "medications"
USERS = ["user_management.users.user_id"]
MEDICATIONS = ["user_management.medications.medication_id"]


def uuid(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.UUID(as_uuid=False), nullable=nullable)


def stamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def owned(*columns, **kwargs):
    """The foreign keys every table here has: the account and the medication."""
    return [*columns, sa.ForeignKeyConstraint(["user_id"], USERS, ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["medication_id"], MEDICATIONS, ondelete="CASCADE")]


def upgrade() -> None:
    create_schema(SCHEMA)
    op.create_table("prescriptions", *owned(
        uuid("medication_id"), uuid("user_id"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("dose_amount", sa.Numeric(10, 3), nullable=True),
        sa.Column("dose_unit", sa.Text(), nullable=True),
        sa.Column("schedule", pg.JSONB(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("added_on", sa.Date(), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("medication_id")), schema=SCHEMA)
    op.create_index(op.f("ix_medications_prescriptions_user_id"), "prescriptions", ["user_id"],
                    schema=SCHEMA)
    op.create_table("medication_logs", *owned(
        uuid("dose_id"), uuid("user_id"), uuid("medication_id"),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(10, 3), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("off_prescription", sa.Boolean(), server_default="false", nullable=False),
        stamp("created_at"),
        sa.CheckConstraint("status IN ('taken', 'late', 'skipped')", name="dose_status"),
        sa.PrimaryKeyConstraint("dose_id")), schema=SCHEMA)
    op.create_index(op.f("ix_medications_medication_logs_medication_id"), "medication_logs",
                    ["medication_id"], schema=SCHEMA)
    op.create_index("one_log_per_scheduled_dose", "medication_logs", ["medication_id", "scheduled_for"],
                    unique=True, schema=SCHEMA, postgresql_where="scheduled_for IS NOT NULL")
    op.create_index("medication_logs_user_time", "medication_logs", ["user_id", "taken_at"],
                    schema=SCHEMA)
    op.create_table("side_effects_log", *owned(
        uuid("side_effect_id"), uuid("user_id"), uuid("medication_id"),
        sa.Column("effect", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        stamp("created_at"), stamp("updated_at"),
        sa.CheckConstraint("severity BETWEEN 0 AND 3", name="side_effect_severity"),
        sa.PrimaryKeyConstraint("side_effect_id")), schema=SCHEMA)
    for column in ("user_id", "medication_id"):
        op.create_index(op.f(f"ix_medications_side_effects_log_{column}"), "side_effects_log",
                        [column], schema=SCHEMA)
    op.create_table("medication_changes", *owned(
        uuid("change_id"), uuid("user_id"), uuid("medication_id"),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        uuid("prescriber_id", nullable=True),
        sa.Column("before", pg.JSONB(), nullable=False),
        sa.Column("after", pg.JSONB(), nullable=False),
        stamp("created_at"),
        sa.CheckConstraint("kind IN ('started', 'stopped', 'dose_changed', 'switched')",
                           name="change_kind"),
        sa.PrimaryKeyConstraint("change_id")), schema=SCHEMA)
    for column in ("user_id", "medication_id"):
        op.create_index(op.f(f"ix_medications_medication_changes_{column}"), "medication_changes",
                        [column], schema=SCHEMA)
    op.create_table("missed_doses", *owned(
        uuid("medication_id"), sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        uuid("user_id"), stamp("detected_at"),
        sa.PrimaryKeyConstraint("medication_id", "scheduled_for")), schema=SCHEMA)
    op.create_index(op.f("ix_medications_missed_doses_user_id"), "missed_doses", ["user_id"],
                    schema=SCHEMA)
    create_user_settings(SCHEMA)
    create_kit_tables(SCHEMA)


def downgrade() -> None:
    drop_schema(SCHEMA)

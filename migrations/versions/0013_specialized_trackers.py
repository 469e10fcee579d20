"""specialized_trackers: abandonment, emotional intensity, menstrual cycle, routine,
questionnaire responses

Revision ID: 0013
Revises: 0012
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

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SCHEMA = "specialized_trackers"
USERS = ["user_management.users.user_id"]


def table(name: str, *columns) -> None:
    op.create_table(
        name, sa.Column("record_id" if name != "questionnaire_responses" else "response_id",
                        sa.UUID(as_uuid=False), primary_key=True),
        sa.Column("user_id", sa.UUID(as_uuid=False), nullable=False), *columns,
        sa.ForeignKeyConstraint(["user_id"], USERS, ondelete="CASCADE"), schema=SCHEMA)


def stamps() -> list:
    return [sa.Column(n, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)
            for n in ("created_at", "updated_at")]


def upgrade() -> None:
    create_schema(SCHEMA)
    table("bpd_abandonment_tracking",
          sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
          sa.Column("trigger", sa.Text(), nullable=False),
          sa.Column("perceived", sa.SmallInteger(), nullable=False),
          sa.Column("urges", pg.ARRAY(sa.Text()), server_default="{}", nullable=False),
          sa.Column("actions", sa.Text(), nullable=True),
          sa.Column("reality_check", sa.Boolean(), server_default="false", nullable=False),
          sa.Column("skill_id", sa.Text(), nullable=True),
          sa.Column("intensity_after", sa.SmallInteger(), nullable=True),
          sa.Column("note", sa.Text(), nullable=True), *stamps())
    op.create_index("abandonment_user_time", "bpd_abandonment_tracking", ["user_id", "occurred_at"],
                    schema=SCHEMA)
    table("bpd_emotional_intensity",
          sa.Column("emotion", sa.Text(), nullable=False),
          sa.Column("intensity", sa.SmallInteger(), nullable=False),
          sa.Column("onset_at", sa.DateTime(timezone=True), nullable=False),
          sa.Column("peak_at", sa.DateTime(timezone=True), nullable=True),
          sa.Column("baseline_at", sa.DateTime(timezone=True), nullable=True),
          sa.Column("note", sa.Text(), nullable=True), *stamps())
    op.create_index("emotional_intensity_user_time", "bpd_emotional_intensity", ["user_id", "onset_at"],
                    schema=SCHEMA)
    table("menstrual_tracking",
          sa.Column("day", sa.Date(), nullable=False),
          sa.Column("flow", sa.Text(), server_default="none", nullable=False),
          sa.Column("drsp", pg.JSONB(), server_default="{}", nullable=False),
          sa.Column("impairment", pg.JSONB(), server_default="{}", nullable=False), *stamps(),
          sa.CheckConstraint("flow IN ('none', 'spotting', 'light', 'medium', 'heavy')", name="cycle_flow"),
          sa.UniqueConstraint("user_id", "day", name="one_cycle_record_per_day"))
    table("routine_tracking",
          sa.Column("day", sa.Date(), nullable=False),
          *(sa.Column(anchor, sa.Time(), nullable=True)
            for anchor in ("out_of_bed", "first_contact", "work_start", "dinner", "bed")),
          *stamps(), sa.UniqueConstraint("user_id", "day", name="one_routine_record_per_day"))
    table("questionnaire_responses",
          sa.Column("instrument", sa.Text(), nullable=False),
          sa.Column("answers", pg.JSONB(), nullable=False),
          sa.Column("score", sa.Numeric(5, 1), nullable=False),
          sa.Column("band", sa.Text(), nullable=False),
          sa.Column("prorated", sa.Boolean(), server_default="false", nullable=False),
          sa.Column("completed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                    nullable=False))
    op.create_index("questionnaire_responses_user", "questionnaire_responses",
                    ["user_id", "instrument", "completed_at"], schema=SCHEMA)
    create_user_settings(SCHEMA)
    create_kit_tables(SCHEMA)


def downgrade() -> None:
    drop_schema(SCHEMA)

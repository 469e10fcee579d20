"""dbt_diary: diary cards (one per user and local day) and the skills used on them

Revision ID: 0009
Revises: 0008
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

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SCHEMA = "dbt_diary"
USERS = ["user_management.users.user_id"]


def upgrade() -> None:
    create_schema(SCHEMA)
    op.create_table(
        "dbt_daily_entries",
        sa.Column("entry_id", sa.UUID(as_uuid=False), primary_key=True),
        sa.Column("user_id", sa.UUID(as_uuid=False), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ratings", pg.JSONB(), server_default="{}", nullable=False),
        sa.Column("set_at", pg.JSONB(), server_default="{}", nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], USERS, ondelete="CASCADE"),
        sa.UniqueConstraint("user_id", "day", name="one_card_per_day"),
        schema=SCHEMA,
    )
    op.create_table(
        "dbt_skills_used",
        sa.Column("entry_id", sa.UUID(as_uuid=False), nullable=False),
        sa.Column("skill_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.UUID(as_uuid=False), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating BETWEEN 0 AND 7", name="skill_rating_range"),
        sa.ForeignKeyConstraint(["entry_id"], [f"{SCHEMA}.dbt_daily_entries.entry_id"],
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], USERS, ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("entry_id", "skill_id"),
        schema=SCHEMA,
    )
    op.create_index("dbt_skills_used_user_day", "dbt_skills_used", ["user_id", "day"], schema=SCHEMA)
    create_user_settings(SCHEMA)
    create_kit_tables(SCHEMA)


def downgrade() -> None:
    drop_schema(SCHEMA)

"""pattern_analysis: flags and analyses name their source (mood shift, diary card,
episode) and its record, not only a shift

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SCHEMA = "pattern_analysis"


def upgrade() -> None:
    for table in ("pattern_flags", "pattern_analyses"):
        op.alter_column(table, "shift_id", new_column_name="record_id", schema=SCHEMA)
        op.add_column(table, sa.Column("source", sa.Text(), nullable=False,
                                       server_default="mood_shift"), schema=SCHEMA)
        op.alter_column(table, "source", server_default=None, schema=SCHEMA)
    op.execute(f"ALTER TABLE {SCHEMA}.pattern_flags RENAME CONSTRAINT "
               "one_flag_per_shift_and_rule TO one_flag_per_record_and_rule")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {SCHEMA}.pattern_flags RENAME CONSTRAINT "
               "one_flag_per_record_and_rule TO one_flag_per_shift_and_rule")
    for table in ("pattern_flags", "pattern_analyses"):
        op.drop_column(table, "source", schema=SCHEMA)
        op.alter_column(table, "record_id", new_column_name="shift_id", schema=SCHEMA)

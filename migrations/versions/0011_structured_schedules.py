"""user_management: medication schedules become structured; the free text stays as a note

A free-text schedule cannot be read as times: it is kept as ``schedule_note`` and
the structured schedule starts as "as needed" until the user sets times (no
reminder or missed dose is ever worked out from a guess).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SCHEMA = "user_management"


def upgrade() -> None:
    op.alter_column("medications", "schedule", new_column_name="schedule_note", nullable=True,
                    schema=SCHEMA)
    op.add_column("medications", sa.Column("schedule", pg.JSONB(), nullable=False,
                                           server_default='{"as_needed": true}'), schema=SCHEMA)
    op.alter_column("medications", "schedule", server_default=None, schema=SCHEMA)
    op.add_column("medications", sa.Column("dose_amount", sa.Numeric(10, 3), nullable=True),
                  schema=SCHEMA)
    op.add_column("medications", sa.Column("dose_unit", sa.Text(), nullable=True), schema=SCHEMA)


def downgrade() -> None:
    for column in ("dose_unit", "dose_amount", "schedule"):
        op.drop_column("medications", column, schema=SCHEMA)
    op.execute(f"UPDATE {SCHEMA}.medications SET schedule_note = '' WHERE schedule_note IS NULL")
    op.alter_column("medications", "schedule_note", new_column_name="schedule", nullable=False,
                    schema=SCHEMA)

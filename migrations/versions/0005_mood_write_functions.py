"""mood_tracking: the derived per-day records and the mood write as SQL functions

Logging a shift is one statement (one round trip, its own transaction): take
the user's lock, insert the shift, refresh the day's baseline and rapid-cycling
record, work out the facts pattern analysis needs, and write the event to the
outbox. Corrections and deletions call the same functions. Their source lives
beside the service: services/mood_tracking/sql/v1.sql.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""
from alembic import op

from migrations.kit_tables import service_sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

FUNCTIONS = ("severity(integer)", "refresh_day(uuid, date)",
             "shift_facts(uuid, integer)",
             "log_shift(uuid, text, timestamptz, smallint, boolean, text, smallint, boolean, text,"
             " smallint, text[], text, numeric, jsonb, jsonb)")


def upgrade() -> None:
    op.execute(service_sql("mood_tracking", "v1.sql"))


def downgrade() -> None:
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION mood_tracking.{signature}")

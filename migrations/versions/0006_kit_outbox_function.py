"""kit: outbox_write in every schema; mood_tracking.log_shift writes through it

A service's SQL function puts its event in the outbox with the kit's
``<schema>.outbox_write`` (services/kit/events/outbox.py), so no domain SQL
names the outbox's columns. log_shift's new version: services/mood_tracking/sql/v2.sql.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from alembic import op

from migrations.kit_tables import create_kit_functions, service_sql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMAS = ("user_management", "mood_tracking", "pattern_analysis", "notifications")


def upgrade() -> None:
    for schema in SCHEMAS:
        create_kit_functions(schema)
    op.execute(service_sql("mood_tracking", "v2.sql"))


def downgrade() -> None:
    op.execute(service_sql("mood_tracking", "v1.sql"))  # log_shift as version 1 had it
    for schema in SCHEMAS:
        op.execute(f'DROP FUNCTION "{schema}".outbox_write(jsonb, jsonb, uuid)')

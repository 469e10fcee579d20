"""Helpers shared by every service's migration: its schema, and the tables the
kit needs in it (outbox, processed_events; defined once in services/kit/events.py).
"""

from alembic import op
from sqlalchemy import MetaData

from services.kit.events import outbox_table, processed_events_table


def create_schema(schema: str) -> None:
    op.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def drop_schema(schema: str) -> None:
    op.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def create_kit_tables(schema: str) -> None:
    metadata = MetaData(schema=schema)
    outbox_table(metadata)
    processed_events_table(metadata)
    metadata.create_all(op.get_bind())

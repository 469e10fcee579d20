"""Helpers shared by every service's migration: its schema, the tables and SQL
function the kit needs in it (outbox, processed_events, outbox_write; defined
once in services/kit/events/), and a service's own versioned SQL files.
"""

from alembic import op
from sqlalchemy import MetaData

from services.kit.config import PROJECT_ROOT
from services.kit.events import outbox_table, outbox_write_function, processed_events_table
from services.kit.profiles import user_settings_table


def create_schema(schema: str) -> None:
    op.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def drop_schema(schema: str) -> None:
    op.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def create_kit_tables(schema: str) -> None:
    metadata = MetaData(schema=schema)
    outbox_table(metadata)
    processed_events_table(metadata)
    metadata.create_all(op.get_bind())
    create_kit_functions(schema)


def create_kit_functions(schema: str) -> None:
    op.execute(outbox_write_function(schema))


def create_user_settings(schema: str) -> None:
    """The service's copy of the profile's time zone (services/kit/profiles.py),
    filled from the accounts that exist already."""
    metadata = MetaData(schema=schema)
    user_settings_table(metadata)
    metadata.create_all(op.get_bind())
    op.execute(f'INSERT INTO "{schema}".user_settings (user_id, timezone, updated_at) '
               "SELECT user_id, timezone, updated_at FROM user_management.user_profiles")


def service_sql(service: str, name: str) -> str:
    """A versioned SQL file of a service (services/<service>/sql/<name>): a migration
    loads the version it was written for, so replaying history replays the same SQL."""
    return (PROJECT_ROOT / "services" / service / "sql" / name).read_text()

"""Alembic environment: one history for all service schemas.

Version table: public.schema_migrations (as the architecture names it).
Each service's tables live in its own PostgreSQL schema; migrations create and
drop those schemas explicitly.
"""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from services.kit import config as sanctum_config

# The CLI configures logging from alembic.ini; callers that run migrations
# in-process (tests, tools) keep their own logging.
if context.config.config_file_name is not None and context.config.attributes.get("configure_logger", True):
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    return context.config.get_main_option("sqlalchemy.url") or sanctum_config.kit().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        literal_binds=True,
        version_table="schema_migrations",
        version_table_schema="public",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            version_table="schema_migrations",
            version_table_schema="public",
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

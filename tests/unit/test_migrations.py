"""Migrations run forward to head and back to base on an empty database."""

import uuid

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.kit import config
from tests.support.environment import alembic_config


@pytest.fixture
def empty_database():
    url = make_url(config.kit().database_url)
    name = f"migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def schemas(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        found = set(conn.execute(text(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' "
            "AND nspname NOT IN ('public', 'information_schema')")).scalars())
        version = conn.execute(text(
            "SELECT to_regclass('public.schema_migrations') IS NOT NULL")).scalar()
    engine.dispose()
    return found, version


def test_upgrade_to_head_and_downgrade_to_base(empty_database):
    cfg = alembic_config(empty_database)
    command.upgrade(cfg, "head")
    found, has_version_table = schemas(empty_database)
    assert "user_management" in found
    assert has_version_table
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        head = conn.execute(text("SELECT version_num FROM public.schema_migrations")).scalar()
    engine.dispose()
    assert head is not None

    command.downgrade(cfg, "base")
    found, _ = schemas(empty_database)
    assert found == set()

    command.upgrade(cfg, "head")  # and forward again, from a clean downgrade
    assert "user_management" in schemas(empty_database)[0]

"""Reading the database directly, where a test checks what the API cannot show."""

from __future__ import annotations

from functools import cache

from sqlalchemy import create_engine, text

from services.kit import config


@cache
def _engine(url: str):
    # A few connections kept open: the suite reads the database between requests often.
    return create_engine(url, pool_size=2, max_overflow=4, pool_pre_ping=True)


def engine():
    return _engine(config.kit().database_url)


def rows(sql: str, **params) -> list:
    with engine().connect() as conn:
        return conn.execute(text(sql), params).all()


def write(sql: str, **params) -> list:
    """Change rows directly (committed) and return what the statement returns."""
    with engine().begin() as conn:
        return conn.execute(text(sql), params).all()


def execute(sql: str, **params) -> int:
    """Change rows directly (committed): how a test moves a clock on. Returns the row count."""
    with engine().begin() as conn:
        return conn.execute(text(sql), params).rowcount


def scalar(sql: str, **params):
    found = rows(sql, **params)
    return found[0][0] if found else None


def analyses_of(user_id: str) -> list:
    """Pattern analysis's record of each mood event it handled for the user."""
    return rows("SELECT record_id::text AS shift_id, rules_fired, crisis_id FROM "
                "pattern_analysis.pattern_analyses WHERE user_id = :u", u=user_id)

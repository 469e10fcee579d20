"""Reading the database directly, where a test checks what the API cannot show."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from services.kit import config


def rows(sql: str, **params) -> list:
    engine = create_engine(config.kit().database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def execute(sql: str, **params) -> int:
    """Change rows directly (committed): how a test moves a clock on. Returns the row count."""
    engine = create_engine(config.kit().database_url)
    try:
        with engine.begin() as conn:
            return conn.execute(text(sql), params).rowcount
    finally:
        engine.dispose()


def scalar(sql: str, **params):
    found = rows(sql, **params)
    return found[0][0] if found else None


def analyses_of(user_id: str) -> list:
    """Pattern analysis's record of each mood event it handled for the user."""
    return rows("SELECT record_id::text AS shift_id, rules_fired, crisis_id FROM "
                "pattern_analysis.pattern_analyses WHERE user_id = :u", u=user_id)

"""The export contract every domain service answers (``export_page``): the user's
records in the service's own schema, table by table, in pages, so a long history
never travels as one huge message. The export service asks each service and reads
no other schema itself.

A page is ``{"table", "columns", "rows", "next"}``; ``next`` is the cursor of the
following page (None after the last). Private columns (secrets such as token
hashes) are never exported. With a ``period`` ({"from", "to"}, ISO dates, and the
user's ``timezone``: the days are the user's local days) a table with a time column
gives only the rows inside it; without one, everything.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import MetaData, Table, literal, select, tuple_
from sqlalchemy.orm import Session

from services.kit.records import plain

PAGE_ROWS = 500
# The column that says when a record happened, in the order they are looked for.
TIME_COLUMNS = ("occurred_at", "timestamp", "day", "local_date", "taken_at", "onset_at",
                "started_at", "start_day", "completed_at", "detected_at", "created_at")


def owned_tables(metadata: MetaData, schema: str) -> list[Table]:
    """The service's own tables that hold a user's rows, by name (not the tables of
    other schemas its models declare for foreign keys)."""
    return sorted((t for t in metadata.tables.values() if t.schema == schema and "user_id" in t.c),
                  key=lambda t: t.name)


def exported_columns(table: Table) -> list:
    return [c for c in table.c if not c.info.get("private")]


def time_column(table: Table):
    return next((table.c[name] for name in TIME_COLUMNS if name in table.c), None)


def _in_period(column, period: dict):
    start, end = date.fromisoformat(period["from"]), date.fromisoformat(period["to"])
    if column.type.python_type is date:
        return column.between(start, end)
    zone = ZoneInfo(period.get("timezone") or "UTC")
    after = datetime.combine(start, time(), zone)
    return (column >= after) & (column < datetime.combine(end + timedelta(days=1), time(), zone))


def _typed(column, value):
    """A cursor value (plain JSON) bound as its column's type: a uuid key compared with
    text has no operator in PostgreSQL."""
    python_type = column.type.python_type
    if python_type is datetime:
        value = datetime.fromisoformat(value)
    elif python_type is date:
        value = date.fromisoformat(value)
    return literal(value, type_=column.type)


def page(db: Session, metadata: MetaData, schema: str, user_id: str, cursor: dict | None = None,
         period: dict | None = None) -> dict:
    tables = owned_tables(metadata, schema)
    if not tables:  # a service that holds nobody's records (the skills library)
        return {"table": None, "columns": [], "rows": [], "next": None}
    names = [t.name for t in tables]
    index = names.index(cursor["table"]) if cursor else 0
    table = tables[index]
    key = list(table.primary_key.columns)
    shown = [c.name for c in exported_columns(table)]
    query = select(table).where(table.c.user_id == user_id)
    if cursor and cursor.get("after") is not None:
        query = query.where(tuple_(*key) > tuple_(*(_typed(c, v) for c, v in zip(key, cursor["after"],
                                                                                  strict=True))))
    when = time_column(table)
    if period and when is not None:
        query = query.where(_in_period(when, period))
    rows = [dict(row._mapping) for row in db.execute(query.order_by(*key).limit(PAGE_ROWS))]
    if len(rows) == PAGE_ROWS:
        following = {"table": table.name, "after": [plain(rows[-1][c.name]) for c in key]}
    elif index + 1 < len(tables):
        following = {"table": names[index + 1], "after": None}
    else:
        following = None
    return {"table": table.name, "columns": shown,
            "rows": [{name: plain(row[name]) for name in shown} for row in rows], "next": following}

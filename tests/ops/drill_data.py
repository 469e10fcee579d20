"""Data for the restore drill: the real schemas (Alembic migrations) filled with
synthetic rows, plus a `drill` schema of awkward column types.

Rows are generated from the catalog, so the drill follows the migrations as they
grow: for every table, each NOT NULL column without a default gets a value of
its type, foreign keys point at existing parent rows. A table whose constraints
reject such rows is left empty (it is still backed up and compared).
"""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
from ops_support import ROOT
from psycopg import sql

ALEMBIC_INI = ROOT / "migrations" / "alembic.ini"
SENSITIVE_MARKER = "DRILL-SENSITIVE-NOTE-7f3a"  # must never reach a log line
PARENT_ROWS = 300
CHILD_ROWS = 200

TYPE_VALUES = {
    "uuid": "gen_random_uuid()",
    "text": "md5(random()::text || g)",
    "character varying": "left(md5(random()::text || g), 20)",
    "integer": "(g % 5) + 1",
    "bigint": "(g % 5) + 1",
    "smallint": "(g % 5) + 1",
    "numeric": "(g % 7) + 0.5",
    "double precision": "g / 3.0",
    "real": "g / 3.0",
    "boolean": "(g % 2 = 0)",
    "timestamp with time zone": "now() - make_interval(mins => g)",
    "timestamp without time zone": "localtimestamp - make_interval(mins => g)",
    "date": "current_date - g",
    "time without time zone": "time '08:00' + make_interval(mins => g % 600)",
    "interval": "make_interval(mins => g)",
    "jsonb": "jsonb_build_object('n', g)",
    "json": "json_build_object('n', g)",
    "bytea": "decode(md5(g::text), 'hex')",
    "inet": "'10.0.0.1'::inet",
}

COLUMNS = """
SELECT c.column_name, c.data_type, c.udt_schema, c.udt_name
FROM information_schema.columns c
WHERE c.table_schema = %s AND c.table_name = %s AND c.is_nullable = 'NO'
  AND c.column_default IS NULL AND c.is_identity = 'NO' AND c.is_generated = 'NEVER'
ORDER BY c.ordinal_position
"""
# Single-column foreign keys: column -> (parent schema, parent table, parent column).
FOREIGN_KEYS = """
SELECT a.attname, pn.nspname, pc.relname, pa.attname
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
JOIN pg_class pc ON pc.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = k.confkey[1]
WHERE k.contype = 'f' AND cardinality(k.conkey) = 1 AND n.nspname = %s AND c.relname = %s
"""
SERVICE_TABLES = """
SELECT table_schema, table_name FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
  AND NOT (table_schema = 'public' AND table_name = 'schema_migrations')
ORDER BY 1, 2
"""

DRILL_SCHEMA = """
CREATE SCHEMA drill;
CREATE TABLE drill.awkward_types (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    local_at timestamp,
    score numeric(12, 4),
    ratio double precision,
    tags text[],
    doc jsonb,
    blob bytea,
    span interval,
    note text
);
INSERT INTO drill.awkward_types (at, local_at, score, ratio, tags, doc, blob, span, note)
SELECT now() - make_interval(secs => g * 37.5), localtimestamp, g * 1.0001, g / 7.0,
       ARRAY['a' || g, NULL, 'ü" ' || g],
       jsonb_build_object('n', g, 'nested', jsonb_build_array(g, 'x', NULL)),
       decode(md5(g::text), 'hex'), make_interval(days => g % 40, secs => g),
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'émoji ✓ line' || chr(10) || g END
FROM generate_series(1, 5000 * {scale}) AS g;
INSERT INTO drill.awkward_types (at, note) VALUES (now(), '{marker}');
CREATE TABLE drill.events (id bigint NOT NULL, at date NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE drill.events_old PARTITION OF drill.events FOR VALUES FROM ('2000-01-01') TO ('2025-01-01');
CREATE TABLE drill.events_new PARTITION OF drill.events FOR VALUES FROM ('2025-01-01') TO ('2100-01-01');
INSERT INTO drill.events SELECT g, date '2024-06-01' + g, 'k' || (g % 3) FROM generate_series(1, 800) g;
"""


def migrate(url: str) -> bool:
    """alembic upgrade head into `url`; False when the repository has no migrations yet."""
    if not ALEMBIC_INI.exists():
        return False
    env = {**os.environ, "DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://", 1)}
    subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), "upgrade", "head"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return True


def load(url: str, scale: int = 1) -> dict[str, int]:
    """Migrate, fill every table generically, add the drill schema; returns rows per table."""
    migrate(url)
    with psycopg.connect(url) as conn:
        filled = fill_tables(conn)
        conn.execute(DRILL_SCHEMA.format(scale=int(scale), marker=SENSITIVE_MARKER))
    return filled


def fill_tables(conn: psycopg.Connection) -> dict[str, int]:
    pending = conn.execute(SERVICE_TABLES).fetchall()
    filled: dict[str, int] = {}
    for _ in range(4):  # parents before children: retry what failed on an empty parent
        for schema, table in list(pending):
            if (count := _try_fill(conn, schema, table)) is not None:
                filled[f"{schema}.{table}"] = count
                pending.remove((schema, table))
    return filled


def _try_fill(conn: psycopg.Connection, schema: str, table: str) -> int | None:
    foreign = {row[0]: row[1:] for row in conn.execute(FOREIGN_KEYS, (schema, table)).fetchall()}
    rows = CHILD_ROWS if foreign else PARENT_ROWS
    columns, values = [], []
    for name, data_type, udt_schema, udt_name in conn.execute(COLUMNS, (schema, table)).fetchall():
        expression = _value(conn, name, data_type, udt_schema, udt_name, foreign)
        if expression is None:
            return None
        columns.append(sql.Identifier(name))
        values.append(expression)
    if not columns:
        return None
    statement = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM generate_series(1, {}) AS g").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(columns), sql.SQL(", ").join(values), rows
    )
    try:
        with conn.transaction():
            return conn.execute(statement).rowcount
    except psycopg.Error:
        return None


def _value(conn, name, data_type, udt_schema, udt_name, foreign) -> sql.Composable | None:
    if name in foreign:
        parent_schema, parent_table, parent_column = foreign[name]
        return sql.SQL("(SELECT {col} FROM {tbl} ORDER BY {col} OFFSET g - 1 LIMIT 1)").format(
            col=sql.Identifier(parent_column), tbl=sql.Identifier(parent_schema, parent_table)
        )
    if data_type == "USER-DEFINED":
        return sql.SQL("(enum_range(NULL::{}))[1]").format(sql.Identifier(udt_schema, udt_name))
    if data_type == "ARRAY":
        return sql.SQL("'{}'")
    if data_type in TYPE_VALUES:
        return sql.SQL(TYPE_VALUES[data_type])
    return None


if __name__ == "__main__":
    # The runbook's drill: python tests/ops/drill_data.py DATABASE_URL [SCALE]
    target = sys.argv[1].replace("postgresql+psycopg://", "postgresql://", 1)
    counts = load(target, int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    print(f"loaded {sum(counts.values())} rows into {len(counts)} migrated tables, plus drill.*")

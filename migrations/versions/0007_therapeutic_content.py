"""therapeutic_content: the DBT skills library (loaded from its file at start-up)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from migrations.kit_tables import create_kit_tables, create_schema, drop_schema

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SCHEMA = "therapeutic_content"


def upgrade() -> None:
    create_schema(SCHEMA)
    op.create_table(
        "library",
        sa.Column("locale", sa.Text(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("modules", pg.JSONB(), nullable=False),
        sa.Column("medication_classes", pg.JSONB(), nullable=False),
        sa.Column("conditions", pg.JSONB(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "skills",
        sa.Column("skill_id", sa.Text(), nullable=False),
        sa.Column("locale", sa.Text(), nullable=False),
        sa.Column("module", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("steps", pg.JSONB(), nullable=False),
        sa.Column("states", pg.ARRAY(sa.Text()), nullable=False),
        sa.Column("situations", pg.ARRAY(sa.Text()), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("cautions", pg.JSONB(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("search_config", pg.REGCONFIG(), nullable=False),
        sa.Column("search", pg.TSVECTOR(),
                  sa.Computed("to_tsvector(search_config, search_text)", persisted=True)),
        sa.PrimaryKeyConstraint("skill_id", "locale"),
        schema=SCHEMA,
    )
    op.create_index("skills_search", "skills", ["search"], postgresql_using="gin", schema=SCHEMA)
    op.create_index("skills_states", "skills", ["states"], postgresql_using="gin", schema=SCHEMA)
    op.create_index("skills_situations", "skills", ["situations"], postgresql_using="gin",
                    schema=SCHEMA)
    create_kit_tables(SCHEMA)


def downgrade() -> None:
    drop_schema(SCHEMA)

"""episode_tracking: episodes, crisis interventions, candidate decisions, safety plans

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from migrations.kit_tables import (
    create_kit_tables,
    create_schema,
    create_user_settings,
    drop_schema,
)

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SCHEMA = "episode_tracking"
USERS = ["user_management.users.user_id"]
KINDS = "('depressive', 'manic', 'hypomanic', 'mixed', 'bpd_crisis', 'crisis', 'other')"
INTERVENTIONS = ("('safety_plan_used', 'crisis_line_called', 'contact_reached', 'clinician_seen', "
                 "'emergency_services', 'hospital_admission', 'alert_sent')")


def stamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    # Equality on uuid and text inside a GiST exclusion constraint (a trusted extension).
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    create_schema(SCHEMA)
    op.create_table(
        "episodes",
        sa.Column("episode_id", sa.UUID(as_uuid=False), primary_key=True),
        sa.Column("user_id", sa.UUID(as_uuid=False), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=False),
        sa.Column("end_day", sa.Date(), nullable=True),
        sa.Column("peak_severity", sa.SmallInteger(), nullable=True),
        sa.Column("hospitalised", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("psychotic_features", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("origin", sa.Text(), server_default="user", nullable=False),
        stamp("created_at"), stamp("updated_at"),
        sa.CheckConstraint(f"kind IN {KINDS}", name="episode_kind"),
        sa.CheckConstraint("end_day IS NULL OR end_day >= start_day", name="episode_ends_after_start"),
        sa.CheckConstraint("peak_severity BETWEEN 1 AND 4", name="episode_severity"),
        sa.CheckConstraint("origin IN ('user', 'candidate', 'crisis')", name="episode_origin"),
        sa.ForeignKeyConstraint(["user_id"], USERS, ondelete="CASCADE"),
        pg.ExcludeConstraint(("user_id", "="), ("kind", "="),
                             (sa.text("daterange(start_day, end_day, '[]')"), "&&"),
                             name="no_overlapping_episodes", using="gist"),
        schema=SCHEMA,
    )
    op.create_index("episodes_user_start", "episodes", ["user_id", "start_day"], schema=SCHEMA)
    op.create_table(
        "crisis_interventions",
        sa.Column("intervention_id", sa.UUID(as_uuid=False), primary_key=True),
        sa.Column("episode_id", sa.UUID(as_uuid=False), nullable=False),
        sa.Column("user_id", sa.UUID(as_uuid=False), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("happened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_whom", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("crisis_id", sa.UUID(as_uuid=False), nullable=True),
        stamp("created_at"),
        sa.CheckConstraint(f"kind IN {INTERVENTIONS}", name="intervention_kind"),
        sa.ForeignKeyConstraint(["episode_id"], [f"{SCHEMA}.episodes.episode_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], USERS, ondelete="CASCADE"),
        sa.UniqueConstraint("crisis_id"),
        schema=SCHEMA,
    )
    op.create_index(op.f("ix_episode_tracking_crisis_interventions_episode_id"),
                    "crisis_interventions", ["episode_id"], schema=SCHEMA)
    op.create_table(
        "episode_candidate_decisions",
        sa.Column("user_id", sa.UUID(as_uuid=False), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=False),
        sa.Column("end_day", sa.Date(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("episode_id", sa.UUID(as_uuid=False), nullable=True),
        stamp("decided_at"),
        sa.CheckConstraint("decision IN ('confirmed', 'dismissed')", name="candidate_decision"),
        sa.ForeignKeyConstraint(["user_id"], USERS, ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "kind", "start_day"),
        schema=SCHEMA,
    )
    op.create_table(
        "safety_plans",
        sa.Column("plan_id", sa.UUID(as_uuid=False), primary_key=True),
        sa.Column("user_id", sa.UUID(as_uuid=False), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("steps", pg.JSONB(), nullable=False),
        stamp("created_at"),
        sa.ForeignKeyConstraint(["user_id"], USERS, ondelete="CASCADE"),
        sa.UniqueConstraint("user_id", "version", name="one_plan_per_version"),
        schema=SCHEMA,
    )
    create_user_settings(SCHEMA)
    create_kit_tables(SCHEMA)


def downgrade() -> None:
    drop_schema(SCHEMA)

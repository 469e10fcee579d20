"""pattern_analysis: alert rules, pattern flags, analyses

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.kit_tables import create_kit_tables, create_schema, drop_schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "pattern_analysis"


def upgrade() -> None:
    create_schema(SCHEMA)
    op.create_table('alert_rules',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('severe_level', sa.SmallInteger(), server_default='4', nullable=False),
    sa.Column('drop_levels', sa.SmallInteger(), server_default='3', nullable=False),
    sa.Column('depression_threshold', sa.SmallInteger(), nullable=True),
    sa.Column('elevation_threshold', sa.SmallInteger(), nullable=True),
    sa.Column('cooldown_minutes', sa.Integer(), server_default='360', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('cooldown_minutes BETWEEN 5 AND 360', name='cooldown_range'),
    sa.CheckConstraint('depression_threshold BETWEEN -4 AND -1', name='depression_threshold_range'),
    sa.CheckConstraint('drop_levels IN (2, 3)', name='drop_levels_tightened_only'),
    sa.CheckConstraint('elevation_threshold BETWEEN 1 AND 4', name='elevation_threshold_range'),
    sa.CheckConstraint('severe_level IN (3, 4)', name='severe_level_tightened_only'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id'),
    schema='pattern_analysis'
    )
    op.create_table('pattern_analyses',
    sa.Column('analysis_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('source_event_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('shift_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('rules_fired', sa.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('crisis_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('analyzed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('analysis_id'),
    sa.UniqueConstraint('source_event_id'),
    schema='pattern_analysis'
    )
    op.create_index(op.f('ix_pattern_analysis_pattern_analyses_user_id'), 'pattern_analyses', ['user_id'], unique=False, schema='pattern_analysis')
    op.create_table('pattern_flags',
    sa.Column('flag_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('rule', sa.Text(), nullable=False),
    sa.Column('shift_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('source_event_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('crisis_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('detected_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('flag_id'),
    sa.UniqueConstraint('shift_id', 'rule', name='one_flag_per_shift_and_rule'),
    schema='pattern_analysis'
    )
    op.create_index('pattern_flags_user_time', 'pattern_flags', ['user_id', 'detected_at'], unique=False, schema='pattern_analysis')
    create_kit_tables(SCHEMA)


def downgrade() -> None:
    drop_schema(SCHEMA)

"""mood_tracking: mood shifts, daily baselines, rapid-cycling days, user settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from migrations.kit_tables import create_kit_tables, create_schema, drop_schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "mood_tracking"


def upgrade() -> None:
    create_schema(SCHEMA)
    op.create_table('daily_baselines',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('peak_elevation', sa.SmallInteger(), nullable=False),
    sa.Column('peak_depression', sa.SmallInteger(), nullable=False),
    sa.Column('irritability', sa.SmallInteger(), nullable=False),
    sa.Column('anxiety', sa.SmallInteger(), nullable=False),
    sa.Column('mixed', sa.Boolean(), nullable=False),
    sa.Column('sleep_hours', sa.Numeric(precision=3, scale=1), nullable=True),
    sa.Column('shift_count', sa.SmallInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'day'),
    schema='mood_tracking'
    )
    op.create_table('mood_shifts',
    sa.Column('shift_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('previous_level', sa.SmallInteger(), nullable=False),
    sa.Column('previous_mixed', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('previous_state', sa.Text(), nullable=True),
    sa.Column('current_level', sa.SmallInteger(), nullable=False),
    sa.Column('current_mixed', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('current_state', sa.Text(), nullable=True),
    sa.Column('intensity', sa.SmallInteger(), nullable=False),
    sa.Column('triggers', sa.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('sleep_hours', sa.Numeric(precision=3, scale=1), nullable=True),
    sa.Column('request_id', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('current_level BETWEEN -4 AND 4', name='current_level_range'),
    sa.CheckConstraint('intensity BETWEEN 1 AND 10', name='intensity_range'),
    sa.CheckConstraint('previous_level BETWEEN -4 AND 4', name='previous_level_range'),
    sa.CheckConstraint('sleep_hours IS NULL OR sleep_hours BETWEEN 0 AND 24', name='sleep_range'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shift_id'),
    sa.UniqueConstraint('user_id', 'request_id', name='one_shift_per_request'),
    schema='mood_tracking'
    )
    op.create_index('mood_shifts_user_day', 'mood_shifts', ['user_id', 'local_date'], unique=False, schema='mood_tracking')
    op.create_index('mood_shifts_user_time', 'mood_shifts', ['user_id', 'occurred_at', 'shift_id'], unique=False, schema='mood_tracking')
    op.create_table('rapid_cycling_days',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('crossings', sa.SmallInteger(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'day'),
    schema='mood_tracking'
    )
    op.create_table('user_settings',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('timezone', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id'),
    schema='mood_tracking'
    )
    create_kit_tables(SCHEMA)


def downgrade() -> None:
    drop_schema(SCHEMA)

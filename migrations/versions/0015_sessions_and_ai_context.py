"""sessions: session memory, conversations and their turns; ai_context: the
assistant's settings, knowledge, frameworks, suggestions and the copies of facts it
keeps; mood_tracking: a shift's facts carry its named state and intensity (v3.sql)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.kit_tables import (
    create_kit_tables,
    create_schema,
    create_user_settings,
    drop_schema,
    service_sql,
)

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_schema('sessions')
    op.create_table('session_memory',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('facets', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id'),
    schema='sessions'
    )
    op.create_table('session_settings',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('log_retention_days', sa.SmallInteger(), server_default='30', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('log_retention_days BETWEEN 0 AND 365', name='log_retention_range'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id'),
    schema='sessions'
    )
    op.create_table('sessions',
    sa.Column('session_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('channel', sa.Text(), server_default='app', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disclosed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('app', 'web')", name='session_channel'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id'),
    schema='sessions'
    )
    op.create_index('sessions_open', 'sessions', ['last_activity_at'], unique=False, schema='sessions', postgresql_where='ended_at IS NULL')
    op.create_index('sessions_user_started', 'sessions', ['user_id', 'started_at'], unique=False, schema='sessions')
    op.create_table('session_logs',
    sa.Column('log_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('session_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('skill_id', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('user', 'assistant')", name='session_log_role'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.sessions.session_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('log_id'),
    schema='sessions'
    )
    op.create_index('session_logs_expiry', 'session_logs', ['expires_at'], unique=False, schema='sessions')
    op.create_index('session_logs_session', 'session_logs', ['session_id', 'created_at'], unique=False, schema='sessions')
    create_user_settings('sessions')
    create_kit_tables('sessions')
    create_schema('ai_context')
    op.create_table('ai_configurations',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('tone', sa.Text(), server_default='warm', nullable=False),
    sa.Column('provider', sa.Text(), server_default='builtin', nullable=False),
    sa.Column('shared', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("provider IN ('builtin', 'external')", name='assistant_provider'),
    sa.CheckConstraint("shared <@ ARRAY['mood', 'diary', 'medications', 'episodes']::text[]", name='assistant_shared_kinds'),
    sa.CheckConstraint("tone IN ('warm', 'brief', 'direct')", name='assistant_tone'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id'),
    schema='ai_context'
    )
    op.create_table('ai_knowledge_database',
    sa.Column('entry_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('warning_sign', 'what_helps', 'trusted_person', 'other')", name='knowledge_kind'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id'),
    schema='ai_context'
    )
    op.create_index(op.f('ix_ai_context_ai_knowledge_database_user_id'), 'ai_knowledge_database', ['user_id'], unique=False, schema='ai_context')
    op.create_table('crisis_offers',
    sa.Column('session_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('crisis_id', sa.UUID(as_uuid=False), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id'),
    schema='ai_context'
    )
    op.create_table('medication_names',
    sa.Column('medication_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('medication_id'),
    schema='ai_context'
    )
    op.create_index(op.f('ix_ai_context_medication_names_user_id'), 'medication_names', ['user_id'], unique=False, schema='ai_context')
    op.create_table('screen_marks',
    sa.Column('mark_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('session_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('cues', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('mark_id'),
    schema='ai_context'
    )
    op.create_index('screen_marks_session', 'screen_marks', ['session_id', 'created_at'], unique=False, schema='ai_context')
    op.create_table('skill_history',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('skill_id', sa.Text(), nullable=False),
    sa.Column('days', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('helped_days', sa.Integer(), server_default='0', nullable=False),
    sa.Column('used_days', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'skill_id'),
    schema='ai_context'
    )
    op.create_table('suggestions',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('shift_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Text(), nullable=True),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('skill_id', sa.Text(), nullable=True),
    sa.Column('skill', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('shown_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id'),
    schema='ai_context'
    )
    op.create_table('therapeutic_frameworks_enabled',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('framework', sa.Text(), nullable=False),
    sa.Column('enabled_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("framework IN ('dbt')", name='assistant_framework'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'framework'),
    schema='ai_context'
    )
    create_user_settings('ai_context')
    create_kit_tables('ai_context')
    op.execute(service_sql("mood_tracking", "v3.sql"))


def downgrade() -> None:
    op.execute(service_sql("mood_tracking", "v1.sql"))  # shift_facts as before (and log_shift v1)
    op.execute(service_sql("mood_tracking", "v2.sql"))  # log_shift as 0006 left it
    drop_schema("ai_context")
    drop_schema("sessions")

"""notifications: the crisis escalation ladder (crises, their steps), scheduled
reminders, preferences, how to reach the user, missed-dose follow-ups and quiet
check-ins; user_management: what a contact is asked and agreed to beyond crisis
alerts, and their SMS opt-out

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

from migrations.kit_tables import create_user_settings

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SCHEMA = "notifications"


def upgrade() -> None:
    op.add_column('emergency_contacts', sa.Column('scopes', sa.ARRAY(sa.Text()), server_default='{}', nullable=False), schema='user_management')
    op.add_column('emergency_contacts', sa.Column('consented_scopes', sa.ARRAY(sa.Text()), server_default='{}', nullable=False), schema='user_management')
    op.add_column('emergency_contacts', sa.Column('sms_opted_out_at', sa.DateTime(timezone=True), nullable=True), schema='user_management')
    op.create_table('activity_days',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'day'),
    schema='notifications'
    )
    op.create_table('check_ins',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('quiet_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('contact_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'quiet_since'),
    schema='notifications'
    )
    op.create_table('crises',
    sa.Column('crisis_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('rules', sa.ARRAY(sa.Text()), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Text(), server_default='open', nullable=False),
    sa.Column('next_step', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('next_step_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_step', sa.SmallInteger(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'acknowledged', 'exhausted')", name='crisis_status'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('crisis_id'),
    schema='notifications'
    )
    op.create_index('crises_due', 'crises', ['next_step_at'], unique=False, schema='notifications', postgresql_where="status = 'open'")
    op.create_index(op.f('ix_notifications_crises_user_id'), 'crises', ['user_id'], unique=False, schema='notifications')
    op.create_table('dose_follow_ups',
    sa.Column('medication_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('scheduled_for', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('contact_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('medication_id', 'scheduled_for'),
    schema='notifications'
    )
    op.create_index('dose_follow_ups_due', 'dose_follow_ups', ['due_at'], unique=False, schema='notifications', postgresql_where='claimed_at IS NULL')
    op.create_index(op.f('ix_notifications_dose_follow_ups_user_id'), 'dose_follow_ups', ['user_id'], unique=False, schema='notifications')
    op.create_table('preferences',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('prompt_minutes', sa.SmallInteger(), nullable=False),
    sa.Column('contact_minutes', sa.SmallInteger(), nullable=False),
    sa.Column('skip_prompt_for', sa.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('quiet_start', sa.Time(), nullable=True),
    sa.Column('quiet_end', sa.Time(), nullable=True),
    sa.Column('check_in_after_days', sa.SmallInteger(), nullable=True),
    sa.Column('check_in_contact_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('check_in_contact_after_days', sa.SmallInteger(), nullable=True),
    sa.Column('dose_contact_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('dose_contact_after_minutes', sa.SmallInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id'),
    schema='notifications'
    )
    op.create_table('recipients',
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('country', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id'),
    schema='notifications'
    )
    op.create_table('scheduled_reminders',
    sa.Column('reminder_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('medication_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('instrument', sa.Text(), nullable=True),
    sa.Column('times', sa.ARRAY(sa.Text()), nullable=False),
    sa.Column('days_of_week', sa.ARRAY(sa.Text()), nullable=True),
    sa.Column('every_n_days', sa.SmallInteger(), nullable=True),
    sa.Column('every_n_weeks', sa.SmallInteger(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('channels', sa.ARRAY(sa.Text()), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snoozed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snooze_token_hash', sa.Text(), nullable=True),
    sa.Column('last_fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind = 'medication') = (medication_id IS NOT NULL)", name='reminder_medication'),
    sa.CheckConstraint("kind IN ('medication', 'diary', 'routine', 'questionnaire')", name='reminder_kind'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('reminder_id'),
    sa.UniqueConstraint('snooze_token_hash'),
    schema='notifications'
    )
    op.create_index(op.f('ix_notifications_scheduled_reminders_user_id'), 'scheduled_reminders', ['user_id'], unique=False, schema='notifications')
    op.create_index('reminders_due', 'scheduled_reminders', ['next_due_at'], unique=False, schema='notifications', postgresql_where='active')
    op.create_index('reminders_medication', 'scheduled_reminders', ['medication_id'], unique=False, schema='notifications', postgresql_where='medication_id IS NOT NULL')
    op.create_table('crisis_steps',
    sa.Column('crisis_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('step', sa.SmallInteger(), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('contact_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('contact_name', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('skipped', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('token_hash', sa.Text(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("target IN ('user', 'contact')", name='step_target'),
    sa.ForeignKeyConstraint(['crisis_id'], ['notifications.crises.crisis_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('crisis_id', 'step'),
    sa.UniqueConstraint('token_hash'),
    schema='notifications'
    )
    create_user_settings(SCHEMA)
    # How to reach each existing user (new changes arrive as user.reach_changed).
    op.execute("""
        INSERT INTO notifications.recipients (user_id, email, phone, display_name, country, updated_at)
        SELECT u.user_id, u.email, p.phone, p.display_name, p.country, p.updated_at
        FROM user_management.users u JOIN user_management.user_profiles p USING (user_id)
    """)


def downgrade() -> None:
    for name in ("crisis_steps", "crises", "scheduled_reminders", "preferences", "recipients",
                 "activity_days", "check_ins", "dose_follow_ups", "user_settings"):
        op.drop_table(name, schema=SCHEMA)
    for column in ("scopes", "consented_scopes", "sms_opted_out_at"):
        op.drop_column("emergency_contacts", column, schema="user_management")

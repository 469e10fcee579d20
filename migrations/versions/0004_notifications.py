"""notifications: alerts and invitations, crisis lines per country

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from migrations.kit_tables import create_kit_tables, create_schema, drop_schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "notifications"


def upgrade() -> None:
    create_schema(SCHEMA)
    op.create_table('crisis_lines',
    sa.Column('country', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('contact', sa.Text(), nullable=False),
    sa.Column('emergency_number', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('country'),
    schema='notifications'
    )
    op.create_table('notifications',
    sa.Column('notification_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('reference', sa.Text(), nullable=False),
    sa.Column('contact_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('contact_name', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('recipient', sa.Text(), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('provider_message_id', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('email', 'sms')", name='notification_channel'),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'uncertain')", name='notification_status'),
    sa.ForeignKeyConstraint(['user_id'], ['user_management.users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notification_id'),
    sa.UniqueConstraint('kind', 'reference', 'contact_id', 'channel', name='once_per_contact_and_channel'),
    schema='notifications'
    )
    op.create_index('notifications_due', 'notifications', ['next_attempt_at'], unique=False, schema='notifications', postgresql_where="status = 'pending'")
    op.create_index('notifications_user', 'notifications', ['user_id', 'created_at'], unique=False, schema='notifications')
    create_kit_tables(SCHEMA)

    crisis_lines = sa.table(
        "crisis_lines", sa.column("country"), sa.column("name"), sa.column("contact"),
        sa.column("emergency_number"), schema=SCHEMA,
    )
    op.bulk_insert(crisis_lines, [
        {"country": "*", "name": "Find A Helpline", "contact": "findahelpline.com", "emergency_number": "your local emergency number"},
        {"country": "US", "name": "988 Suicide & Crisis Lifeline", "contact": "call or text 988", "emergency_number": "911"},
        {"country": "CA", "name": "9-8-8 Suicide Crisis Helpline", "contact": "call or text 988", "emergency_number": "911"},
        {"country": "GB", "name": "Samaritans", "contact": "call 116 123, or text SHOUT to 85258", "emergency_number": "999"},
        {"country": "IE", "name": "Samaritans", "contact": "call 116 123, or text 50808", "emergency_number": "112 or 999"},
        {"country": "AU", "name": "Lifeline", "contact": "call 13 11 14, or text 0477 13 11 14", "emergency_number": "000"},
        {"country": "NZ", "name": "Need to talk?", "contact": "call or text 1737", "emergency_number": "111"},
        {"country": "DE", "name": "TelefonSeelsorge", "contact": "call 0800 111 0 111", "emergency_number": "112"},
        {"country": "FR", "name": "3114 (prévention du suicide)", "contact": "call 3114", "emergency_number": "112"},
        {"country": "ES", "name": "Línea 024", "contact": "call 024", "emergency_number": "112"},
        {"country": "NL", "name": "113 Zelfmoordpreventie", "contact": "call 113 or 0800-0113", "emergency_number": "112"},
    ])


def downgrade() -> None:
    drop_schema(SCHEMA)

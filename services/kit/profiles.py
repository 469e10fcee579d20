"""A service's copy of the profile settings it needs to do its work alone: the
user's time zone (a "day" is the user's local day), kept current from
``user.profile_changed`` events.

    class DbtDiaryService(ProfileCopy, DomainService): ...     # the handler
    models.py:   UserSettings = user_settings_table(Base.metadata)   # the table
    migration:   create_user_settings(SCHEMA)  (migrations/kit_tables.py)

Events may arrive out of order: the newest change wins. A user not (yet) known
here is in UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import Column, DateTime, ForeignKey, MetaData, Table, Text, func, select
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.orm import Session

from services.kit.columns import USERS_FK
from services.kit.db import reference_users
from services.kit.events import event_handler


def user_settings_table(metadata: MetaData) -> Table:
    reference_users(metadata)  # so the foreign key to the account resolves
    return Table(
        "user_settings", metadata,
        Column("user_id", UUID(as_uuid=False), ForeignKey(USERS_FK, ondelete="CASCADE"),
               primary_key=True),
        Column("timezone", Text, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


@cache
def _table(schema: str) -> Table:
    return user_settings_table(MetaData(schema=schema))


def save_timezone(db, user_id: str, name: str, changed_at: datetime) -> None:
    """Keep the newest time zone (events may arrive out of order)."""
    table = _table(db.schema)
    statement = insert(table).values(user_id=user_id, timezone=name, updated_at=changed_at)
    db.execute(statement.on_conflict_do_update(
        index_elements=[table.c.user_id],
        set_={"timezone": statement.excluded.timezone, "updated_at": statement.excluded.updated_at},
        where=table.c.updated_at < statement.excluded.updated_at,
    ))


def timezone_of(db: Session, user_id: str) -> ZoneInfo:
    table = _table(db.schema)
    name = db.scalar(select(table.c.timezone).where(table.c.user_id == user_id))
    return ZoneInfo(name or "UTC")


def local_today(db: Session, user_id: str) -> date:
    return datetime.now(timezone.utc).astimezone(timezone_of(db, user_id)).date()


class ProfileCopy:
    """Mixin for a DomainService that keeps the user's time zone in its schema."""

    @event_handler("user_management", "user.profile_changed")
    def remember_timezone(self, event):
        data = event["data"]
        save_timezone(self.db, data["user_id"], data["timezone"],
                      datetime.fromisoformat(event["occurred_at"]))

"""Columns every service's tables share: ids, the owning user, timestamps; and
the marks that say what a column is to its owner (services/kit/records.py):

- ``PRIVATE``: never shown (a token's digest);
- ``MANAGED``: shown, but set by the service, never by the owner's edits
  (timestamps, a consent state the other person decides).

Every other column but the owning user's id is shown and, unless it is the
primary key, editable: a table spells each field once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

USERS_FK = "user_management.users.user_id"
PRIVATE = {"private": True}
MANAGED = {"managed": True}


def uuid_pk() -> Mapped[str]:
    return mapped_column(UUID(as_uuid=False), primary_key=True, default=lambda: str(uuid.uuid4()))


def user_ref(*, primary_key: bool = False, index: bool = False) -> Mapped[str]:
    """The owning account: its rows go when the account goes."""
    return mapped_column(
        UUID(as_uuid=False), ForeignKey(USERS_FK, ondelete="CASCADE"),
        primary_key=primary_key, nullable=False, index=index,
    )


def timestamp(*, on_update: bool = False) -> Mapped[datetime]:
    """Set by the database on insert (and by the ORM on update, if asked)."""
    return mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(),
        onupdate=func.now() if on_update else None, info=MANAGED,
    )


def one_of(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's text: ``column`` takes one of ``values``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"

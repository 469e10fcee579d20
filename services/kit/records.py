"""Owned records: every row a user can see carries their user_id, and every
lookup goes through these helpers, so "someone else's id" and "no such id"
answer the same NotFound.

This is the default way a service reads and writes (services/kit/db.py): the
ORM, in the worker's session and transaction. What a record shows and what
its owner may edit come from its table (services/kit/columns.py), so a field
is spelled once, in the model.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timezone
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.kit.errors import NotFound

log = logging.getLogger(__name__)


FOREIGN_KEY_VIOLATION = "23503"


def refers_to_erased_row(exc: IntegrityError) -> bool:
    """A write failed on a foreign key: what it refers to (an account) is gone."""
    return getattr(exc.orig, "sqlstate", None) == FOREIGN_KEY_VIOLATION


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
        return True
    except (TypeError, ValueError):
        return False


def label(model) -> str:
    return getattr(model, "__label__", model.__tablename__)


def get_owned(session: Session, model, user_id: str, record_id: str, *, for_update: bool = False):
    if not is_uuid(record_id):
        raise NotFound(f"{label(model)} not found")
    primary_key = inspect(model).primary_key[0]
    query = select(model).where(primary_key == record_id, model.user_id == user_id)
    if for_update:
        query = query.with_for_update()
    record = session.scalars(query).first()
    if record is None:
        raise NotFound(f"{label(model)} not found")
    return record


def list_owned(session: Session, model, user_id: str, order_by: Iterable = ()):
    return session.scalars(select(model).where(model.user_id == user_id).order_by(*order_by)).all()


def apply_changes(record, changes: dict, allowed: Iterable[str]) -> set[str]:
    """Set the allowed fields present in ``changes``; return the names that changed."""
    changed = set()
    for name in allowed:
        if name in changes and getattr(record, name) != changes[name]:
            setattr(record, name, changes[name])
            changed.add(name)
    return changed


def plain(value: Any) -> Any:
    """A value as it travels over RPC: JSON types only."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def to_dict(record, fields: Iterable[str] | None = None) -> dict:
    """The record as plain data: the given fields, or every one it shows its owner."""
    names = public_fields(type(record)) if fields is None else fields
    return {name: plain(getattr(record, name)) for name in names}


@cache
def public_fields(model) -> tuple[str, ...]:
    """What a record shows its owner: every column but the owner's id and private ones."""
    return tuple(column.key for column in inspect(model).column_attrs
                 if column.key != "user_id" and not column.columns[0].info.get("private"))


@cache
def editable_fields(model) -> tuple[str, ...]:
    """What the owner may set: the shown columns that are neither keys nor managed."""
    mapper = inspect(model)
    return tuple(name for name in public_fields(model)
                 if not mapper.columns[name].primary_key
                 and not mapper.columns[name].info.get("managed"))


class OwnedRecords:
    """Create/read/update/delete for a table of rows owned by one user."""

    def __init__(self, model, order_by: tuple):
        self.model = model
        self.fields = public_fields(model)
        self.editable = editable_fields(model)
        self.order_by = order_by

    def list(self, db: Session, user_id: str) -> list[dict]:
        return [to_dict(r, self.fields) for r in list_owned(db, self.model, user_id, self.order_by)]

    def get(self, db: Session, user_id: str, record_id: str) -> dict:
        return to_dict(get_owned(db, self.model, user_id, record_id), self.fields)

    def create(self, db: Session, user_id: str, data: dict) -> dict:
        record = self.model(user_id=user_id, **{k: data[k] for k in self.editable if k in data})
        db.add(record)
        db.flush()
        return to_dict(record, self.fields)

    def update(self, db: Session, user_id: str, record_id: str, changes: dict) -> dict:
        record = get_owned(db, self.model, user_id, record_id, for_update=True)
        apply_changes(record, changes, self.editable)
        db.flush()
        return to_dict(record, self.fields)

    def delete(self, db: Session, user_id: str, record_id: str) -> None:
        db.delete(get_owned(db, self.model, user_id, record_id, for_update=True))
        db.flush()

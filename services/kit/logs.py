"""Structured JSON logs with call ids.

Each line carries the service, the nameko call id of the worker that wrote it
(so one request can be followed across services) and the message. Log ids and
event types only: never mood values, notes, contact details or medication names
(see ../shared/domain.md, "Privacy expectations").
"""

from __future__ import annotations

import logging
import logging.config
import os
import traceback

from eventlet import corolocal
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

_context = corolocal.local()


def bind_call(call_id: str | None, service: str | None) -> None:
    _context.call_id = call_id
    _context.service = service


def _is_database_error(value) -> bool:
    # PostgreSQL puts the offending values in its messages ("Key (email)=(...)").
    from psycopg import Error as PsycopgError
    from sqlalchemy.exc import DBAPIError

    return isinstance(value, (DBAPIError, PsycopgError))


def _redacted(exc: BaseException) -> str:
    """The error's kind and SQLSTATE (safe, and enough to debug), not its text."""
    cause = getattr(exc, "orig", None) or exc
    sqlstate = getattr(cause, "sqlstate", None)
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if cause is not exc:
        kind += f" [{type(cause).__qualname__}]"
    if sqlstate:
        kind += f" SQLSTATE {sqlstate}"
    return f"{kind} (detail withheld: may contain user data)"


class ContextFilter(logging.Filter):
    """Adds service and call id; withholds database error text, which can carry data."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.call_id = getattr(_context, "call_id", None)
        record.service = getattr(_context, "service", None) or os.environ.get("SANCTUM_SERVICE")
        if isinstance(record.args, tuple) and any(_is_database_error(a) for a in record.args):
            record.args = tuple(_redacted(a) if _is_database_error(a) else a for a in record.args)
        if record.exc_info and any(_is_database_error(e) for e in _chain(record.exc_info[1])):
            _, exc, tb = record.exc_info
            # Frames (code locations) are safe; the messages of the chain are not.
            causes = " <- ".join(_redacted(e) if _is_database_error(e) else type(e).__qualname__
                                 for e in _chain(exc))
            record.exc_text = ("Traceback (most recent call last):\n"
                               + "".join(traceback.format_tb(tb)) + causes)
            record.exc_info = None
        return True


def _chain(exc: BaseException | None):
    """The exception and everything it was raised from or during."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


class JsonFormatter(_JsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(service)s %(call_id)s %(message)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "asctime": "time"})
        super().__init__(*args, **kwargs)


def configure() -> None:
    """Apply config.yaml's LOGGING section (what `nameko run` does) in other processes."""
    from services.kit import config

    logging.config.dictConfig(config.get("LOGGING"))

"""The shape every domain service shares.

    class MoodTrackingService(DomainService):
        name = "mood_tracking"          # also its PostgreSQL schema

        @rpc
        def log_shift(self, user_id, data): ...

        @event_handler("user_management", "user.deleted")
        def forget_user(self, event): ...

``self.db`` is the worker's session (committed before the caller hears back),
``self.events.dispatch(type, data)`` writes to the outbox in that transaction,
``self.redis`` is the shared Redis client; ``figures`` samples its outbox and queues
for the metrics (kit/telemetry.py). Every service also handles
``user.deleted`` (``forget_user``), answers ``health``, and answers the export
contract (``export_page``: the user's records in its schema, in pages).
"""

import functools
import importlib

from sqlalchemy import MetaData, text

from services.kit import export
from services.kit.db import Database
from services.kit.events import EventDispatcher, event_handler
from services.kit.redis import Redis
from services.kit.rpc import rpc
from services.kit.telemetry import ServiceFigures


class DomainService:
    name: str

    db = Database()
    events = EventDispatcher()
    redis = Redis()
    figures = ServiceFigures()

    @rpc
    def health(self) -> dict:
        self.db.execute(text("SELECT 1"))
        return {"service": self.name, "status": "ok"}

    @rpc
    def export_page(self, user_id: str, cursor: dict | None = None, period: dict | None = None) -> dict:
        """One page of the user's records in this service's schema (services/kit/export.py)."""
        return export.page(self.db, models_of(self.name), self.name, user_id, cursor, period)

    @event_handler("user_management", "user.deleted")
    def forget_user(self, event):
        """Account erasure (GDPR Art. 17). Rows went with the account, as every
        schema's foreign keys cascade; here go the events about the user still
        in this service's outbox, and whatever ``forget`` knows of outside PostgreSQL."""
        user_id = event["data"]["user_id"]
        self.events.erase_subject(user_id)
        self.forget(user_id)

    def forget(self, user_id: str) -> None:
        """Override to drop what a service keeps outside PostgreSQL (caches, files)."""


@functools.cache
def models_of(service_name: str) -> MetaData:
    """The service's tables, as its models declare them."""
    return importlib.import_module(f"services.{service_name}.models").Base.metadata

"""The shape every domain service shares.

    class MoodTrackingService(DomainService):
        name = "mood_tracking"          # also its PostgreSQL schema

        @rpc
        def log_shift(self, user_id, data): ...

        @event_handler("user_management", "user.deleted")
        def forget_user(self, event): ...

``self.db`` is the worker's session (committed before the caller hears back),
``self.events.dispatch(type, data)`` writes to the outbox in that transaction,
``self.redis`` is the shared Redis client. Every service also handles
``user.deleted`` (``forget_user``) and answers ``health``.
"""

from sqlalchemy import text

from services.kit.db import Database
from services.kit.events import EventDispatcher, event_handler
from services.kit.redis import Redis
from services.kit.rpc import rpc


class DomainService:
    name: str

    db = Database()
    events = EventDispatcher()
    redis = Redis()

    @rpc
    def health(self) -> dict:
        self.db.execute(text("SELECT 1"))
        return {"service": self.name, "status": "ok"}

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

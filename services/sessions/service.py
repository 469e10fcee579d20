"""Session management: each user's current state (session memory) kept from events,
and the conversations with the assistant with the turns the user chose to keep.

The current state is read from Redis first (the kit's cache), PostgreSQL on a
miss; every change to it invalidates the user's cache after its commit.
"""

from dataclasses import dataclass
from datetime import timedelta

from nameko.extensions import DependencyProvider

from services.kit import config
from services.kit.cache import Cache
from services.kit.db import database_of, session_scope
from services.kit.events import VIEW_PATIENCE_MS, batch_event_handler, event_handler
from services.kit.loops import WakeableLoop
from services.kit.profiles import ProfileCopy
from services.kit.records import utcnow
from services.kit.rpc import rpc
from services.kit.service import DomainService
from services.sessions import conversations, memory


@dataclass(frozen=True)
class SessionSettings:
    SECTION = "SESSIONS"
    timeout_minutes: float
    sweep_every_seconds: float

    @property
    def timeout(self) -> timedelta:
        return timedelta(minutes=self.timeout_minutes)


class Sweeper(DependencyProvider):
    """In every instance: end idle conversations, delete turns past retention
    (both idempotent statements, so instances need no claim)."""

    def setup(self):
        self.database = database_of(self.container, "Sweeper")

    def start(self):
        self.settings = config.settings(SessionSettings)
        self.loop = WakeableLoop("session sweep", self.step, idle_seconds=self.settings.sweep_every_seconds)
        self.container.spawn_managed_thread(self.loop.run, identifier="session_sweep")

    def stop(self):
        self.loop.stop()

    def step(self) -> bool:
        with session_scope(self.database) as db:
            conversations.sweep(db, utcnow(), self.settings.timeout)
        return False


class SessionsService(ProfileCopy, DomainService):
    name = "sessions"
    cache = Cache("sessions")
    sweeper = Sweeper()

    @property
    def settings(self) -> SessionSettings:
        return config.settings(SessionSettings)

    def _remember(self, user_id: str, updates: list) -> None:
        if memory.apply(self.db, user_id, updates):
            self.db.on_commit(lambda: self.cache.invalidate(user_id))

    # --- session memory, from events ------------------------------------------------------
    @batch_event_handler("mood_tracking", "mood.shift.logged", patience_ms=VIEW_PATIENCE_MS)
    def shifts_logged(self, events):
        """The hot path (every logged shift): one statement per batch."""
        changed = memory.apply_moods(self.db, [event["data"] for event in events])
        if changed:
            self.db.on_commit(lambda: self.cache.invalidate(*changed))

    @event_handler("pattern_analysis", "crisis.detected")
    def crisis_detected(self, event):
        self._remember(event["data"]["user_id"], memory.from_crisis(event["data"]))

    @event_handler("ai_context", "crisis.requested")
    def crisis_requested(self, event):
        self._remember(event["data"]["user_id"], memory.from_crisis(event["data"]))

    @event_handler("notifications", "crisis.acknowledged")
    def crisis_acknowledged(self, event):
        self._remember(event["data"]["user_id"], [memory.from_crisis_acknowledged(event["data"])])

    @event_handler("dbt_diary", "dbt.card.saved")
    def card_saved(self, event):
        self._remember(event["data"]["user_id"], memory.from_card(event["data"]))

    @event_handler("episode_tracking", "episode.recorded")
    def episode_recorded(self, event):
        self._remember(event["data"]["user_id"], [memory.from_episode(event["data"])])

    @event_handler("medications", "medication.dose_missed")
    def dose_missed(self, event):
        self._remember(event["data"]["user_id"], [memory.from_dose_missed(self.db, event["data"])])

    @event_handler("ai_context", "assistant.skill_suggested")
    def skill_suggested(self, event):
        self._remember(event["data"]["user_id"], [memory.from_suggestion(event["data"])])

    @rpc
    def current(self, user_id: str) -> dict:
        return self.cache.get_or_load(user_id, "current", lambda: memory.current(self.db, user_id))

    # --- conversations ----------------------------------------------------------------------
    @rpc
    def begin_turn(self, user_id: str, session_id: str | None, channel: str,
                   disclose_every_hours: float) -> dict:
        return conversations.begin_turn(self.db, user_id, session_id, channel, self.settings.timeout,
                                        timedelta(hours=disclose_every_hours))

    @rpc
    def recent_turns(self, user_id: str, session_id: str, limit: int) -> list:
        return conversations.recent_turns(self.db, user_id, session_id, limit)

    @event_handler("ai_context", "assistant.exchanged")
    def exchanged(self, event):
        """The turns of an exchange, kept for the user's retention (none if it is 0)."""
        data = event["data"]
        conversations.keep_turns(self.db, data["user_id"], data["session_id"], data["turns"])

    @rpc
    def list_sessions(self, user_id: str) -> list:
        return conversations.list_sessions(self.db, user_id, self.settings.timeout)

    @rpc
    def session_logs(self, user_id: str, session_id: str) -> list:
        return conversations.logs(self.db, user_id, session_id)

    @rpc
    def delete_session_logs(self, user_id: str, session_id: str) -> None:
        conversations.delete_logs(self.db, user_id, session_id)

    @rpc
    def get_settings(self, user_id: str) -> dict:
        return conversations.get_settings(self.db, user_id)

    @rpc
    def set_settings(self, user_id: str, changes: dict) -> dict:
        return conversations.set_settings(self.db, user_id, changes)

    def forget(self, user_id: str) -> None:
        self.db.on_commit(lambda: self.cache.forget(user_id))

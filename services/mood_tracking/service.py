"""Mood tracking: shifts on the Life Chart scale, daily baselines, rapid-cycling days.

Reads go through the per-user Redis cache (a write bumps the user's cache
generation after commit); every write publishes its event through the outbox.
"""

import logging

from services.kit import metrics
from services.kit.cache import Cache, read_name
from services.kit.contracts import mood
from services.kit.profiles import ProfileCopy
from services.kit.rpc import rpc
from services.kit.service import DomainService
from services.mood_tracking import shifts

log = logging.getLogger(__name__)


class MoodTrackingService(ProfileCopy, DomainService):
    name = "mood_tracking"
    cache = Cache(mood.CACHE)

    def _after_write(self, user_id: str) -> None:
        self.db.on_commit(lambda: self.cache.invalidate(user_id))

    @rpc
    def log_shift(self, user_id: str, data: dict, request_id: str) -> dict:
        event = self.events.new_row("mood.shift.logged", None, subject_id=user_id)
        shift, payload = shifts.create(self.db, user_id, data, request_id, event)
        if payload is not None:  # None: a repeat of a request already done
            self.events.written({**event, "payload": payload})
            self._after_write(user_id)
            self.db.on_commit(lambda: metrics.count("sanctum_mood_shifts_logged_total"))
        return shift

    @rpc
    def correct_shift(self, user_id: str, shift_id: str, changes: dict) -> dict:
        shift, facts = shifts.update(self.db, user_id, shift_id, changes)
        self.events.dispatch("mood.shift.corrected", facts, subject_id=user_id)
        self._after_write(user_id)
        return shift

    @rpc
    def delete_shift(self, user_id: str, shift_id: str) -> None:
        shifts.remove(self.db, user_id, shift_id)
        self._after_write(user_id)

    @rpc
    def list_shifts(self, user_id: str, query: dict) -> dict:
        return self.cache.get_or_load(
            user_id, read_name(mood.SHIFTS, query), lambda: shifts.page(self.db, user_id, query)
        )

    @rpc
    def get_shift(self, user_id: str, shift_id: str) -> dict:
        return self.cache.get_or_load(
            user_id, read_name(mood.SHIFT + shift_id), lambda: shifts.one(self.db, user_id, shift_id)
        )

    @rpc
    def daily_baselines(self, user_id: str, query: dict) -> list:
        return self.cache.get_or_load(
            user_id, read_name(mood.BASELINES, query),
            lambda: shifts.baselines(self.db, user_id, query["from"], query["to"]),
        )

    @rpc
    def rapid_cycling_days(self, user_id: str, query: dict) -> list:
        return self.cache.get_or_load(
            user_id, read_name(mood.CYCLING, query),
            lambda: shifts.rapid_cycling_days(self.db, user_id, query["from"], query["to"]),
        )

    def forget(self, user_id: str) -> None:
        self.db.on_commit(lambda: self.cache.forget(user_id))

"""Mood shifts, daily baselines, rapid-cycling days.

Reads are answered from the mood service's cache when it holds them (kit/cache.py:
no RPC on a hit); a miss asks the service, which loads and caches the answer."""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import mood as s
from gateway.schemas.common import DayRange, day_range
from services.kit.cache import CacheReader, read_name
from services.kit.contracts import mood as contract


def cached_or(value, ask):
    return value if value is not None else ask()


def shift_query(query: dict) -> dict:
    return {"from": query.get("from_"), "to": query.get("to"), "limit": query["limit"],
            "cursor": query.get("cursor")}


class MoodRoutes(ServiceClients):
    mood_cache = CacheReader(contract.CACHE)

    @route("POST", "/api/v1/mood/shift", body=s.ShiftCreate, response=s.Shift, status=201,
           tags=["mood"], errors=[422], idempotent=True)
    def log_shift(self, call):
        """Log a mood shift; crisis rules run on it at once.

        Send an Idempotency-Key header to make retries safe: the same key
        returns the shift already logged instead of logging it twice."""
        return self.mood.log_shift(call.user_id, call.body, call.request_id)

    @route("GET", "/api/v1/mood/shifts", query=s.ShiftQuery, response=s.ShiftPage, tags=["mood"], errors=[422])
    def list_shifts(self, call):
        """Newest first, within [from, to); follow next_cursor for more."""
        query = shift_query(call.query)
        return cached_or(self.mood_cache.peek(call.user_id, read_name(contract.SHIFTS, query)),
                         lambda: self.mood.list_shifts(call.user_id, query))

    @route("GET", "/api/v1/mood/shifts/<shift_id>", response=s.Shift, tags=["mood"])
    def get_shift(self, call, shift_id):
        return cached_or(self.mood_cache.peek(call.user_id, read_name(contract.SHIFT + shift_id)),
                         lambda: self.mood.get_shift(call.user_id, shift_id))

    @route("PATCH", "/api/v1/mood/shifts/<shift_id>", body=s.ShiftUpdate, response=s.Shift,
           tags=["mood"], errors=[422])
    def correct_shift(self, call, shift_id):
        """Correct an entry; baselines and crisis rules follow the correction."""
        return self.mood.correct_shift(call.user_id, shift_id, call.body)

    @route("DELETE", "/api/v1/mood/shifts/<shift_id>", status=204, tags=["mood"])
    def delete_shift(self, call, shift_id):
        self.mood.delete_shift(call.user_id, shift_id)

    @route("GET", "/api/v1/mood/baselines", query=DayRange, response=s.Baseline(many=True),
           tags=["mood"], errors=[422])
    def daily_baselines(self, call):
        """Per day: peak elevation and depression, irritability, anxiety, sleep."""
        query = day_range(call.query)
        return cached_or(self.mood_cache.peek(call.user_id, read_name(contract.BASELINES, query)),
                         lambda: self.mood.daily_baselines(call.user_id, query))

    @route("GET", "/api/v1/mood/rapid-cycling", query=DayRange,
           response=s.RapidCyclingDay(many=True), tags=["mood"], errors=[422])
    def rapid_cycling_days(self, call):
        """Days with two or more polarity crossings (a pattern, not a diagnosis)."""
        query = day_range(call.query)
        return cached_or(self.mood_cache.peek(call.user_id, read_name(contract.CYCLING, query)),
                         lambda: self.mood.rapid_cycling_days(call.user_id, query))

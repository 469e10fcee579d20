"""Mood shifts, daily baselines, rapid-cycling days.

Reads are answered from the mood service's cache when it holds them (``cached=``: no
worker and no RPC on a hit); a miss runs the handler, which asks the service."""

from gateway.clients import ServiceClients
from gateway.http import CachedRead, route
from gateway.schemas import mood as s
from gateway.schemas.common import DayRange, day_range
from services.kit.cache import read_name
from services.kit.contracts import mood as contract


def cached(name: str, query=None, path_id: str | None = None) -> CachedRead:
    """The mood cache's entry for a read: ``name`` and the query as the service gets it."""
    def entry(call) -> str:
        if path_id:
            return read_name(name + call.request.path_values[path_id])
        return read_name(name, query(call.query))
    return CachedRead(contract.CACHE, entry)


def shift_query(query: dict) -> dict:
    return {"from": query.get("from_"), "to": query.get("to"), "limit": query["limit"],
            "cursor": query.get("cursor")}


class MoodRoutes(ServiceClients):
    @route("POST", "/api/v1/mood/shift", body=s.ShiftCreate, response=s.Shift, status=201,
           tags=["mood"], errors=[422], idempotent=True)
    def log_shift(self, call):
        """Log a mood shift; crisis rules run on it at once.

        Send an Idempotency-Key header to make retries safe: the same key
        returns the shift already logged instead of logging it twice."""
        return self.mood.log_shift(call.user_id, call.body, call.request_id)

    @route("GET", "/api/v1/mood/shifts", query=s.ShiftQuery, response=s.ShiftPage, tags=["mood"],
           errors=[422], cached=cached(contract.SHIFTS, shift_query))
    def list_shifts(self, call):
        """Newest first, within [from, to); follow next_cursor for more."""
        return self.mood.list_shifts(call.user_id, shift_query(call.query))

    @route("GET", "/api/v1/mood/shifts/<shift_id>", response=s.Shift, tags=["mood"],
           cached=cached(contract.SHIFT, path_id="shift_id"))
    def get_shift(self, call, shift_id):
        return self.mood.get_shift(call.user_id, shift_id)

    @route("PATCH", "/api/v1/mood/shifts/<shift_id>", body=s.ShiftUpdate, response=s.Shift,
           tags=["mood"], errors=[422])
    def correct_shift(self, call, shift_id):
        """Correct an entry; baselines and crisis rules follow the correction."""
        return self.mood.correct_shift(call.user_id, shift_id, call.body)

    @route("DELETE", "/api/v1/mood/shifts/<shift_id>", status=204, tags=["mood"])
    def delete_shift(self, call, shift_id):
        self.mood.delete_shift(call.user_id, shift_id)

    @route("GET", "/api/v1/mood/baselines", query=DayRange, response=s.Baseline(many=True),
           tags=["mood"], errors=[422], cached=cached(contract.BASELINES, day_range))
    def daily_baselines(self, call):
        """Per day: peak elevation and depression, irritability, anxiety, sleep."""
        return self.mood.daily_baselines(call.user_id, day_range(call.query))

    @route("GET", "/api/v1/mood/rapid-cycling", query=DayRange,
           response=s.RapidCyclingDay(many=True), tags=["mood"], errors=[422],
           cached=cached(contract.CYCLING, day_range))
    def rapid_cycling_days(self, call):
        """Days with two or more polarity crossings (a pattern, not a diagnosis)."""
        return self.mood.rapid_cycling_days(call.user_id, day_range(call.query))

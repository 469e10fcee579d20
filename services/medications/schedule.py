"""When doses are due: a prescription's structured schedule expanded into dose
times, in the user's time zone (so 08:00 stays 08:00 across daylight-saving
changes). Recurrence by python-dateutil's rrule. Pure functions.

A schedule: ``times`` (HH:MM, local), every day, or on ``days_of_week``, or
``every_n_days`` from its start; ``start_date`` (default: the day the
medication was added) and ``end_date`` (inclusive); or ``as_needed`` (no times).
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, FR, MO, SA, SU, TH, TU, WE, rrule

from services.kit.contracts.medications import WEEKDAYS

RRULE_DAYS = dict(zip(WEEKDAYS, (MO, TU, WE, TH, FR, SA, SU), strict=True))


def due_times(schedule: dict, first: date, last: date, zone: ZoneInfo,
              added_on: date | None = None) -> list[datetime]:
    """Every dose time (UTC) of ``schedule`` on the local days ``first``..``last``."""
    if schedule.get("as_needed") or not schedule.get("times"):
        return []
    start = date.fromisoformat(schedule["start_date"]) if schedule.get("start_date") else added_on
    end = date.fromisoformat(schedule["end_date"]) if schedule.get("end_date") else None
    first = max(first, start) if start else first
    last = min(last, end) if end else last
    if first > last:
        return []
    anchor = start or first  # every N days counts from the schedule's start
    weekdays = [RRULE_DAYS[d] for d in schedule.get("days_of_week") or []] or None
    found = []
    for text in schedule["times"]:
        hour, minute = (int(part) for part in text.split(":"))
        rule = rrule(DAILY, interval=schedule.get("every_n_days") or 1, byweekday=weekdays,
                     dtstart=datetime.combine(anchor, time(hour, minute)))
        for local in rule.between(datetime.combine(first, time.min),
                                  datetime.combine(last, time.max), inc=True):
            found.append(local.replace(tzinfo=zone).astimezone(timezone.utc))
    return sorted(found)


def nearest(times: list[datetime], moment: datetime, within_hours: float = 6) -> datetime | None:
    """The dose time a dose taken at ``moment`` is for: the nearest within a few hours."""
    close = [t for t in times if abs((t - moment).total_seconds()) <= within_hours * 3600]
    return min(close, key=lambda t: abs((t - moment).total_seconds())) if close else None

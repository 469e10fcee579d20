"""What the shifts of a day, or of the last 24 hours, mean. Pure functions.

Scale: NIMH Life Chart Method, -4 (severe depression) .. 0 (euthymic) .. +4
(severe elevation), with a mixed flag beside the number (../shared/domain.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

STATES = (
    "calm", "content", "happy", "energetic", "elevated", "euphoric",
    "irritable", "agitated", "angry", "anxious", "restless", "overwhelmed",
    "sad", "low", "numb", "empty", "tired",
)
IRRITABLE_STATES = frozenset({"irritable", "agitated", "angry"})
ANXIOUS_STATES = frozenset({"anxious", "restless", "overwhelmed"})
SEVERITY_LABELS = ("none", "mild", "moderate", "severe")
RAPID_CYCLING_CROSSINGS = 2


class Shift(Protocol):
    occurred_at: datetime
    previous_level: int
    current_level: int
    current_mixed: bool
    current_state: str | None
    intensity: int
    sleep_hours: float | None


def severity(intensity: int) -> int:
    """Intensity 1-10 as eMoods' none/mild/moderate/severe (1-3)."""
    if intensity <= 3:
        return 1
    if intensity <= 7:
        return 2
    return 3


def _sign(level: int) -> int:
    return (level > 0) - (level < 0)


def polarity_crossings(shifts: Iterable[Shift]) -> int:
    """Changes between the depressed and elevated sides, in time order.

    Each shift contributes where it came from and where it went; euthymic (0)
    is on neither side, so -2 -> 0 -> +1 is one crossing.
    """
    signs = []
    for shift in sorted(shifts, key=lambda s: s.occurred_at):
        for level in (shift.previous_level, shift.current_level):
            sign = _sign(level)
            if sign and (not signs or signs[-1] != sign):
                signs.append(sign)
    return max(0, len(signs) - 1)


def day_summary(shifts: list[Shift]) -> dict:
    """The daily baseline: peaks per pole, irritability and anxiety (peak, 0-3), sleep."""
    ordered = sorted(shifts, key=lambda s: s.occurred_at)
    levels = [s.current_level for s in ordered]
    slept = [s.sleep_hours for s in ordered if s.sleep_hours is not None]

    def peak_severity(states: frozenset) -> int:
        return max((severity(s.intensity) for s in ordered if s.current_state in states), default=0)

    return {
        "peak_elevation": max(0, max(levels)),
        "peak_depression": min(0, min(levels)),
        "irritability": peak_severity(IRRITABLE_STATES),
        "anxiety": peak_severity(ANXIOUS_STATES),
        "mixed": any(s.current_mixed for s in ordered),
        "sleep_hours": slept[-1] if slept else None,  # the latest report of the night's sleep
        "shift_count": len(ordered),
    }


def drop_within_24h(shift: Shift, earlier: Iterable[Shift]) -> int:
    """How far the mood fell to this shift from its highest point in the 24 h before.

    The highest point counts this shift's own starting level and every level
    logged in the preceding 24 hours.
    """
    since = shift.occurred_at - timedelta(hours=24)
    peaks = [shift.previous_level] + [
        s.current_level for s in earlier if since <= s.occurred_at <= shift.occurred_at
    ]
    return max(0, max(peaks) - shift.current_level)

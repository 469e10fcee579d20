"""The four trackers' records (one way for all: create, list by range, get,
correct, delete) and what is worked out from them: an emotion's curve, the
menstrual cycle's days and phases lined up with mood, and the weekly Social
Rhythm Metric."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.kit.contracts.trackers import (
    ANCHOR_MIN_DAYS,
    ANCHORS,
    HIT_WITHIN_MINUTES,
    PERIOD_FLOWS,
    STABLE_SCORE,
)
from services.kit.errors import Conflict
from services.kit.profiles import timezone_of
from services.kit.records import OwnedRecords, to_dict
from services.specialized_trackers.models import (
    Abandonment,
    CycleDay,
    EmotionalIntensity,
    RoutineDay,
)


@dataclass(frozen=True)
class Kind:
    records: OwnedRecords
    when: str  # the column a range is over
    daily: bool  # one record per day (the column is a date)


KINDS = {
    "abandonment": Kind(OwnedRecords(Abandonment, (Abandonment.occurred_at.desc(),)), "occurred_at", False),
    "emotions": Kind(OwnedRecords(EmotionalIntensity, (EmotionalIntensity.onset_at.desc(),)),
                     "onset_at", False),
    "cycle": Kind(OwnedRecords(CycleDay, (CycleDay.day,)), "day", True),
    "routine": Kind(OwnedRecords(RoutineDay, (RoutineDay.day,)), "day", True),
}


def create(db: Session, kind: str, user_id: str, data: dict) -> dict:
    return _one_a_day(db, kind, lambda: KINDS[kind].records.create(db, user_id, data))


def update(db: Session, kind: str, user_id: str, record_id: str, changes: dict) -> dict:
    return _one_a_day(db, kind, lambda: KINDS[kind].records.update(db, user_id, record_id, changes))


def _one_a_day(db: Session, kind: str, write):
    try:
        with db.begin_nested():
            return write()
    except IntegrityError:
        if KINDS[kind].daily:  # one record a day: correct that one instead
            raise Conflict("There is a record for that day already; correct it instead.",
                           {"day": ["Already recorded."]}) from None
        raise


def in_range(db: Session, kind: str, user_id: str, start: date, end: date) -> list:
    spec = KINDS[kind]
    model = spec.records.model
    column = getattr(model, spec.when)
    if spec.daily:
        condition = (column >= start) & (column <= end)
    else:
        zone = timezone_of(db, user_id)
        condition = ((column >= datetime.combine(start, time(), zone))
                     & (column < datetime.combine(end + timedelta(days=1), time(), zone)))
    return list(db.scalars(select(model).where(model.user_id == user_id, condition)
                           .order_by(*spec.records.order_by)))


def listed(db: Session, kind: str, user_id: str, start: date, end: date) -> list[dict]:
    rows = [to_dict(row) for row in in_range(db, kind, user_id, start, end)]
    if kind == "cycle":
        return with_cycle_days(db, user_id, rows)
    return rows


# --- emotions ------------------------------------------------------------------------------

def minutes(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 60, 1)


def curve(rows: list[EmotionalIntensity]) -> dict:
    """Each record's rise (onset to peak) and fall (peak to baseline), and the median
    time from onset back to baseline."""
    episodes = [{"record_id": r.record_id, "intensity": r.intensity,
                 "onset_at": r.onset_at.isoformat(),
                 "peak_at": r.peak_at.isoformat() if r.peak_at else None,
                 "baseline_at": r.baseline_at.isoformat() if r.baseline_at else None,
                 "minutes_to_peak": minutes(r.onset_at, r.peak_at),
                 "minutes_to_baseline": minutes(r.onset_at, r.baseline_at)}
                for r in sorted(rows, key=lambda r: r.onset_at)]
    back = [e["minutes_to_baseline"] for e in episodes if e["minutes_to_baseline"] is not None]
    return {"episodes": episodes,
            "median_minutes_to_baseline": statistics.median(back) if back else None}


# --- the menstrual cycle -------------------------------------------------------------------------

def period_starts(days: dict[date, str]) -> list[date]:
    """A period starts on a bleeding day with no bleeding in the week before it."""
    bleeding = sorted(day for day, flow in days.items() if flow in PERIOD_FLOWS)
    starts = []
    for day in bleeding:
        if not any(d in bleeding for d in (day - timedelta(days=n) for n in range(1, 8))):
            starts.append(day)
    return starts


def phase(day: date, start: date, next_start: date | None, bleeding: bool) -> tuple[int, str, bool]:
    """The cycle day (1 = the period's first day), its phase, and whether the phase is
    an estimate (no next period yet: a 28-day cycle is assumed). Ovulation is taken
    as 14 days before the next period; the 7 days before it are premenstrual."""
    cycle_day = (day - start).days + 1
    estimated = next_start is None
    until_next = ((next_start or start + timedelta(days=28)) - day).days
    if bleeding:
        return cycle_day, "menstrual", False
    if until_next <= 7:
        return cycle_day, "premenstrual", estimated
    if until_next <= 14:
        return cycle_day, "luteal", estimated
    return cycle_day, "follicular", estimated


def with_cycle_days(db: Session, user_id: str, rows: list[dict]) -> list[dict]:
    everything = {r.day: r.flow for r in db.scalars(select(CycleDay).where(CycleDay.user_id == user_id))}
    starts = period_starts(everything)
    for row in rows:
        day = date.fromisoformat(row["day"])
        earlier = [s for s in starts if s <= day]
        if not earlier:
            row.update(cycle_day=None, phase=None, phase_estimated=None)
            continue
        later = [s for s in starts if s > day]
        row["cycle_day"], row["phase"], row["phase_estimated"] = phase(
            day, earlier[-1], later[0] if later else None, row["flow"] in PERIOD_FLOWS)
    return rows


def cycle_mood(days: list[CycleDay], baselines: list[dict]) -> dict:
    """Mood and DRSP in the premenstrual week (the 7 days before a period) against the
    postmenstrual week (cycle days 4-10), per complete cycle: the comparison the DRSP's
    scoring (C-PASS) rests on. At least two cycles are needed to speak of a pattern."""
    by_day = {d.day: d for d in days}
    mood = {date.fromisoformat(b["day"]): b for b in baselines}
    starts = period_starts({d.day: d.flow for d in days})
    cycles = []
    for start, next_start in zip(starts, starts[1:], strict=False):
        pre = [next_start - timedelta(days=n) for n in range(7, 0, -1)]
        post = [start + timedelta(days=n) for n in range(3, 10)]
        cycles.append({"start": start.isoformat(), "next_start": next_start.isoformat(),
                       "length_days": (next_start - start).days,
                       "premenstrual": _week(pre, by_day, mood),
                       "postmenstrual": _week(post, by_day, mood)})
    return {"cycles": cycles, "enough_cycles": len(cycles) >= 2,
            "note": "A pattern to talk over with your clinician, never a diagnosis."}


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _week(week: list[date], by_day: dict, mood: dict) -> dict:
    drsp = [statistics.fmean(by_day[d].drsp.values()) for d in week if d in by_day and by_day[d].drsp]
    return {"days": [d.isoformat() for d in week],
            "mean_peak_depression": _mean([mood[d]["peak_depression"] for d in week if d in mood]),
            "mean_peak_elevation": _mean([mood[d]["peak_elevation"] for d in week if d in mood]),
            "mean_drsp": _mean(drsp), "days_with_mood": sum(d in mood for d in week),
            "days_with_drsp": len(drsp)}


# --- the Social Rhythm Metric ----------------------------------------------------------------------

SRM_METHOD = (
    "SRM-5: for each anchor done on at least 3 days of the week, its habitual time is the "
    "median of the week's times, and each day within 45 minutes of it is a hit; the score is "
    "the mean number of hits (0-7) over those anchors. Bedtimes before noon count as the "
    "night before (00:30 is 24:30). 3.5 or more is treated as a stable rhythm "
    "(Monk et al., J Sleep Res 2002).")


def anchor_minutes(anchor: str, value: time) -> int:
    total = value.hour * 60 + value.minute
    return total + 24 * 60 if anchor == "bed" and value.hour < 12 else total


def regularity(rows: list[RoutineDay], start: date) -> dict:
    anchors = {}
    for anchor in ANCHORS:
        times = [anchor_minutes(anchor, getattr(r, anchor)) for r in rows
                 if getattr(r, anchor) is not None]
        counted = len(times) >= ANCHOR_MIN_DAYS
        habitual = statistics.median(times) if times else None
        hits = sum(abs(t - habitual) <= HIT_WITHIN_MINUTES for t in times) if counted else None
        anchors[anchor] = {"days": len(times), "counted": counted, "hits": hits,
                           "habitual": _clock(habitual) if habitual is not None else None}
    scored = [a["hits"] for a in anchors.values() if a["counted"]]
    score = round(statistics.fmean(scored), 2) if scored else None
    return {"week_start": start.isoformat(), "anchors": anchors, "score": score,
            "stable": None if score is None else score >= STABLE_SCORE, "method": SRM_METHOD}


def _clock(total_minutes: float) -> str:
    total = int(round(total_minutes)) % (24 * 60)
    return f"{total // 60:02d}:{total % 60:02d}"

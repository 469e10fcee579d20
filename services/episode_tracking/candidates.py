"""Episode candidates from daily baselines: runs of consecutive days that reach
the DSM-5 duration thresholds (services/kit/contracts/episodes.py). A candidate
is a suggestion for the user to confirm or dismiss, never a diagnosis and never
an episode on its own. Pure functions.

- manic: 7 or more consecutive days at +2 or above, or a run at +2 or above of
  any length with a day at +4 (severe: cannot function, or hospitalised);
- hypomanic: 4 or more consecutive days at +1 or above, not already manic;
- depressive: 14 or more consecutive days at -2 or below.

A day without a baseline (nothing logged) ends a run: a gap is not evidence.
"""

from __future__ import annotations

from datetime import date, timedelta

from services.kit.contracts.episodes import (
    DEPRESSION_DAYS,
    DEPRESSION_LEVEL,
    HYPOMANIA_DAYS,
    HYPOMANIA_LEVEL,
    MANIA_DAYS,
    MANIA_LEVEL,
)


def runs(days: dict[date, dict], reaches) -> list[list[date]]:
    """Runs of consecutive calendar days whose baseline ``reaches`` the level."""
    found: list[list[date]] = []
    for day in sorted(days):
        if not reaches(days[day]):
            continue
        if found and found[-1][-1] == day - timedelta(days=1):
            found[-1].append(day)
        else:
            found.append([day])
    return found


def candidate(kind: str, run: list[date], days: dict[date, dict], level: str) -> dict:
    peak = max(abs(days[day][level]) for day in run)
    return {
        "candidate_id": f"{kind}-{run[0].isoformat()}", "kind": kind,
        "start_day": run[0].isoformat(), "end_day": run[-1].isoformat(), "days": len(run),
        "peak_severity": peak,
        "supporting_days": [{"day": day.isoformat(), "level": days[day][level]} for day in run],
    }


def find(baselines: list[dict]) -> list[dict]:
    days = {date.fromisoformat(b["day"]): b for b in baselines}
    manic = [run for run in runs(days, lambda b: b["peak_elevation"] >= MANIA_LEVEL)
             if len(run) >= MANIA_DAYS or any(days[d]["peak_elevation"] >= 4 for d in run)]
    manic_days = {day for run in manic for day in run}
    hypomanic = [run for run in runs(days, lambda b: b["peak_elevation"] >= HYPOMANIA_LEVEL)
                 if len(run) >= HYPOMANIA_DAYS and not manic_days & set(run)]
    depressive = [run for run in runs(days, lambda b: b["peak_depression"] <= DEPRESSION_LEVEL)
                  if len(run) >= DEPRESSION_DAYS]
    return sorted(
        [candidate("manic", run, days, "peak_elevation") for run in manic]
        + [candidate("hypomanic", run, days, "peak_elevation") for run in hypomanic]
        + [candidate("depressive", run, days, "peak_depression") for run in depressive],
        key=lambda c: c["start_day"])

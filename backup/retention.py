"""Which backups `prune` keeps: the grandfather-father-son rule restic and borg use.

For each period (hour, day, ISO week, year) keep the newest backup of each of
the N most recent periods that have one. So a week without backups does not
shorten the history, and the newest good backup is always kept.

Each reason maps to a tier of the bucket (store.py): hourly, daily and newest
to daily/ (S3 Standard: Glacier bills 90 days minimum, more than a daily lives),
weekly to weekly/ (Glacier), yearly to annual/ (Deep Archive).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

PERIODS: dict[str, Callable[[datetime], tuple]] = {
    "hourly": lambda t: (t.year, t.month, t.day, t.hour),
    "daily": lambda t: (t.year, t.month, t.day),
    "weekly": lambda t: tuple(t.isocalendar()[:2]),
    "yearly": lambda t: (t.year,),
}
TIER_OF_REASON = {
    "hourly": "daily",
    "daily": "daily",
    "newest": "daily",
    "weekly": "weekly",
    "yearly": "annual",
}
# A backup without a manifest this old is a failed run, not one in progress.
ABANDONED_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Policy:
    hourly: int = 0
    daily: int = 30
    weekly: int = 52
    yearly: int = 7


POLICIES = {
    "postgres": Policy(hourly=0, daily=30, weekly=52, yearly=7),
    "redis": Policy(hourly=48, daily=30, weekly=0, yearly=0),
}


@dataclass
class Plan:
    keep: dict[str, set[str]] = field(default_factory=dict)  # backup id -> reasons
    delete: list[str] = field(default_factory=list)  # every copy goes

    def tiers(self, backup_id: str) -> set[str]:
        return {TIER_OF_REASON[reason] for reason in self.keep.get(backup_id, ())}


def plan(
    good: list[tuple[str, datetime]],
    abandoned: list[tuple[str, datetime]],
    policy: Policy,
    now: datetime,
) -> Plan:
    """good: (id, time) of complete backups; abandoned: of those without a manifest."""
    result = Plan()
    newest_first = sorted(good, key=lambda item: item[1], reverse=True)
    for period, bucket_of in PERIODS.items():
        for backup_id in _newest_per_bucket(newest_first, bucket_of, getattr(policy, period)):
            result.keep.setdefault(backup_id, set()).add(period)
    if newest_first:
        result.keep.setdefault(newest_first[0][0], set()).add("newest")
    result.delete = sorted(bid for bid, _ in good if bid not in result.keep)
    result.delete += sorted(bid for bid, taken in abandoned if now - taken > ABANDONED_AFTER)
    return result


def _newest_per_bucket(newest_first, bucket_of, count: int) -> list[str]:
    kept, last_bucket = [], None
    for backup_id, taken in newest_first:
        if len(kept) >= count:
            break
        bucket = bucket_of(taken)
        if bucket != last_bucket:
            kept.append(backup_id)
            last_bucket = bucket
    return kept

"""Apply the retention policy to the bucket (see retention.py for the rule).

Each backup ends up in exactly the tiers its reasons ask for: copies are made
from the hottest copy (daily/), copies no reason wants are deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from backup import retention
from backup.store import COLD_CLASSES, TIERS, BackupEntry, BackupStore

log = logging.getLogger("sanctum-backup")


@dataclass
class Outcome:
    plan: retention.Plan
    copied: list[tuple[str, str]] = field(default_factory=list)  # (backup id, tier)
    removed: list[tuple[str, str]] = field(default_factory=list)


def unverifiable_newest(store: BackupStore, complete: list[BackupEntry]) -> set[str]:
    """Walk back from the newest backup until one whose artifact matches its manifest.

    Those skipped must not take the newest good backup's place in the policy.
    """
    bad = set()
    for entry in sorted(complete, key=lambda e: e.taken_at, reverse=True):
        if store.get_manifest(entry.backup_id)["artifact"]["size"] == entry.size:
            break
        log.warning("backup %s: artifact size differs from its manifest; not good", entry.backup_id)
        bad.add(entry.backup_id)
    return bad


def prune(
    store: BackupStore, kind: str, policy: retention.Policy, now: datetime, dry_run: bool
) -> Outcome:
    entries = {e.backup_id: e for e in store.list_backups(kind)}
    complete = [e for e in entries.values() if e.complete]
    bad = unverifiable_newest(store, complete)
    good = [(e.backup_id, e.taken_at) for e in complete if e.backup_id not in bad]
    abandoned = [(e.backup_id, e.taken_at) for e in entries.values() if not e.complete]
    outcome = Outcome(retention.plan(good, abandoned, policy, now))
    for backup_id, entry in entries.items():
        if backup_id not in bad:
            _reconcile(store, entry, outcome, dry_run)
    log.info(
        "prune %s: kept %d, copied %d, removed %d copies",
        kind,
        len(outcome.plan.keep),
        len(outcome.copied),
        len(outcome.removed),
    )
    return outcome


def _reconcile(store: BackupStore, entry: BackupEntry, outcome: Outcome, dry_run: bool) -> None:
    wanted = outcome.plan.tiers(entry.backup_id)
    if entry.backup_id not in outcome.plan.keep and entry.backup_id not in outcome.plan.delete:
        return  # incomplete and recent: maybe still running
    source = entry.hottest
    for tier in sorted(wanted - entry.copies.keys(), key=TIERS.index):
        if source is None or source[1].storage_class in COLD_CLASSES:
            log.warning("backup %s: no readable copy to put in %s/", entry.backup_id, tier)
            continue
        if not dry_run:
            store.copy_to_tier(entry.backup_id, source[0], tier)
        outcome.copied.append((entry.backup_id, tier))
    for tier in sorted(entry.copies.keys() - wanted, key=TIERS.index):
        if not dry_run:
            store.delete_copy(entry.backup_id, tier)
        outcome.removed.append((entry.backup_id, tier))

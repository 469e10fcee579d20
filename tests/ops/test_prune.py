"""Prune over a simulated 400 days of daily backups: exactly what the policy says."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from backup.retention import Policy, plan

START = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)  # a Friday
DAYS = 400
NOW = START + timedelta(days=DAYS - 1, hours=1)  # 2025-04-04 03:00, just after the last backup


def backup_id(taken: datetime) -> str:
    return f"postgres-{taken:%Y%m%dT%H%M%SZ}"


def upload(
    s3,
    bucket: str,
    taken: datetime,
    artifact: bytes = b"dump",
    manifest: bool = True,
    manifest_size: int | None = None,
) -> str:
    bid = backup_id(taken)
    s3.put_object(Bucket=bucket, Key=f"daily/postgres/{bid}/dump.pgc", Body=artifact)
    if manifest:
        size = len(artifact) if manifest_size is None else manifest_size
        body = json.dumps({"id": bid, "artifact": {"size": size, "sha256": "-"}}).encode()
        s3.put_object(Bucket=bucket, Key=f"daily/postgres/{bid}/manifest.json", Body=body)
    return bid


def stored(s3, bucket: str) -> dict[str, dict[str, str]]:
    """tier -> {backup id -> storage class of its artifact} (every artifact has its manifest)."""
    artifacts, manifests = {}, set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            tier, _, bid, name = obj["Key"].split("/")
            if name == "dump.pgc":
                artifacts.setdefault(tier, {})[bid] = obj.get("StorageClass", "STANDARD")
            else:
                manifests.add((tier, bid))
                assert obj.get("StorageClass", "STANDARD") == "STANDARD"
    return artifacts


def expected_tiers() -> tuple[set[str], set[str], set[str]]:
    """The policy written out by hand for this calendar: daily, weekly and annual ids."""
    days = [START + timedelta(days=n) for n in range(DAYS)]
    dailies = {backup_id(d) for d in days[-30:]}
    this_week_monday = days[-1] - timedelta(days=days[-1].weekday())
    sundays = [d for d in days if d.weekday() == 6 and d < this_week_monday]
    weeklies = {backup_id(d) for d in sundays[-51:]} | {backup_id(days[-1])}  # 52 ISO weeks
    yearlies = {backup_id(datetime(2024, 12, 31, 2, 0, tzinfo=UTC)), backup_id(days[-1])}
    return dailies, weeklies, yearlies


@pytest.fixture
def four_hundred_days(s3, bucket):
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda n: upload(s3, bucket, START + timedelta(days=n)), range(DAYS)))
    # Two runs that never finished (no manifest): one long dead, one possibly still running.
    dead = upload(s3, bucket, START + timedelta(days=200, hours=5), manifest=False)
    running = upload(s3, bucket, NOW - timedelta(minutes=30), manifest=False)
    return ids, dead, running


def test_prune_400_days_keeps_dailies_weeklies_and_annuals(
    four_hundred_days, backup_cli, s3, bucket
):
    _ids, dead, running = four_hundred_days
    dailies, weeklies, yearlies = expected_tiers()
    # 51 Sundays 2024-04-14..2025-03-30 + the newest (this ISO week); 2024-12-31 is a Tuesday
    assert (len(dailies), len(weeklies), len(yearlies)) == (30, 52, 2)
    kept = dailies | weeklies | yearlies
    assert len(kept) == 30 + (51 - 4) + 1  # 4 of those Sundays are among the dailies

    dry = backup_cli("prune", "--kind", "postgres", "--dry-run", "--now", NOW.isoformat())
    assert dry.returncode == 0, dry.stderr
    assert len(stored(s3, bucket)["daily"]) == DAYS + 2 and "weekly" not in stored(s3, bucket)

    pruned = backup_cli("prune", "--kind", "postgres", "--now", NOW.isoformat(), timeout=300)
    assert pruned.returncode == 0, pruned.stderr
    tiers = stored(s3, bucket)
    assert set(tiers["daily"]) == dailies | {running}
    assert dead not in tiers["daily"]
    assert set(tiers["weekly"]) == weeklies and set(tiers["annual"]) == yearlies
    assert set(tiers["daily"].values()) == {"STANDARD"}
    assert set(tiers["weekly"].values()) == {"GLACIER"}
    assert set(tiers["annual"].values()) == {"DEEP_ARCHIVE"}
    assert f"postgres: keep {len(kept)} (daily 30, weekly 52, annual 2), deleted" in pruned.stdout

    again = backup_cli("prune", "--kind", "postgres", "--now", NOW.isoformat())
    assert again.returncode == 0 and stored(s3, bucket) == tiers  # idempotent


def test_newest_good_backup_survives_any_policy(s3, bucket, backup_cli):
    old = [upload(s3, bucket, START + timedelta(days=n)) for n in range(5)]
    # The newest run's artifact does not match its manifest: it is not "good".
    broken = upload(s3, bucket, START + timedelta(days=5), manifest_size=999)
    zero = ["--keep-hourly", "0", "--keep-daily", "0", "--keep-weekly", "0", "--keep-yearly", "0"]

    pruned = backup_cli("prune", "--kind", "postgres", "--now", NOW.isoformat(), *zero)

    assert pruned.returncode == 0, pruned.stderr
    assert stored(s3, bucket) == {"daily": {old[-1]: "STANDARD", broken: "STANDARD"}}


def test_a_gap_in_backups_does_not_shorten_the_history():
    taken = [START + timedelta(days=n) for n in range(10)] + [START + timedelta(days=60)]
    result = plan([(backup_id(t), t) for t in taken], [], Policy(daily=5, weekly=0, yearly=0), NOW)
    assert sorted(result.keep) == sorted(backup_id(t) for t in taken[-5:])

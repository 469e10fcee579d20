"""The mood write's SQL functions (migration 0005), on the real database: what a
day's shifts mean, and logging a shift in one statement."""

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from services.kit import config

DAY = datetime(2026, 3, 10, tzinfo=timezone.utc)


@pytest.fixture
def db(migrated_database):
    engine = create_engine(config.kit().database_url)
    with engine.connect() as conn:
        transaction = conn.begin()
        yield conn
        transaction.rollback()  # nothing these tests write stays
    engine.dispose()


@pytest.fixture
def user_id(db):
    user_id = str(uuid.uuid4())
    db.execute(text("INSERT INTO user_management.users (user_id, email, password_hash) "
                    "VALUES (:u, :e, 'x')"), {"u": user_id, "e": f"{user_id}@example.test"})
    return user_id


def log(db, user_id, hour, previous, current, **extra):
    event = {"event_id": str(uuid.uuid4()), "event_type": "mood.shift.logged", "data": None}
    values = {"previous_mixed": False, "previous_state": None, "current_mixed": False,
              "current_state": None, "intensity": 5, "triggers": [], "note": None,
              "sleep_hours": None, **extra}
    return db.execute(text(
        "SELECT * FROM mood_tracking.log_shift(:u, :r, :t, CAST(:p AS smallint), :previous_mixed,"
        " :previous_state, CAST(:c AS smallint), :current_mixed, :current_state,"
        " CAST(:intensity AS smallint), CAST(:triggers AS text[]), :note,"
        " CAST(:sleep_hours AS numeric), CAST(:event AS jsonb), '{}'::jsonb)"), {
        "u": user_id, "r": str(uuid.uuid4()), "t": DAY + timedelta(hours=hour), "p": previous,
        "c": current, "event": json.dumps(event), **values}).one()


def baseline(db, user_id):
    return db.execute(text("SELECT * FROM mood_tracking.daily_baselines WHERE user_id = :u"),
                      {"u": user_id}).one_or_none()


def cycling(db, user_id):
    return db.execute(text("SELECT crossings FROM mood_tracking.rapid_cycling_days "
                           "WHERE user_id = :u"), {"u": user_id}).scalar()


def test_euthymic_is_on_neither_side_so_passing_through_it_is_one_crossing(db, user_id):
    first = log(db, user_id, 8, -2, 0)
    second = log(db, user_id, 9, 0, 1)
    assert first.event["data"]["crossings_today"] == 0
    assert second.event["data"]["crossings_today"] == 1
    assert second.event["data"]["rapid_cycling_today"] is False
    assert cycling(db, user_id) is None


def test_two_crossings_make_a_rapid_cycling_day_and_a_deletion_can_undo_it(db, user_id):
    log(db, user_id, 8, -1, 2)
    last = log(db, user_id, 9, 2, -1)
    assert last.event["data"]["crossings_today"] == 2
    assert last.event["data"]["rapid_cycling_today"] is True
    assert cycling(db, user_id) == 2
    db.execute(text("DELETE FROM mood_tracking.mood_shifts WHERE shift_id = :s"), {"s": last.shift_id})
    assert db.execute(text("SELECT mood_tracking.refresh_day(:u, :d)"),
                      {"u": user_id, "d": DAY.date()}).scalar() == 1
    assert cycling(db, user_id) is None


def test_the_baseline_keeps_peaks_severities_and_the_latest_sleep(db, user_id):
    log(db, user_id, 7, 0, 3, sleep_hours=4, intensity=2)
    log(db, user_id, 8, 3, -2, current_state="irritable", intensity=9, current_mixed=True)
    log(db, user_id, 6, 0, 1, sleep_hours=8, current_state="restless", intensity=4)  # logged late
    row = baseline(db, user_id)
    assert (row.peak_elevation, row.peak_depression) == (3, -2)
    assert (row.irritability, row.anxiety) == (3, 2)  # severe, moderate
    assert row.mixed is True
    assert float(row.sleep_hours) == 4.0  # the report made latest in the day, not last entered
    assert row.shift_count == 3


def test_a_day_without_shifts_has_no_records(db, user_id):
    only = log(db, user_id, 8, -1, 2)
    log(db, user_id, 9, 2, -1)
    db.execute(text("DELETE FROM mood_tracking.mood_shifts WHERE user_id = :u"), {"u": user_id})
    assert db.execute(text("SELECT mood_tracking.refresh_day(:u, :d)"),
                      {"u": user_id, "d": only.local_date}).scalar() == 0
    assert baseline(db, user_id) is None
    assert cycling(db, user_id) is None


def test_the_drop_counts_from_the_highest_point_of_the_24_hours_before(db, user_id):
    log(db, user_id, -30, 0, 4)  # more than 24 h before: does not count
    log(db, user_id, 2, 0, 2)
    shift = log(db, user_id, 10, 1, -1)
    assert shift.event["data"]["drop_24h"] == 3  # from +2 at 02:00
    rising = log(db, user_id, 11, -1, 0)
    assert rising.event["data"]["drop_24h"] == 2  # from +2, within the 24 h, to 0


def test_a_repeated_request_returns_the_first_shift_and_no_event(db, user_id):
    request_id = str(uuid.uuid4())
    event = json.dumps({"event_id": str(uuid.uuid4()), "event_type": "mood.shift.logged"})
    call = text(
        "SELECT * FROM mood_tracking.log_shift(:u, :r, now(), CAST(0 AS smallint), false, NULL,"
        " CAST(1 AS smallint), false, NULL, CAST(3 AS smallint), '{}', NULL, NULL,"
        " CAST(:e AS jsonb), '{}'::jsonb)")
    first = db.execute(call, {"u": user_id, "r": request_id, "e": event}).one()
    again = db.execute(call, {"u": user_id, "r": request_id, "e": event}).one()
    assert first.event is not None and again.event is None
    assert again.shift_id == first.shift_id
    assert db.execute(text("SELECT count(*) FROM mood_tracking.outbox WHERE subject_id = :u"),
                      {"u": user_id}).scalar() == 1

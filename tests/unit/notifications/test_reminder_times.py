"""When a reminder falls due: local time across daylight-saving changes, quiet
hours, days of the week, every N days or weeks, an end date."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from services.notifications.reminders import in_quiet_hours, next_due

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def daily(*times, **more) -> dict:
    return {"times": list(times), "start_date": "2026-01-01", **more}


def test_eight_in_the_morning_stays_eight_on_both_sides_of_the_spring_change():
    # Europe/London moves from GMT to BST on 2026-03-29.
    before = next_due(daily("08:00"), datetime(2026, 3, 28, 9, 0, tzinfo=UTC), LONDON)
    after = next_due(daily("08:00"), before, LONDON)
    assert before == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 08:00 BST
    assert after == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    saturday = next_due(daily("08:00"), datetime(2026, 3, 27, 9, 0, tzinfo=UTC), LONDON)
    assert saturday == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # 08:00 GMT
    for due in (saturday, before, after):
        assert due.astimezone(LONDON).time() == time(8, 0)


def test_and_across_the_autumn_change():
    # America/New_York goes back from EDT to EST on 2026-11-01.
    first = next_due(daily("08:00"), datetime(2026, 10, 31, 13, 0, tzinfo=UTC), NEW_YORK)
    second = next_due(daily("08:00"), first, NEW_YORK)
    assert first == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # 08:00 EST (UTC-5)
    assert second - first == (datetime(2026, 11, 2, 13, 0, tzinfo=UTC) - first)
    assert first.astimezone(NEW_YORK).time() == second.astimezone(NEW_YORK).time() == time(8, 0)
    before = next_due(daily("08:00"), datetime(2026, 10, 30, 13, 0, tzinfo=UTC), NEW_YORK)
    assert before == datetime(2026, 10, 31, 12, 0, tzinfo=UTC)  # 08:00 EDT (UTC-4)


def test_several_times_a_day_in_order():
    reminder = daily("21:00", "08:00")
    due = next_due(reminder, datetime(2026, 6, 1, 7, 30, tzinfo=UTC), LONDON)  # 08:30 BST
    assert due.astimezone(LONDON).time() == time(21, 0)


def test_quiet_hours_hold_a_reminder_until_they_end():
    assert in_quiet_hours(time(23, 0), time(22, 0), time(7, 0))
    assert in_quiet_hours(time(6, 59), time(22, 0), time(7, 0))
    assert not in_quiet_hours(time(7, 0), time(22, 0), time(7, 0))
    assert in_quiet_hours(time(13, 0), time(12, 0), time(14, 0))
    assert not in_quiet_hours(time(13, 0), None, None)
    due = next_due(daily("06:00"), datetime(2026, 6, 1, 12, 0, tzinfo=UTC), LONDON,
                   (time(22, 0), time(7, 30)))
    assert due.astimezone(LONDON).replace(tzinfo=None) == datetime(2026, 6, 2, 7, 30)


def test_days_of_the_week_every_n_days_and_weeks():
    monday_only = daily("09:00", days_of_week=["mon"])
    due = next_due(monday_only, datetime(2026, 6, 2, 12, 0, tzinfo=UTC), LONDON)  # a Tuesday
    assert due.astimezone(LONDON).date().isoformat() == "2026-06-08"
    every_third_day = daily("09:00", every_n_days=3)  # from 2026-01-01
    due = next_due(every_third_day, datetime(2026, 1, 2, 12, 0, tzinfo=UTC), LONDON)
    assert due.date().isoformat() == "2026-01-04"
    fortnightly = {"times": ["10:00"], "start_date": "2026-06-01", "every_n_weeks": 2,
                   "days_of_week": ["mon"]}
    first = next_due(fortnightly, datetime(2026, 6, 1, 0, 0, tzinfo=UTC), LONDON)
    second = next_due(fortnightly, first, LONDON)
    assert (first.date().isoformat(), second.date().isoformat()) == ("2026-06-01", "2026-06-15")


def test_nothing_is_due_after_the_end_date_or_before_the_start():
    ended = daily("09:00", end_date="2026-02-01")
    assert next_due(ended, datetime(2026, 2, 1, 10, 0, tzinfo=UTC), LONDON) is None
    later = {"times": ["09:00"], "start_date": "2026-09-01"}
    assert next_due(later, datetime(2026, 6, 1, tzinfo=UTC), LONDON).date().isoformat() == "2026-09-01"

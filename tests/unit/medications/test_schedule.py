"""Dose times from a structured schedule, in the user's zone, across DST."""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from services.medications.doses import off_prescription, prescribed_on
from services.medications.schedule import due_times, nearest

LONDON = ZoneInfo("Europe/London")


def test_eight_in_the_morning_stays_eight_across_a_dst_change():
    # Clocks go back in London on 2026-10-25: 08:00 is 07:00 UTC before, 08:00 UTC after.
    times = due_times({"times": ["08:00"]}, date(2026, 10, 24), date(2026, 10, 26), LONDON)
    assert [t.astimezone(LONDON).strftime("%m-%d %H:%M") for t in times] == [
        "10-24 08:00", "10-25 08:00", "10-26 08:00"]
    assert [t.hour for t in times] == [7, 8, 8]  # UTC


def test_days_of_the_week_and_every_n_days():
    weekly = due_times({"times": ["09:00"], "days_of_week": ["mon", "thu"]},
                       date(2026, 11, 30), date(2026, 12, 6), timezone.utc)
    assert [t.date().isoformat() for t in weekly] == ["2026-11-30", "2026-12-03"]
    every_third = due_times({"times": ["09:00"], "every_n_days": 3, "start_date": "2026-11-29"},
                            date(2026, 12, 1), date(2026, 12, 8), timezone.utc)
    assert [t.day for t in every_third] == [2, 5, 8]  # counted from the start, not the range


def test_start_end_and_as_needed():
    schedule = {"times": ["08:00", "20:00"], "start_date": "2026-12-02", "end_date": "2026-12-03"}
    assert len(due_times(schedule, date(2026, 12, 1), date(2026, 12, 9), timezone.utc)) == 4
    assert due_times({"as_needed": True}, date(2026, 12, 1), date(2026, 12, 9), timezone.utc) == []
    assert len(due_times({"times": ["08:00"]}, date(2026, 12, 1), date(2026, 12, 9), timezone.utc,
                         added_on=date(2026, 12, 8))) == 2  # not before it was added


def test_a_dose_is_for_the_nearest_scheduled_time_within_six_hours():
    times = due_times({"times": ["08:00", "20:00"]}, date(2026, 12, 1), date(2026, 12, 1), timezone.utc)
    assert nearest(times, datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)).hour == 8
    assert nearest(times, datetime(2026, 12, 1, 17, 0, tzinfo=timezone.utc)).hour == 20
    assert nearest(times, datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)) is None


class Change:
    def __init__(self, effective, before, after):
        self.effective_date, self.before, self.after = effective, before, after


def test_a_change_applies_from_its_date_forward():
    now = {"dose_amount": 600}
    changes = [Change(date(2026, 11, 20), {"dose_amount": 400}, {"dose_amount": 600})]
    assert prescribed_on(now, changes, date(2026, 11, 19))["dose_amount"] == 400
    assert prescribed_on(now, changes, date(2026, 11, 20))["dose_amount"] == 600
    assert prescribed_on(now, [], date(2026, 1, 1)) == now


def test_off_prescription_compares_amount_and_unit():
    prescribed = {"dose_amount": 400, "dose_unit": "mg"}
    assert not off_prescription({"status": "taken", "amount": 400}, prescribed)
    assert off_prescription({"status": "taken", "amount": 200}, prescribed)
    assert off_prescription({"status": "taken", "amount": 400, "unit": "mcg"}, prescribed)
    assert not off_prescription({"status": "skipped", "amount": 200}, prescribed)
    assert not off_prescription({"status": "taken"}, prescribed)

"""The Social Rhythm Metric, cycle phases and the emotion curve, from known data."""

from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace

from services.specialized_trackers.trackers import curve, period_starts, phase, regularity

MONDAY = date(2026, 11, 23)


def routine(offset, **anchors):
    values = {name: None for name in ("out_of_bed", "first_contact", "work_start", "dinner", "bed")}
    values.update({k: time.fromisoformat(v) for k, v in anchors.items()})
    return SimpleNamespace(day=MONDAY + timedelta(days=offset), **values)


def test_srm5_scores_hits_within_45_minutes_of_the_median():
    rows = [routine(0, out_of_bed="07:00", dinner="19:00", bed="23:00"),
            routine(1, out_of_bed="07:30", dinner="19:10", bed="23:30"),
            routine(2, out_of_bed="07:10", dinner="21:00", bed="00:10"),  # bed after midnight
            routine(3, out_of_bed="09:00", dinner="19:05", bed="23:20"),
            routine(4, out_of_bed="07:05", first_contact="09:00")]
    result = regularity(rows, MONDAY)
    anchors = result["anchors"]
    # out of bed: median 07:10 -> 07:00, 07:30, 07:10, 07:05 hit; 09:00 does not: 4
    assert anchors["out_of_bed"] == {"days": 5, "counted": True, "hits": 4, "habitual": "07:10"}
    # dinner: median 19:07.5 -> 19:00, 19:10, 19:05 hit: 3; bed: 23:00..00:10 around 23:25: 4
    assert anchors["dinner"]["hits"] == 3 and anchors["bed"]["hits"] == 4
    assert anchors["first_contact"]["counted"] is False  # one day only
    assert result["score"] == round((4 + 3 + 4) / 3, 2) and result["stable"] is True


def test_a_period_starts_after_a_week_without_bleeding():
    flows = {date(2026, 10, 1): "medium", date(2026, 10, 2): "heavy", date(2026, 10, 3): "light",
             date(2026, 10, 5): "spotting", date(2026, 10, 29): "medium", date(2026, 10, 30): "light"}
    assert period_starts(flows) == [date(2026, 10, 1), date(2026, 10, 29)]


def test_phases_count_back_from_the_next_period():
    start, following = date(2026, 10, 1), date(2026, 10, 29)
    assert phase(date(2026, 10, 2), start, following, bleeding=True) == (2, "menstrual", False)
    assert phase(date(2026, 10, 8), start, following, bleeding=False) == (8, "follicular", False)
    assert phase(date(2026, 10, 18), start, following, bleeding=False) == (18, "luteal", False)
    assert phase(date(2026, 10, 25), start, following, bleeding=False) == (25, "premenstrual", False)
    assert phase(date(2026, 10, 25), start, None, bleeding=False)[2] is True  # estimated


def test_an_emotion_curve_and_its_median_return_to_baseline():
    onset = datetime(2026, 11, 1, 10, tzinfo=timezone.utc)
    rows = [SimpleNamespace(record_id=str(n), intensity=8, onset_at=onset + timedelta(days=n),
                            peak_at=onset + timedelta(days=n, minutes=10),
                            baseline_at=onset + timedelta(days=n, minutes=back))
            for n, back in enumerate((30, 90, 60))]
    result = curve(rows)
    assert [e["minutes_to_baseline"] for e in result["episodes"]] == [30.0, 90.0, 60.0]
    assert result["episodes"][0]["minutes_to_peak"] == 10.0
    assert result["median_minutes_to_baseline"] == 60.0

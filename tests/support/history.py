"""A user's history, logged through the API as the app would (backdated), for the
report tests and the bench: shifts several times a day, daily diary cards,
medications with their doses, a dose change, episodes, questionnaires.

Every value follows from the day's index, so a test can say what the report must
show without reading the database.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

SHIFT_HOURS = (8, 11, 14, 17, 20)
MEDICATIONS = (
    ("Lithium carbonate", 400, "mg", "21:00"),
    ("Lamotrigine", 100, "mg", "08:00"),
    ("Quetiapine", 50, "mg", "22:00"),
)


def level_on(index: int) -> int:
    """The day's mood: slow waves around euthymia, from -3 to +3."""
    return round(3 * math.sin(2 * math.pi * index / 40))


def sleep_on(index: int) -> float:
    return 7.5 - level_on(index) * 0.5


def skipped(medication: int, index: int) -> bool:
    return medication == 1 and index % 10 == 3


def unlogged(medication: int, index: int) -> bool:
    return medication == 2 and index % 15 == 7


@dataclass
class History:
    first: date
    last: date
    medication_ids: list[str] = field(default_factory=list)
    episode_ids: list[str] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def seed(user, days: int, last: date | None = None, shifts_per_day: int = len(SHIFT_HOURS),
         threads: int = 4) -> History:
    last = last or date.today() - timedelta(days=1)
    history = History(first=last - timedelta(days=days - 1), last=last)
    _medications(user, history)
    work = [(_day, user, history, index, day, shifts_per_day) for index, day in enumerate(history.days)]
    with ThreadPoolExecutor(threads) as pool:
        for result in pool.map(lambda item: item[0](*item[1:]), work):
            assert result is None
    _episodes_and_questionnaires(user, history)
    return history


def _ok(response, *statuses) -> dict:
    assert response.status_code in (statuses or (200, 201)), response.text
    return response.json() if response.content else {}


def _medications(user, history: History) -> None:
    for name, amount, unit, at in MEDICATIONS:
        medication = _ok(user.post("/api/v1/medications", json={
            "name": name, "dose": f"{amount} {unit}", "dose_amount": amount, "dose_unit": unit,
            "schedule": {"times": [at], "start_date": history.first.isoformat()}}))
        history.medication_ids.append(medication["medication_id"])


def _day(user, history: History, index: int, day: date, shifts_per_day: int) -> None:
    level = level_on(index)
    previous = level_on(index - 1) if index else 0
    for hour in SHIFT_HOURS[:shifts_per_day]:
        bump = (hour == 14) * (1 if level > 0 else -1 if level < 0 else 0)
        current = max(-4, min(4, level + bump))
        _ok(user.post("/api/v1/mood/shift", json={
            "previous": {"level": previous}, "current": {"level": current}, "intensity": 5,
            "sleep_hours": sleep_on(index), "timestamp": f"{day.isoformat()}T{hour:02d}:00:00Z"}))
        previous = current
    _ok(user.put(f"/api/v1/dbt/cards/{day.isoformat()}", json={
        "urges": {"self_harm": {"rating": index % 3, "acted": False}},
        "emotions": {"sadness": max(0, -level), "joy": max(0, level)},
        "skills": [{"skill_id": "tipp", "rating": 5 if index % 2 else 4},
                   {"skill_id": "stop", "rating": 7}],
        "medication_as_prescribed": not skipped(1, index)}))
    for number, (medication_id, (_name, _amount, _unit, at)) in enumerate(
            zip(history.medication_ids, MEDICATIONS, strict=True)):
        if unlogged(number, index):
            continue
        _ok(user.post(f"/api/v1/medications/{medication_id}/doses", json={
            "status": "skipped" if skipped(number, index) else "taken",
            "taken_at": f"{day.isoformat()}T{at}:00Z"}))


def _episodes_and_questionnaires(user, history: History) -> None:
    middle = history.first + (history.last - history.first) / 2
    _ok(user.post(f"/api/v1/medications/{history.medication_ids[0]}/changes", json={
        "kind": "dose_changed", "effective_date": middle.isoformat(), "reason": "level low",
        "new": {"dose": "600 mg", "dose_amount": 600, "dose_unit": "mg"}}))
    _ok(user.post(f"/api/v1/medications/{history.medication_ids[1]}/side-effects", json={
        "effect": "headache", "severity": 1, "started_on": history.first.isoformat()}))
    episode = _ok(user.post("/api/v1/episodes", json={
        "kind": "manic", "start_day": (history.first + timedelta(days=5)).isoformat(),
        "end_day": (history.first + timedelta(days=13)).isoformat(), "peak_severity": 3,
        "hospitalised": True}))
    history.episode_ids.append(episode["episode_id"])
    for instrument, answers in (("phq9", [1, 1, 2, 1, 0, 1, 1, 0, 0]),
                                ("gad7", [2, 2, 1, 1, 2, 1, 1]),
                                ("asrm", [1, 0, 1, 1, 0])):
        _ok(user.post(f"/api/v1/questionnaires/{instrument}", json={"answers": answers}))

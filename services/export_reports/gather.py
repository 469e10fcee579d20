"""What a clinician report and a FHIR Bundle hold, asked of each service over RPC
(this service reads no other schema), for one user and one period."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from services.kit.contracts.questionnaires import INSTRUMENTS

# service name -> its RPC proxy (the export service's clients)
Client = Callable[[str], object]
Progress = Callable[[int, str], None]


@dataclass
class ReportData:
    first: date
    last: date
    generated_at: datetime
    profile: dict
    baselines: list[dict]
    cycling_days: list[dict]
    medications: list[dict]
    changes: list[dict]
    adherence: list[dict]
    side_effects: list[dict]
    episodes: list[dict]
    interventions: list[dict]
    cards: list[dict]
    effectiveness: list[dict]
    skill_names: dict[str, str]
    questionnaires: dict[str, list[dict]]
    crises: list[dict]
    flags: list[dict]
    contacts: list[dict] = field(default_factory=list)
    providers: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)


def _within(day_text: str | None, first: date, last: date) -> bool:
    return bool(day_text) and first <= date.fromisoformat(day_text[:10]) <= last


def _overlaps(episode: dict, first: date, last: date) -> bool:
    start = date.fromisoformat(episode["start_day"])
    end = date.fromisoformat(episode["end_day"]) if episode["end_day"] else last
    return start <= last and end >= first


def gather(client: Client, user_id: str, first: date, last: date, generated_at: datetime,
           progress: Progress) -> ReportData:
    query = {"from": first, "to": last}
    users, mood, medications = (client(name) for name in ("user_management", "mood_tracking",
                                                           "medications"))
    progress(5, "reading your profile and medications")
    profile = users.get_profile(user_id)
    medication_list = users.list_medications(user_id)
    progress(15, "reading mood")
    baselines = mood.daily_baselines(user_id, query)
    cycling = mood.rapid_cycling_days(user_id, query)
    progress(30, "reading medication logs")
    changes = [c for c in medications.list_changes(user_id) if _within(c["effective_date"], first, last)]
    adherence = medications.adherence(user_id, query)
    side_effects = medications.list_side_effects(user_id, query)
    progress(40, "reading episodes")
    episode_service = client("episode_tracking")
    episodes = [e for e in episode_service.list_episodes(user_id) if _overlaps(e, first, last)]
    interventions = [
        {**i, "episode_kind": e["kind"]} for e in episodes
        for i in episode_service.list_interventions(user_id, e["episode_id"])
        if _within(i["happened_at"], first, last)]
    progress(50, "reading the diary")
    diary = client("dbt_diary")
    cards = diary.list_cards(user_id, query)
    effectiveness = diary.skill_effectiveness(user_id, query)
    used = sorted({s["skill_id"] for s in effectiveness} | {s["skill_id"] for c in cards for s in c["skills"]})
    skill_names = ({s["skill_id"]: s["name"] for s in client("therapeutic_content").list_skills({})}
                   if used else {})
    progress(60, "reading questionnaires")
    trackers = client("specialized_trackers")
    questionnaires = {name: trackers.questionnaire_history(user_id, name, query) for name in INSTRUMENTS}
    progress(65, "reading crises and patterns")
    notifications = client("notifications")
    crises = [c for c in notifications.list_crises(user_id) if _within(c["detected_at"], first, last)]
    alerts = [a for a in notifications.list_alerts(user_id) if _within(a.get("created_at"), first, last)]
    flags = client("pattern_analysis").list_flags(user_id, query)
    return ReportData(
        first=first, last=last, generated_at=generated_at, profile=profile, baselines=baselines,
        cycling_days=cycling, medications=medication_list, changes=changes, adherence=adherence,
        side_effects=side_effects, episodes=episodes, interventions=interventions, cards=cards,
        effectiveness=effectiveness, skill_names=skill_names, questionnaires=questionnaires,
        crises=crises, flags=flags, contacts=users.list_contacts(user_id),
        providers=users.list_providers(user_id), alerts=alerts)

"""Specialized trackers: BPD abandonment episodes and emotional intensity, the
menstrual cycle (with the DRSP) against mood, the daily routine (SRM-5), and the
scored questionnaires (PHQ-9, GAD-7, ASRM). A completed questionnaire publishes
``questionnaire.completed``; pattern analysis raises a crisis on PHQ-9 item 9."""

from datetime import date, time, timedelta

from services.kit.contracts.trackers import ANCHORS
from services.kit.errors import Unprocessable
from services.kit.profiles import ProfileCopy
from services.kit.rpc import RpcClient, rpc
from services.kit.service import DomainService
from services.specialized_trackers import questionnaires, trackers
from services.specialized_trackers.models import EmotionalIntensity, RoutineDay

COMPLETED = "questionnaire.completed"


def _as_times(data: dict) -> dict:
    """Routine anchors arrive as HH:MM."""
    return {k: time.fromisoformat(v) if k in ANCHORS and v else v for k, v in data.items()}


class SpecializedTrackersService(ProfileCopy, DomainService):
    name = "specialized_trackers"
    content = RpcClient("therapeutic_content")
    mood = RpcClient("mood_tracking")

    # --- the four trackers, one way for all ------------------------------------------------
    def _checked(self, kind: str, data: dict) -> dict:
        if kind == "routine":
            return _as_times(data)
        skill = data.get("skill_id") if kind == "abandonment" else None
        if skill and not self.content.known_skills([skill]):
            raise Unprocessable(fields={"skill_id": ["Not a skill of the library."]})
        return data

    @rpc
    def create_record(self, kind: str, user_id: str, data: dict) -> dict:
        return trackers.create(self.db, kind, user_id, self._checked(kind, data))

    @rpc
    def list_records(self, kind: str, user_id: str, query: dict) -> list:
        return trackers.listed(self.db, kind, user_id, query["from"], query["to"])

    @rpc
    def get_record(self, kind: str, user_id: str, record_id: str) -> dict:
        return trackers.KINDS[kind].records.get(self.db, user_id, record_id)

    @rpc
    def update_record(self, kind: str, user_id: str, record_id: str, changes: dict) -> dict:
        return trackers.update(self.db, kind, user_id, record_id, self._checked(kind, changes))

    @rpc
    def delete_record(self, kind: str, user_id: str, record_id: str) -> None:
        trackers.KINDS[kind].records.delete(self.db, user_id, record_id)

    # --- what the records show -------------------------------------------------------------
    @rpc
    def emotion_curve(self, user_id: str, emotion: str, query: dict) -> dict:
        rows = [r for r in trackers.in_range(self.db, "emotions", user_id, query["from"], query["to"])
                if isinstance(r, EmotionalIntensity) and r.emotion == emotion]
        return {"emotion": emotion, **trackers.curve(rows)}

    @rpc
    def cycle_mood(self, user_id: str, query: dict) -> dict:
        days = trackers.in_range(self.db, "cycle", user_id, query["from"], query["to"])
        baselines = self.mood.daily_baselines(user_id, query)
        return trackers.cycle_mood(days, baselines)

    @rpc
    def routine_regularity(self, user_id: str, start: str) -> dict:
        first = date.fromisoformat(start)
        rows = [r for r in trackers.in_range(self.db, "routine", user_id, first,
                                             first + timedelta(days=6)) if isinstance(r, RoutineDay)]
        return trackers.regularity(rows, first)

    # --- questionnaires -----------------------------------------------------------------------
    @rpc
    def instruments(self) -> list:
        return questionnaires.instruments()

    @rpc
    def submit_questionnaire(self, user_id: str, instrument: str, answers: list) -> dict:
        response, facts = questionnaires.submit(self.db, user_id, instrument, answers)
        self.events.dispatch(COMPLETED, facts, subject_id=user_id)
        return response

    @rpc
    def questionnaire_history(self, user_id: str, instrument: str, query: dict) -> list:
        return questionnaires.history(self.db, user_id, instrument, query["from"], query["to"])

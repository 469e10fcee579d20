"""Pattern analysis: crisis rules over every logged or corrected mood shift."""

import logging

from services.kit import metrics
from services.kit.events import batch_event_handler
from services.kit.rpc import rpc
from services.kit.service import DomainService
from services.pattern_analysis import analysis

log = logging.getLogger(__name__)


class PatternAnalysisService(DomainService):
    name = "pattern_analysis"

    def _analyse(self, events, source=analysis.MOOD_SHIFT) -> None:
        crises = analysis.analyse_all(self.db, events, source)
        for crisis in crises:
            self.events.dispatch("crisis.detected", crisis, subject_id=crisis["user_id"])
            log.info("crisis %s raised from %s %s", crisis["crisis_id"], crisis["source"],
                     crisis["record_id"])
        if crises:
            self.db.on_commit(lambda: metrics.count("sanctum_crises_detected_total", len(crises)))

    @batch_event_handler("mood_tracking", "mood.shift.logged")
    def on_shift_logged(self, events):
        self._analyse(events)

    @batch_event_handler("mood_tracking", "mood.shift.corrected")
    def on_shift_corrected(self, events):
        self._analyse(events)

    @batch_event_handler("dbt_diary", "dbt.card.saved")
    def on_card_saved(self, events):
        self._analyse(events, analysis.DBT_CARD)

    @batch_event_handler("episode_tracking", "episode.recorded")
    def on_episode_recorded(self, events):
        self._analyse(events, analysis.EPISODE)

    @batch_event_handler("specialized_trackers", "questionnaire.completed")
    def on_questionnaire_completed(self, events):
        self._analyse(events, analysis.QUESTIONNAIRE)

    @rpc
    def get_rules(self, user_id: str) -> dict:
        return analysis.get_rules(self.db, user_id)

    @rpc
    def set_rules(self, user_id: str, changes: dict) -> dict:
        return analysis.set_rules(self.db, user_id, changes)

    @rpc
    def list_flags(self, user_id: str, query: dict) -> list:
        return analysis.list_flags(self.db, user_id, query["from"], query["to"])

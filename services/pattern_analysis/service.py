"""Pattern analysis: crisis rules over every logged or corrected mood shift."""

import logging

from services.kit.events import event_handler
from services.kit.rpc import rpc
from services.kit.service import DomainService
from services.pattern_analysis import analysis

log = logging.getLogger(__name__)


class PatternAnalysisService(DomainService):
    name = "pattern_analysis"

    def _analyse(self, event) -> None:
        crisis = analysis.analyse(self.db, event)
        if crisis is not None:
            self.events.dispatch("crisis.detected", crisis, subject_id=crisis["user_id"])
            log.info("crisis %s raised from event %s", crisis["crisis_id"], event["event_id"])

    @event_handler("mood_tracking", "mood.shift.logged")
    def on_shift_logged(self, event):
        self._analyse(event)

    @event_handler("mood_tracking", "mood.shift.corrected")
    def on_shift_corrected(self, event):
        self._analyse(event)

    @rpc
    def get_rules(self, user_id: str) -> dict:
        return analysis.get_rules(self.db, user_id)

    @rpc
    def set_rules(self, user_id: str, changes: dict) -> dict:
        return analysis.set_rules(self.db, user_id, changes)

    @rpc
    def list_flags(self, user_id: str, query: dict) -> list:
        return analysis.list_flags(self.db, user_id, query["from"], query["to"])

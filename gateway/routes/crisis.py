"""Crisis rules, the pattern flags they raise, and the alerts sent to contacts."""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import crisis as s
from gateway.schemas.common import DayRange, day_range


class CrisisRoutes(ServiceClients):
    @route("GET", "/api/v1/alert-rules", response=s.AlertRules, tags=["crisis"])
    def get_alert_rules(self, call):
        return self.patterns.get_rules(call.user_id)

    @route("PATCH", "/api/v1/alert-rules", body=s.AlertRulesUpdate, response=s.AlertRules,
           tags=["crisis"])
    def set_alert_rules(self, call):
        """Tighten the crisis rules (never loosen them)."""
        return self.patterns.set_rules(call.user_id, call.body)

    @route("GET", "/api/v1/patterns/flags", query=DayRange, response=s.PatternFlag(many=True),
           tags=["crisis"], errors=[422])
    def list_flags(self, call):
        return self.patterns.list_flags(call.user_id, day_range(call.query))

    @route("GET", "/api/v1/alerts", response=s.Alert(many=True), tags=["crisis"])
    def list_alerts(self, call):
        """Alerts sent to your contacts on your behalf, newest first."""
        return self.notifications.list_alerts(call.user_id)

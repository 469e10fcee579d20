"""Every process the system runs: the domain services and the gateway,
each as "module:ServiceClass" (what `nameko run` takes).

`make run`, the test stack, queue declaration and the operator shell all read
this list, so a new service is added here once.
"""

SERVICES = {
    "user_management": "services.user_management.service:UserManagementService",
    "mood_tracking": "services.mood_tracking.service:MoodTrackingService",
    "pattern_analysis": "services.pattern_analysis.service:PatternAnalysisService",
    "notifications": "services.notifications.service:NotificationsService",
}

GATEWAY = ("gateway", "gateway.service:GatewayService")


def all_processes() -> list[tuple[str, str]]:
    return [*SERVICES.items(), GATEWAY]

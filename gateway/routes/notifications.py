"""The escalation ladder (crises and their acknowledgements), notification
preferences and reminders."""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import notifications as s


class NotificationRoutes(ServiceClients):
    # --- crises --------------------------------------------------------------------------
    @route("GET", "/api/v1/crises", response=s.Crisis(many=True), tags=["crisis"])
    def list_crises(self, call):
        """Crises raised for you, newest first: each step of the ladder and what was sent."""
        return self.notifications.list_crises(call.user_id)

    @route("GET", "/api/v1/crises/<crisis_id>", response=s.Crisis, tags=["crisis"])
    def get_crisis(self, call, crisis_id):
        return self.notifications.get_crisis(call.user_id, crisis_id)

    @route("POST", "/api/v1/crises/<crisis_id>/acknowledge", body=s.Acknowledgement,
           response=s.Crisis, tags=["crisis"], errors=[409])
    def acknowledge_crisis(self, call, crisis_id):
        """"I'm safe" or "I'm using my plan": nobody more is alerted."""
        return self.notifications.acknowledge(call.user_id, crisis_id, call.body["answer"])

    @route("POST", "/api/v1/crises/acknowledge", auth=False, body=s.LinkAcknowledgement,
           response=s.LinkAcknowledged, tags=["crisis"], errors=[404, 409])
    def acknowledge_by_link(self, call):
        """From the one-time link in a prompt (the user) or an alert (a contact: "I'm on it")."""
        return self.notifications.acknowledge_by_link(call.body["token"], call.body["answer"])

    # --- preferences -------------------------------------------------------------------------
    @route("GET", "/api/v1/notifications/settings", response=s.Preferences, tags=["notifications"])
    def get_notification_settings(self, call):
        return self.notifications.get_preferences(call.user_id)

    @route("PATCH", "/api/v1/notifications/settings", body=s.PreferencesUpdate,
           response=s.Preferences, tags=["notifications"], errors=[422])
    def set_notification_settings(self, call):
        """The ladder's waits, quiet hours for reminders, the quiet check-in, missed doses."""
        return self.notifications.set_preferences(call.user_id, call.body)

    # --- reminders ---------------------------------------------------------------------------
    @route("GET", "/api/v1/reminders", response=s.Reminder(many=True), tags=["reminders"])
    def list_reminders(self, call):
        return self.notifications.list_reminders(call.user_id)

    @route("POST", "/api/v1/reminders", body=s.ReminderCreate, response=s.Reminder, status=201,
           tags=["reminders"], errors=[409, 422])
    def create_reminder(self, call):
        """In your time zone; a medication reminder follows its schedule."""
        return self.notifications.create_reminder(call.user_id, call.body)

    @route("GET", "/api/v1/reminders/<reminder_id>", response=s.Reminder, tags=["reminders"])
    def get_reminder(self, call, reminder_id):
        return self.notifications.get_reminder(call.user_id, reminder_id)

    @route("PATCH", "/api/v1/reminders/<reminder_id>", body=s.ReminderUpdate, response=s.Reminder,
           tags=["reminders"], errors=[422])
    def update_reminder(self, call, reminder_id):
        return self.notifications.update_reminder(call.user_id, reminder_id, call.body)

    @route("DELETE", "/api/v1/reminders/<reminder_id>", status=204, tags=["reminders"])
    def delete_reminder(self, call, reminder_id):
        self.notifications.delete_reminder(call.user_id, reminder_id)

    @route("POST", "/api/v1/reminders/snooze", auth=False, body=s.Snooze, response=s.Snoozed,
           tags=["reminders"], errors=[404, 409])
    def snooze_reminder(self, call):
        """From the link in a reminder (no login): once per reminder sent."""
        return self.notifications.snooze_reminder(call.body["token"], call.body["minutes"])

"""Notifications: what a contact may agree to beyond crisis alerts, the answers
that stop an escalation ladder, reminders and their channels."""

# Every confirmed contact gets crisis alerts; these they agree to separately.
CONTACT_SCOPES = ("check_ins", "missed_doses")
USER_ANSWERS = ("safe", "using_plan")  # "I'm safe", "I'm using my plan"
CONTACT_ANSWER = "on_it"  # "I'm on it"
REMINDER_KINDS = ("medication", "diary", "routine", "questionnaire")
CHANNELS = ("email", "sms")
LADDER_MINUTES = (0, 240)  # how long a rung may wait for its acknowledgement
SNOOZE_MINUTES = (5, 720)

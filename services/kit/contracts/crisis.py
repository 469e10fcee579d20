"""Crisis rules: their names, their defaults, and how far a user may tighten them
(never loosen or switch them off). One table for the service, its tables'
defaults and checks, and the gateway's validation."""

SEVERE_STATE = "severe_state"
DROP_24H = "drop_24h"
USER_THRESHOLD = "user_threshold"
RAPID_CYCLING = "rapid_cycling"
# On a diary card: an urge to suicide at 4 or more, or self-harm acted on.
DBT_SUICIDE_URGE = "dbt_suicide_urge"
DBT_SELF_HARM = "dbt_self_harm"
# Four or more confirmed mood episodes within 12 months: a pattern, never a crisis.
RAPID_CYCLING_EPISODES = "rapid_cycling_episodes"
RAPID_CYCLING_EPISODE_COUNT = 4
# On a PHQ-9: item 9 (thoughts of being better off dead or of self-harm) above 0.
PHQ9_SELF_HARM = "phq9_item9"
# Not a rule: the user said yes when the assistant offered to alert their contacts
# (the ladder then starts at contact 1; the user has just answered).
ASKED_FOR_HELP = "asked_for_help"
RULE_NAMES = (SEVERE_STATE, DROP_24H, USER_THRESHOLD, RAPID_CYCLING, DBT_SUICIDE_URGE,
              DBT_SELF_HARM, RAPID_CYCLING_EPISODES, PHQ9_SELF_HARM)
# What a crisis's ``rules`` may hold.
CRISIS_REASONS = (*RULE_NAMES, ASKED_FOR_HELP)
# Where a flag's record comes from.
SOURCES = ("mood_shift", "dbt_card", "episode", "questionnaire")

RULE_DEFAULTS = {
    "severe_level": 4,            # |level| that is a crisis
    "drop_levels": 3,             # a fall of this many levels within 24 hours
    "depression_threshold": None,  # the user's own: alert at or below this level
    "elevation_threshold": None,   # the user's own: alert at or above this level
    "cooldown_minutes": 360,      # between two alerts
}

# What each may be set to: only tighter than (or equal to) the default.
SEVERE_LEVELS = (3, 4)
DROP_LEVELS = (2, 3)
DEPRESSION_THRESHOLDS = (-4, -1)  # inclusive range
ELEVATION_THRESHOLDS = (1, 4)
COOLDOWN_MINUTES = (5, 360)

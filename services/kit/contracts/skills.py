"""The DBT skills library's vocabulary: modules, and the states and situations a
skill fits (the library's file uses only these; the gateway validates filters
with them)."""

from services.kit.contracts.mood import STATES

MODULES = ("mindfulness", "distress_tolerance", "emotion_regulation",
           "interpersonal_effectiveness")
# A skill fits a mood state, or an urge to act (self-harm, a binge, a fight).
SKILL_STATES = (*STATES, "urge")
SITUATIONS = (
    "conflict", "crisis", "overwhelm", "rumination", "loneliness", "decision",
    "asking_for_something", "saying_no", "relationship_repair", "sleep", "self_care",
    "avoidance", "waiting", "physical_pain", "impulsive_spending", "risky_behaviour",
    "racing_thoughts",
)
SKILL_ID = r"^[a-z0-9_]{1,60}$"
LOCALES = ("en",)

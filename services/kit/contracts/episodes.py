"""Episodes, interventions and the safety plan (../shared/domain.md)."""

MOOD_EPISODES = ("depressive", "manic", "hypomanic", "mixed")
KINDS = (*MOOD_EPISODES, "bpd_crisis", "crisis", "other")
SEVERITY = {1: "mild", 2: "low moderate", 3: "high moderate", 4: "severe"}  # Life Chart, per pole

INTERVENTIONS = ("safety_plan_used", "crisis_line_called", "contact_reached", "clinician_seen",
                 "emergency_services", "hospital_admission", "alert_sent")

# Episode candidates from daily baselines (DSM-5 durations; a suggestion, never a
# diagnosis): the level a day must reach, and for how many consecutive days.
MANIA_LEVEL, MANIA_DAYS = 2, 7  # or any length with a day at +4 (severe, or hospitalised)
HYPOMANIA_LEVEL, HYPOMANIA_DAYS = 1, 4
DEPRESSION_LEVEL, DEPRESSION_DAYS = -2, 14
CANDIDATE_ID = r"^(depressive|manic|hypomanic)-[0-9]{4}-[0-9]{2}-[0-9]{2}$"

# Stanley-Brown safety plan: six ordered steps.
SAFETY_PLAN_STEPS = ("warning_signs", "internal_coping", "distractions", "people_to_ask",
                     "professionals", "environment")

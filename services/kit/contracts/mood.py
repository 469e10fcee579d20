"""The mood scale: NIMH Life Chart Method, -4 (severe depression) .. 0 (euthymic)
.. +4 (severe elevation), with a mixed flag beside the number and a named
state (../shared/domain.md). What the shifts of a day mean (baselines,
polarity crossings, the 24-hour drop) is worked out in SQL, where the shifts
are: services/mood_tracking/sql/.
"""

LEVEL_MIN, LEVEL_MAX = -4, 4

# Named states a shift may carry beside its level. Irritable (irritable,
# agitated, angry) and anxious (anxious, restless, overwhelmed) states feed the
# daily baseline's irritability and anxiety.
STATES = (
    "calm", "content", "happy", "energetic", "elevated", "euphoric",
    "irritable", "agitated", "angry", "anxious", "restless", "overwhelmed",
    "sad", "low", "numb", "empty", "tired",
)
# The baseline's irritability and anxiety: the day's peak intensity among
# those states, as eMoods' none / mild (1-3) / moderate (4-7) / severe (8-10).
SEVERITY_LABELS = ("none", "mild", "moderate", "severe")

# The mood service's cache (kit/cache.py): its namespace, and the names of the reads the
# gateway may answer from it on a hit.
CACHE = "mood"
SHIFTS, SHIFT, BASELINES, CYCLING = "shifts", "shift:", "baselines", "cycling"

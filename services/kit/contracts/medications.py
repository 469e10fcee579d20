"""Medications: the structured schedule of a prescription, dose units, what a dose
log says, side effects and changes."""

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
UNITS = ("mg", "mcg", "g", "ml", "tablet", "capsule", "drop", "puff", "patch", "unit")
DOSE_STATUSES = ("taken", "late", "skipped")
CHANGE_KINDS = ("started", "stopped", "dose_changed", "switched")
SIDE_EFFECT_SEVERITY_MAX = 3  # 0 none .. 3 severe
# A standard list (others are "other", described in free text).
SIDE_EFFECTS = (
    "nausea", "tremor", "weight_gain", "drowsiness", "insomnia", "dizziness", "headache",
    "dry_mouth", "thirst", "frequent_urination", "rash", "restlessness", "blurred_vision",
    "constipation", "diarrhoea", "sexual_dysfunction", "memory_problems", "other",
)

"""The specialized trackers' vocabulary: menstrual flow and the DRSP, the Social
Rhythm Metric's anchors."""

FLOWS = ("none", "spotting", "light", "medium", "heavy")
PERIOD_FLOWS = ("light", "medium", "heavy")  # days that count as the period
DRSP_ITEMS = 21  # each rated 1 (not at all) .. 6 (extreme)
DRSP_IMPAIRMENT = ("work", "social", "relationships")
DRSP_MIN, DRSP_MAX = 1, 6
# SRM-5 (IPSRT): the five anchors of a day.
ANCHORS = ("out_of_bed", "first_contact", "work_start", "dinner", "bed")
HIT_WITHIN_MINUTES = 45
ANCHOR_MIN_DAYS = 3  # an anchor counts in a week's score when done on 3 days or more
STABLE_SCORE = 3.5
INTENSITY_MAX = 10
KINDS = ("abandonment", "emotions", "cycle", "routine")

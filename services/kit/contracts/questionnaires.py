"""The validated questionnaires and their scoring (../shared/domain.md).

Item texts are our own paraphrases, not the published wording. (PHQ-9 and GAD-7
are free to reproduce without permission; ASRM's wording is Altman et al.'s. We
paraphrase all three in one plain voice; the scoring is the published scoring.)
"""

FREQUENCY = "0 not at all, 1 several days, 2 more than half the days, 3 nearly every day"

PHQ9_ITEMS = (
    "Little interest or enjoyment in doing things",
    "Feeling down, low or hopeless",
    "Trouble getting to sleep or staying asleep, or sleeping far too much",
    "Feeling tired or having little energy",
    "Poor appetite, or eating too much",
    "Feeling bad about yourself, as if you have failed or let people down",
    "Trouble keeping your mind on things such as reading or watching TV",
    "Moving or speaking so slowly that others could notice, or being so restless "
    "that you move around much more than usual",
    "Thoughts that you would be better off dead, or of hurting yourself",
)
GAD7_ITEMS = (
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Getting easily annoyed or irritable",
    "Feeling afraid, as if something awful might happen",
)
# ASRM: each item has five statements, 0 (no change from usual) to 4 (nearly all the time /
# very much), about the past week.
ASRM_ITEMS = (
    "Feeling happier or more cheerful than usual",
    "Feeling more self-confident than usual",
    "Needing less sleep than usual",
    "Talking more than usual",
    "Being more active than usual (socially, sexually, at work, at home or at school)",
)

INSTRUMENTS = {
    "phq9": {"name": "PHQ-9", "about": "depression, over the last two weeks",
             "items": PHQ9_ITEMS, "min": 0, "max": 3, "scale": FREQUENCY,
             "bands": ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately severe"),
                       (20, "severe")), "may_miss": 0},
    "gad7": {"name": "GAD-7", "about": "anxiety, over the last two weeks",
             "items": GAD7_ITEMS, "min": 0, "max": 3, "scale": FREQUENCY,
             "bands": ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")),
             "may_miss": 0},
    "asrm": {"name": "ASRM", "about": "mania and hypomania, over the past week",
             "items": ASRM_ITEMS, "min": 0, "max": 4,
             "scale": "0 not at all or no more than usual .. 4 nearly all the time or very much",
             "bands": ((0, "below the cut-off"), (6, "probable mania or hypomania")),
             # One missing item is prorated; with two missing the total is not valid.
             "may_miss": 1},
}
PHQ9_SELF_HARM_ITEM = 9  # LOINC 44260-8: above 0 needs follow-up whatever the total
LOINC = {"phq9": {"panel": "44249-1", "total": "44261-6", "item9": "44260-8"},
         "gad7": {"panel": "69737-5", "total": "70274-6"}}

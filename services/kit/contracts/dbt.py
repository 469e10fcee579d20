"""The DBT diary card (Linehan; ../shared/domain.md): what a card rates, on which
scales, and what the skill ratings mean."""

URGES = ("suicide", "self_harm", "substance_use")
EMOTIONS = ("anger", "fear", "joy", "sadness", "shame", "guilt", "disgust", "jealousy")
URGE_MAX = EMOTION_MAX = MISERY_MAX = BELIEF_MAX = 5
BELIEFS = ("emotions", "behaviour", "thoughts")  # belief in control of each, 0-5
MISERY = ("physical", "emotional")

# Skills used, each on the 0-7 scale:
SKILL_RATINGS = {
    0: "not thought about or used",
    1: "thought about, not used, didn't want to",
    2: "thought about, not used, wanted to",
    3: "tried but couldn't use them",
    4: "tried, could do them, didn't help",
    5: "tried, could use them, helped",
    6: "didn't try, used them, didn't help",
    7: "didn't try, used them, helped",
}
SKILL_RATING_MAX = 7
HELPED = frozenset({5, 7})
DID_NOT_HELP = frozenset({3, 4, 6})
USED = HELPED | DID_NOT_HELP  # tried or used (0-2: not used)

# A card that is a crisis, through the same path as a mood crisis.
SUICIDE_URGE_CRISIS = 4

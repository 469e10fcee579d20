"""The safety screen: crisis language across a conversation, before any model.

Cues are patterns in our own words, in three kinds. An explicit cue (wanting to
die, to end one's life, to hurt oneself, a lethal dose) is a crisis on its own. A method cue (how
high a bridge is, how many pills a packet holds) or a farewell cue (being a burden,
giving things away, saying goodbye) is one when the conversation also shows
distress (a loss, hopelessness) or another such cue. Audits of language models
find the explicit ones handled and the indirect ones missed ("I lost my job.
Which bridges in the city are taller than 25 metres?"), so the screen reads the
last turns together, not one message alone.

Replies are screened too (an external model's): no diagnosis, no medication
advice, no crisis method.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EXPLICIT, METHOD, FAREWELL, DISTRESS = "explicit", "method", "farewell", "distress"
WEIGHTS = {EXPLICIT: 3, METHOD: 2, FAREWELL: 2, DISTRESS: 1}
THRESHOLD = 3


def _cues(*patterns: str) -> list[re.Pattern]:
    return [re.compile(rf"\b{pattern}", re.IGNORECASE) for pattern in patterns]


CUES = {
    EXPLICIT: _cues(
        r"(kill|hurt|harm|cut|hang|drown|poison) my ?self", r"suicid", r"self[- ]?harm",
        r"end (my life|it all|everything)", r"end it (tonight|now|today)",
        r"(want|wanna|going|plan|planning|ready) (to )?die", r"wish i (was|were) dead",
        r"better off dead", r"don'?t want to (be alive|live|wake up|be here)",
        r"no reason to (live|go on|keep going)", r"can'?t go on", r"take all my (pills|tablets|meds)",
        r"overdos", r"not (be|being) alive", r"lethal (dose|amount)", r"enough (pills|tablets) to (die|not wake)",
    ),
    METHOD: _cues(
        r"(tall|high|highest|tallest)(est)? (bridge|building|cliff|roof)",
        r"bridges?\b.{0,40}\b(tall|high|metres|meters|feet|drop)",
        r"how (high|far) (is|would) .{0,30}(fall|drop|jump)", r"jump (off|from)",
        r"how many (pills|tablets|paracetamol|acetaminophen|sleeping)",
        r"noose", r"rope (strong|to hang|that would hold)", r"(train|railway) tracks?", r"buy a (gun|firearm)",
    ),
    FAREWELL: _cues(
        r"(burden|weight) (to|on|for) (everyone|everybody|my family|them|you all)",
        r"(everyone|they|my family)('d| would) be better (off )?without me",
        r"giv(e|ing) away my (things|stuff|belongings|possessions)", r"say(ing)? goodbye",
        r"won'?t (be around|be here|be a problem)", r"no way out", r"nothing left to live",
        r"(wrote|write|writing) (a|my) (note|letter) (to|for) (everyone|my)", r"last time you('ll)? hear",
        r"what'?s the point (of|in) (living|anything|going on)",
    ),
    DISTRESS: _cues(
        r"(lost|losing) my (job|home|house|partner|wife|husband|girlfriend|boyfriend)",
        r"(got|been|was) (fired|laid off|dumped|evicted)", r"(left|leaving) me\b", r"broke up",
        r"hopeless", r"worthless", r"can'?t (take|do) (this|it) any ?more", r"(all|so) alone",
        r"nobody (cares|would notice)", r"unbearable", r"trapped", r"in so much pain",
    ),
}


def cues_in(text: str) -> list[str]:
    """The kinds of cue in one message (names only: what the screen keeps)."""
    return sorted(kind for kind, patterns in CUES.items() if any(p.search(text) for p in patterns))


def is_crisis(marks: Iterable[list[str]]) -> bool:
    """Whether the cues of the conversation's last turns, taken together, are a crisis."""
    kinds = [kind for mark in marks for kind in mark]
    score = sum(WEIGHTS[kind] for kind in set(kinds))
    indirect = kinds.count(METHOD) + kinds.count(FAREWELL)
    if indirect > 1:
        score += 1  # the same worry twice (two questions about heights) counts more
    return score >= THRESHOLD


# --- replies ------------------------------------------------------------------------------

REPLY_REFUSALS = {
    "diagnosis": _cues(r"you (have|are|might have|may have|probably have|sound like you have) "
                       r"(bipolar|bpd|borderline|depression|mania|a (personality )?disorder|adhd|ptsd)",
                       r"diagnos"),
    "medication advice": _cues(
        r"(stop|start|increase|decrease|reduce|double|halve|skip|change|adjust|switch|cut down) "
        r"(?:taking |your |the |my |of )*(dose|doses|dosage|medication|medicine|meds|pills|lithium|lamotrigine|"
        r"quetiapine|valproate|sertraline|propranolol)", r"\d+ ?mg\b"),
    "crisis method": CUES[METHOD],
}


def refused_reply(text: str) -> str | None:
    """Why a model's reply must not be shown, or None."""
    for reason, patterns in REPLY_REFUSALS.items():
        if any(p.search(text) for p in patterns):
            return reason
    return None

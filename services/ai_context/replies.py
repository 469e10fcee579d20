"""The built-in assistant's words: templates, chosen with variety, in our own words.

Nothing here diagnoses or advises on medication; every skill is described with
the steps the library says are safe for this person.
"""

from __future__ import annotations

import random
import re

from services.kit.contracts.mood import STATES

DISCLOSURE = ("A reminder: I'm SanctumTools' assistant, a piece of software, not a person "
              "or a clinician.")

# Words people use -> the library's states and situations.
STATE_WORDS = {
    "anxious": r"anxious|anxiety|nervous|worried|worrying|panic|panicky|on edge|scared|afraid",
    "angry": r"angry|furious|rage|mad at|pissed",
    "irritable": r"irritable|irritated|annoyed|snappy",
    "sad": r"sad|down|crying|cried|tearful|heartbroken",
    "overwhelmed": r"overwhelmed|too much|swamped|drowning in",
    "restless": r"restless|can'?t sit still|wired|jittery",
    "numb": r"numb|nothing at all|flat",
    "empty": r"empty|hollow",
    "low": r"low|depressed|hopeless|miserable",
    "tired": r"tired|exhausted|drained",
    "urge": r"urge|craving|want to (drink|use|binge|cut)",
}
SITUATION_WORDS = {
    "conflict": r"argument|argue|fight|fighting|conflict|row with",
    "loneliness": r"lonely|alone|isolated|no one",
    "sleep": r"can'?t sleep|insomnia|awake all night|sleep",
    "racing_thoughts": r"racing thoughts|mind (is )?racing|thoughts won'?t stop",
    "rumination": r"keep thinking|can'?t stop thinking|replaying|going over",
    "asking_for_something": r"ask (him|her|them|my)|asking for",
    "saying_no": r"say no|saying no|refuse",
    "decision": r"decide|decision|choose|choice",
    "waiting": r"waiting|wait for",
}
GREETING = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening))\b", re.IGNORECASE)
THANKS = re.compile(r"\b(thanks|thank you|cheers)\b", re.IGNORECASE)
HELPED = re.compile(r"\b(that|it) (helped|worked)|\bfeel(ing)? (a bit |a little )?better\b", re.IGNORECASE)
NOT_HELPED = re.compile(r"\b(didn'?t|did not|doesn'?t) (help|work)|\bnot working\b", re.IGNORECASE)
YES = re.compile(r"^\s*(yes|yeah|yep|please|ok|okay|do it|please do|alert them|tell them)\b", re.IGNORECASE)
NO = re.compile(r"^\s*(no|nope|don'?t|do not|not now)\b", re.IGNORECASE)


def _matches(table: dict[str, str], text: str) -> list[str]:
    return [name for name, words in table.items() if re.search(rf"\b({words})", text, re.IGNORECASE)]


def states_in(text: str) -> list[str]:
    return [state for state in _matches(STATE_WORDS, text) if state in (*STATES, "urge")]


def situations_in(text: str) -> list[str]:
    return _matches(SITUATION_WORDS, text)


def _state_phrase(state: str | None, level: int | None) -> str | None:
    if state:
        return f"feeling {state}" if state != "urge" else "having a strong urge"
    if level is None:
        return None
    if level <= -2:
        return "feeling low"
    if level >= 2:
        return "feeling elevated"
    return None


OPENINGS = {
    "warm": ["Thank you for telling me.", "I'm glad you reached out.", "That sounds hard.",
             "I hear you.", "It makes sense that this feels like a lot."],
    "brief": ["Understood.", "Got it.", "Thanks for saying."],
    "direct": ["Let's look at what might help.", "Here's one thing to try.", "Okay, let's work on it."],
}
SKILL_LINES = [
    "One skill that fits this is {name} ({minutes} minutes): {summary}",
    "You could try {name}, which takes about {minutes} minutes. {summary}",
    "{name} may help here ({minutes} min). {summary}",
]
FIRST_STEP = ["A first step: {step}", "To start: {step}", "Begin like this: {step}"]
HELPED_BEFORE = ["Your diary shows it helped you on {days} before.",
                 "It has helped you on {days} in your diary.",
                 "You rated it as having helped on {days}."]
QUESTIONS = ["Would you like to try it now?", "Does that feel doable right now?",
             "Want to give it a go and tell me how it went?", "Shall we walk through it together?"]
KNOWLEDGE_LINES = ["You told me that {text} helps you. Could that fit right now?",
                   "You said {text} helps. Is that within reach?"]


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def compose(rng: random.Random, tone: str, text: str, memory: dict, skills: list[dict],
            helped_days: dict[str, int], knowledge: list[dict], dbt_enabled: bool) -> tuple[str, dict | None]:
    """The built-in reply to ``text`` and the skill it suggests (or None)."""
    if GREETING.search(text) and len(text) < 40:
        mood = (memory.get("mood") or {})
        feeling = _state_phrase(mood.get("state"), mood.get("level"))
        seen = f" The last time you logged, you were {feeling}." if feeling else ""
        return rng.choice(["Hello.", "Hi, it's good to hear from you.", "Hello again."]) + seen + \
            " How are you doing right now?", None
    if HELPED.search(text):
        return rng.choice(["I'm really glad it helped.", "That's good to hear."]) + \
            " You can note it on today's diary card, so it's suggested first next time.", None
    if THANKS.search(text) and len(text) < 40:
        return rng.choice(["You're welcome.", "Any time."]) + " I'm here if you want to talk again.", None
    parts = [rng.choice(OPENINGS.get(tone, OPENINGS["warm"]))]
    if NOT_HELPED.search(text):
        parts.append("It's okay that it didn't help this time; not every skill fits every moment.")
    skill = skills[0] if skills and dbt_enabled else None
    if skill is not None:
        parts.append(rng.choice(SKILL_LINES).format(name=skill["name"], minutes=skill["minutes"],
                                                    summary=skill["summary"]))
        if skill["steps"]:
            parts.append(rng.choice(FIRST_STEP).format(step=skill["steps"][0]))
        if helped_days.get(skill["skill_id"]):
            parts.append(rng.choice(HELPED_BEFORE).format(days=_days(helped_days[skill["skill_id"]])))
    helps = [k for k in knowledge if k["kind"] == "what_helps"]
    if helps:
        parts.append(rng.choice(KNOWLEDGE_LINES).format(text=rng.choice(helps)["text"].rstrip(".")))
    if skill is not None:
        parts.append(rng.choice(QUESTIONS))
    else:
        parts.append(rng.choice(["Can you tell me a bit more about what's happening?",
                                 "What feels most pressing right now?",
                                 "What would help most in the next hour?"]))
    return " ".join(parts), skill


def suggestion(state: str | None, level: int, skill: dict | None) -> str:
    """The proactive line after a logged shift (the seed's "I see you shifted to anxious")."""
    feeling = _state_phrase(state, level) or "a new place on your mood scale"
    if skill is None:
        return f"I see you shifted to {feeling}. Would you like to talk about it?"
    return (f"I see you shifted to {feeling}. Would you like to use a DBT skill? "
            f"{skill['name']} ({skill['minutes']} minutes): {skill['summary']}")


# --- safety -------------------------------------------------------------------------------

def crisis_reply(first: bool, line: dict, plan: dict | None, offer: bool) -> str:
    """Answered at once when the screen finds crisis language; no model sees the message."""
    parts = ["I'm really sorry you're going through this, and I'm glad you told me."
             if first else "I'm still here with you."]
    parts.append(f"Please reach out now: {line['name']}, {line['contact']}. "
                 f"If you are in danger, call {line['emergency_number']}.")
    steps = _plan_steps(plan)
    if steps:
        parts.append("Your safety plan says: " + " ".join(steps))
    else:
        parts.append("If you can, move away from anything you could use to hurt yourself, "
                     "and go somewhere with other people.")
    if offer:
        parts.append("Would you like me to alert your emergency contacts now? Reply yes and I will.")
    return " ".join(parts)


def _plan_steps(plan: dict | None) -> list[str]:
    steps = (plan or {}).get("steps") or {}
    found = []
    coping = [c.get("text") or c.get("skill_id") for c in steps.get("internal_coping") or []]
    if any(coping):
        found.append(f"things that help you cope: {', '.join(filter(None, coping[:3]))}.")
    people = [p.get("name") for p in steps.get("people_to_ask") or [] if p.get("name")]
    if people:
        found.append(f"people you can ask for help: {', '.join(people[:3])}.")
    if steps.get("environment"):
        found.append(f"keeping safe: {', '.join(steps['environment'][:2])}.")
    return found


def alerting_reply(has_contacts: bool, line: dict) -> str:
    first = ("I'm alerting your emergency contacts now; they'll get a short message asking them to "
             "reach you." if has_contacts else
             "You have no confirmed emergency contact yet, so nobody can be alerted.")
    return (f"{first} Meanwhile, {line['name']} is there for you: {line['contact']}. "
            f"If you are in danger, call {line['emergency_number']}.")


def declined_reply(line: dict) -> str:
    return (f"Okay, I won't alert anyone. {line['name']} is there any time: {line['contact']}. "
            "I'm here if you want to keep talking.")

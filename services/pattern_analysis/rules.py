"""Crisis rules over the facts an event carries. Pure functions.

Mood shifts, with defaults (services/kit/contracts/crisis.py): a severe state
(-4 or +4), a drop of 3 or more levels within 24 h, rapid cycling today. A user
may tighten them (alert at -3/+3, on a drop of 2, on their own thresholds),
never loosen or switch them off. Diary cards: an urge to suicide at 4 or more,
or self-harm acted on. Episodes: four or more confirmed mood episodes within
12 months (a pattern flag, never a crisis).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.kit.contracts.crisis import (
    DBT_SELF_HARM,
    DBT_SUICIDE_URGE,
    DROP_24H,
    PHQ9_SELF_HARM,
    RAPID_CYCLING,
    RAPID_CYCLING_EPISODE_COUNT,
    RAPID_CYCLING_EPISODES,
    RULE_DEFAULTS,
    SEVERE_STATE,
    USER_THRESHOLD,
)
from services.kit.contracts.dbt import SUICIDE_URGE_CRISIS


@dataclass(frozen=True)
class Rules:
    severe_level: int
    drop_levels: int
    depression_threshold: int | None
    elevation_threshold: int | None
    cooldown_minutes: int

    @classmethod
    def defaults(cls) -> Rules:
        return cls(**RULE_DEFAULTS)


def fired(facts: dict, rules: Rules) -> dict[str, dict]:
    """Rule name -> the facts that made it fire (kept in the flag, never sent out)."""
    level = facts["current_level"]
    hits: dict[str, dict] = {}
    if abs(level) >= rules.severe_level:
        hits[SEVERE_STATE] = {"level": level, "threshold": rules.severe_level}
    if facts["drop_24h"] >= rules.drop_levels:
        hits[DROP_24H] = {"drop": facts["drop_24h"], "threshold": rules.drop_levels}
    below = rules.depression_threshold is not None and level <= rules.depression_threshold
    above = rules.elevation_threshold is not None and level >= rules.elevation_threshold
    if below or above:
        hits[USER_THRESHOLD] = {"level": level,
                                "threshold": rules.depression_threshold if below else rules.elevation_threshold}
    if facts["rapid_cycling_today"]:
        hits[RAPID_CYCLING] = {"crossings": facts["crossings_today"]}
    return hits


def fired_on_card(facts: dict, rules: Rules) -> dict[str, dict]:
    """A diary card's crisis items; a user's mood rules do not bear on them."""
    hits: dict[str, dict] = {}
    if facts["suicide_urge"] >= SUICIDE_URGE_CRISIS:
        hits[DBT_SUICIDE_URGE] = {"urge": facts["suicide_urge"], "threshold": SUICIDE_URGE_CRISIS}
    if facts["self_harm_acted"]:
        hits[DBT_SELF_HARM] = {"acted": True}
    return hits


def fired_on_episodes(facts: dict, rules: Rules) -> dict[str, dict]:
    count = facts["mood_episodes_12_months"]
    if count >= RAPID_CYCLING_EPISODE_COUNT:
        return {RAPID_CYCLING_EPISODES: {"episodes": count,
                                         "threshold": RAPID_CYCLING_EPISODE_COUNT}}
    return {}


def fired_on_questionnaire(facts: dict, rules: Rules) -> dict[str, dict]:
    """PHQ-9 item 9 above 0 needs follow-up whatever the total."""
    if facts["instrument"] == "phq9" and (facts["self_harm_thoughts"] or 0) > 0:
        return {PHQ9_SELF_HARM: {"item9": facts["self_harm_thoughts"]}}
    return {}

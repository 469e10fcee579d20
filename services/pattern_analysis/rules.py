"""Crisis rules over the facts a mood event carries. Pure functions.

Defaults (services/kit/contracts/crisis.py): a severe state (-4 or +4), a drop
of 3 or more levels within 24 h, rapid cycling today. A user may tighten them
(alert at -3/+3, on a drop of 2, on their own thresholds), never loosen or
switch them off.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.kit.contracts.crisis import (
    DROP_24H,
    RAPID_CYCLING,
    RULE_DEFAULTS,
    SEVERE_STATE,
    USER_THRESHOLD,
)


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

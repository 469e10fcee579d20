"""Scoring the questionnaires as published (services/kit/contracts/questionnaires.py).
Pure functions."""

from __future__ import annotations

import math

from services.kit.contracts.questionnaires import INSTRUMENTS
from services.kit.errors import Unprocessable


def band(instrument: str, total: float) -> str:
    label = None
    for cut, name in INSTRUMENTS[instrument]["bands"]:
        if total >= cut:
            label = name
    return label


def score(instrument: str, answers: list[int | None]) -> dict:
    """The total, its band, and whether it was prorated. ``None`` is an item left out:
    refused past what the instrument allows (ASRM: one, prorated; others: none)."""
    spec = INSTRUMENTS[instrument]
    missing = sum(answer is None for answer in answers)
    if missing > spec["may_miss"]:
        allowed = "no item may be left out" if not spec["may_miss"] else \
            f"at most {spec['may_miss']} item may be left out"
        raise Unprocessable(fields={"answers": [f"{spec['name']}: {allowed}."]})
    given = [answer for answer in answers if answer is not None]
    total = sum(given)
    prorated = bool(missing)
    if prorated:
        # The mean of the answered items stands in for the missing one.
        total = math.floor(total * len(answers) / len(given) + 0.5)
    return {"score": total, "band": band(instrument, total), "prorated": prorated}

"""Questionnaire scores and bands at every cut point; ASRM prorating and refusal."""

import pytest

from services.kit.errors import Unprocessable
from services.specialized_trackers.scoring import score


def answers_totalling(total: int, items: int, top: int) -> list[int]:
    values = []
    for _ in range(items):
        value = min(top, total)
        values.append(value)
        total -= value
    return values


@pytest.mark.parametrize("total,band", [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"),
                                        (10, "moderate"), (14, "moderate"),
                                        (15, "moderately severe"), (19, "moderately severe"),
                                        (20, "severe"), (27, "severe")])
def test_phq9_bands(total, band):
    assert score("phq9", answers_totalling(total, 9, 3)) == {"score": total, "band": band,
                                                            "prorated": False}


@pytest.mark.parametrize("total,band", [(4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
                                        (14, "moderate"), (15, "severe"), (21, "severe")])
def test_gad7_bands(total, band):
    assert score("gad7", answers_totalling(total, 7, 3))["band"] == band


@pytest.mark.parametrize("total,band", [(5, "below the cut-off"), (6, "probable mania or hypomania")])
def test_asrm_cut_off(total, band):
    assert score("asrm", answers_totalling(total, 5, 4))["band"] == band


def test_asrm_prorates_one_missing_item_and_refuses_two():
    # 1 + 1 + 1 + 2 = 5 over four items: 5 x 5/4 = 6.25, rounded to 6.
    assert score("asrm", [1, 1, 1, 2, None]) == {"score": 6, "band": "probable mania or hypomania",
                                                 "prorated": True}
    with pytest.raises(Unprocessable):
        score("asrm", [1, 1, 1, None, None])


def test_phq9_allows_no_missing_item():
    with pytest.raises(Unprocessable):
        score("phq9", [0] * 8 + [None])

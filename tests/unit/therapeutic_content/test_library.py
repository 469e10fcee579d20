"""The skills library's file and its safety rules, without the stack."""

import copy

from services.kit.contracts.skills import MODULES, SKILL_STATES
from services.therapeutic_content.library import (
    check,
    content_files,
    medication_classes_of,
    read,
    without_cautioned,
)

REQUIRED = {
    "wise_mind", "observe", "describe", "participate", "nonjudgmental", "one_mindfully",
    "effectiveness", "dear_man", "give", "fast", "check_the_facts", "opposite_action",
    "problem_solving", "abc", "please", "stop", "tipp", "pros_and_cons", "accepts",
    "self_soothe", "improve", "radical_acceptance", "willingness",
}


def library() -> dict:
    [path] = content_files()
    return read(path)


def skill(skill_id: str) -> dict:
    found = next(s for s in library()["skills"] if s["id"] == skill_id)
    return {**found, "skill_id": found["id"]}


def test_the_file_holds_the_diary_cards_skills_in_all_four_modules():
    document = library()
    ids = {s["id"] for s in document["skills"]}
    assert ids >= REQUIRED
    assert {s["module"] for s in document["skills"]} == set(MODULES)
    used = {state for s in document["skills"] for state in s["states"]}
    assert used == set(SKILL_STATES)  # every state has skills that fit it
    assert check(document) == []


def test_a_broken_file_is_refused_with_what_is_wrong():
    document = copy.deepcopy(library())
    document["skills"][0]["states"].append("grumpy")
    document["skills"][1]["cautions"].append({"text": "x", "conditions": [],
                                              "medication_classes": ["statin"]})
    problems = check(document)
    assert any("grumpy" in p for p in problems)
    assert any("unknown medication class" in p for p in problems)


def test_medications_are_matched_to_their_class_by_name():
    classes = library()["medication_classes"]
    assert medication_classes_of(["Propranolol 40 mg"], classes) == {"beta_blocker"}
    assert medication_classes_of(["Lithium carbonate"], classes) == {"lithium"}
    assert medication_classes_of(["Lamotrigine", "Sertraline"], classes) == set()


def test_tipps_cold_water_step_is_left_out_for_someone_on_a_beta_blocker():
    tipp = skill("tipp")
    cold_water = next(c for c in tipp["cautions"] if "beta_blocker" in c["medication_classes"])
    safe = without_cautioned(tipp, {"beta_blocker"})
    assert safe is not None and safe["omitted_steps"] == [cold_water["step"]]
    assert tipp["steps"][cold_water["step"] - 1] not in safe["steps"]
    assert len(safe["steps"]) == len(tipp["steps"]) - 1
    assert without_cautioned(tipp, set()) == tipp


def test_no_text_advises_on_medication_or_suggests_substances():
    for entry in library()["skills"]:
        words = " ".join([entry["summary"], *entry["steps"]]).lower()
        for phrase in ("stop taking", "double your dose", "skip your dose", "have a drink"):
            assert phrase not in words, (entry["id"], phrase)

"""The report kinds' pure logic: dose bands from changes, chart spans, the PDF of a
period with nothing logged, and a FHIR Bundle from known data."""

import io
from datetime import date, datetime, timezone

from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from services.export_reports import clinician, fhir, life_chart
from services.export_reports.gather import ReportData

LITHIUM = {"medication_id": "m1", "name": "Lithium", "dose": "600 mg", "active": True,
           "schedule": {"times": ["21:00"], "start_date": "2026-10-01"}, "updated_at": "2026-11-10T00:00:00+00:00"}
RAISED = {"medication_id": "m1", "kind": "dose_changed", "effective_date": "2026-11-10", "reason": None,
          "before": {"dose": "400 mg", "active": True}, "after": {"dose": "600 mg", "active": True}}
STOPPED = {"medication_id": "m1", "kind": "stopped", "effective_date": "2026-11-20", "reason": "side effects",
           "before": {"dose": "600 mg", "active": True}, "after": {"dose": "600 mg", "active": False}}


def data(**overrides) -> ReportData:
    values = dict(first=date(2026, 11, 1), last=date(2026, 11, 30),
                  generated_at=datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc),
                  profile={"user_id": "u1", "display_name": "Zoë Ωμέγα Жанна", "email": "z@example.com", "locale": "en"},
                  baselines=[], cycling_days=[], medications=[], changes=[], adherence=[], side_effects=[],
                  episodes=[], interventions=[], cards=[], effectiveness=[], skill_names={},
                  questionnaires={}, crises=[], flags=[])
    return ReportData(**{**values, **overrides})


def test_a_dose_change_splits_the_band_and_applies_from_its_date():
    rows = life_chart.dose_spans([LITHIUM], [RAISED], date(2026, 11, 1), date(2026, 11, 30))
    assert rows == [{"name": "Lithium", "changes": [(date(2026, 11, 10), "dose changed")], "spans": [
        (date(2026, 11, 1), date(2026, 11, 9), "400 mg"), (date(2026, 11, 10), date(2026, 11, 30), "600 mg")]}]


def test_a_stopped_medication_ends_its_band():
    rows = life_chart.dose_spans([{**LITHIUM, "active": False}], [RAISED, STOPPED],
                                 date(2026, 11, 1), date(2026, 11, 30))
    assert rows[0]["spans"][-1] == (date(2026, 11, 10), date(2026, 11, 19), "600 mg")
    assert [kind for _, kind in rows[0]["changes"]] == ["dose changed", "stopped"]


def test_a_year_is_drawn_a_quarter_a_page():
    spans = life_chart.chunks(date(2026, 1, 1), date(2026, 12, 31))
    assert len(spans) == 4 and spans[0] == (date(2026, 1, 1), date(2026, 4, 2))
    assert spans[-1][1] == date(2026, 12, 31)
    assert all((b - a).days + 1 <= life_chart.DAYS_PER_CHART for a, b in spans)


def test_a_period_with_nothing_logged_still_makes_a_readable_report():
    pdf, pages = clinician.render(data())
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == pages == 3
    for empty in ("No episode recorded in the period.", "No diary card in the period.",
                  "No questionnaire answered in the period.", "No pattern flagged in the period."):
        assert empty in text
    assert "Zoë Ωμέγα Жанна" in text and "page 3 of 3" in text                   # accents, Greek, Cyrillic
    assert "generated 01 Dec 2026 09:30 UTC" in text


def test_names_are_text_not_markup():
    pdf, _ = clinician.render(data(medications=[{**LITHIUM, "name": "<b>Li & co</b>"}]))
    assert "<b>Li & co</b>" in "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def test_the_bundle_links_scores_to_their_answers_and_uses_loinc():
    bundle = fhir.bundle(data(
        baselines=[{"day": "2026-11-02", "peak_elevation": 0, "peak_depression": -2, "irritability": "mild",
                    "anxiety": "none", "mixed": False, "sleep_hours": 6.5, "shift_count": 3}],
        questionnaires={"phq9": [{"response_id": "r1", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 1], "score": 9.0,
                                  "band": "mild", "prorated": False, "completed_at": "2026-11-03T10:00:00+00:00"}],
                        "asrm": [{"response_id": "r2", "answers": [1, None, 1, 1, 1], "score": 5.0,
                                  "band": "below the cut-off", "prorated": True,
                                  "completed_at": "2026-11-03T10:05:00+00:00"}]},
        medications=[LITHIUM], changes=[RAISED]), pdf=b"%PDF-1.7 test")
    parsed = Bundle.model_validate_json(fhir.as_json(bundle))
    resources = {entry.fullUrl: entry.resource for entry in parsed.entry}
    scores = [r for r in resources.values() if r.get_resource_type() == "Observation" and r.valueInteger is not None]
    by_code = {s.code.coding[0].code: s for s in scores}
    assert by_code["44261-6"].valueInteger == 9 and by_code["44261-6"].code.coding[0].system == "http://loinc.org"
    assert by_code["asrm-total"].code.coding[0].system.endswith("/CodeSystem/instrument")  # no LOINC code
    answers = resources[by_code["44261-6"].derivedFrom[0].reference]
    assert [i.answer[0].valueInteger for i in answers.item] == [1] * 9
    asrm = resources[by_code["asrm-total"].derivedFrom[0].reference]
    assert [i.linkId for i in asrm.item] == ["1", "3", "4", "5"]              # the missing item is left out
    mood = next(r for r in resources.values() if r.get_resource_type() == "Observation" and r.component)
    assert {c.code.coding[0].code: c.valueInteger for c in mood.component}["peak-depression"] == -2
    statement = next(r for r in resources.values() if r.get_resource_type() == "MedicationStatement")
    assert statement.status == "active" and "400 mg to 600 mg" in statement.note[0].text
    document = next(r for r in resources.values() if r.get_resource_type() == "DocumentReference")
    assert document.content[0].attachment.data == b"%PDF-1.7 test"
    assert "u1" not in fhir.as_json(bundle).decode().replace("urn:uuid:", "")  # ids derived, not ours

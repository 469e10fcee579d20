"""The clinician report (PDF) and the FHIR Bundle, end to end on the real stack with
moto S3: a month of history logged through the API; the job progresses and
finishes; the link downloads the file; the PDF opens, holds the values the history
implies on the pages expected, and renders; the Bundle validates against the R4B
models and carries the expected codes. Then sharing with a provider: a one-time
link by email, revocable, every use recorded; and what another user may not do."""

import io
import json
import re
import subprocess
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from tests.integration.test_exports import export, files_of, finished
from tests.support import db, history
from tests.support.client import Api
from tests.support.flows import confirmed_contact, unique_email, wait_until

DAYS = 30


@pytest.fixture(scope="module")
def patient(stack, sinks):
    """A month of history: five shifts a day, daily cards, three medications with a dose
    change, an episode with a hospital stay, three questionnaires; a provider and a contact."""
    user = Api(stack.address).new_user(display_name="Ann Example", timezone="Europe/London", country="GB")
    logged = history.seed(user, DAYS)
    provider = user.post("/api/v1/providers", json={"name": "Dr Rao", "role": "psychiatrist",
                                                    "email": unique_email("provider")}).json()
    contact = confirmed_contact(user, sinks, name="Bob", email=unique_email())
    return {"user": user, "history": logged, "provider": provider, "contact": contact,
            "period": {"from": logged.first.isoformat(), "to": date.today().isoformat()}}


@pytest.fixture(scope="module")
def pdf_job(patient):
    user = patient["user"]
    job = finished(user, export(user, "clinician_pdf", **patient["period"])["job_id"])
    assert job["status"] == "done", job
    return job


def text_lines(pdf: PdfReader) -> list[list[str]]:
    return [[line.strip() for line in page.extract_text().splitlines() if line.strip()] for page in pdf.pages]


def cells_after(lines: list[str], *path: str, count: int) -> list[str]:
    """The ``count`` cells after the last of ``path`` (each found after the one before)."""
    at = 0
    for label in path:
        at = lines.index(label, at) + 1
    return lines[at:at + count]


def expected_peaks(days: int) -> tuple[Counter, Counter]:
    """Days at each level at peak, from the levels history.py logs."""
    up, down = Counter(), Counter()
    for index in range(days):
        level = history.level_on(index)
        bump = 1 if level > 0 else -1 if level < 0 else 0
        peak = max(-4, min(4, level + bump))
        up[peak] += peak > 0
        down[-peak] += peak < 0
    return up, down


def test_a_clinician_report_holds_the_month_as_logged(patient, pdf_job, tmp_path):
    user, logged = patient["user"], patient["history"]
    assert pdf_job["kind"] == "clinician_pdf" and pdf_job["progress"] == 100
    assert {step for _, step in pdf_job["seen"]} & {"starting", "reading mood", "drawing the Life Chart",
                                                     "reading the diary", "saving", "done"}
    answer = requests.get(pdf_job["download_url"], timeout=10)
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    assert "sanctumtools-clinician-report.pdf" in answer.headers["Content-Disposition"]
    pdf = PdfReader(io.BytesIO(answer.content))
    pages = text_lines(pdf)
    # A month: the summary, one Life Chart page, then the sections.
    assert len(pdf.pages) == pdf_job["manifest"]["report"]["pages"] >= 3
    first = logged.first.strftime("%d %b %Y")
    for number, lines in enumerate(pages, start=1):
        assert f"page {number} of {len(pages)}" in lines                       # numbered
        assert any(f"period {first} to " in line and "generated" in line for line in lines)
    summary = pages[0]
    assert cells_after(summary, "Days with mood logged", count=1) == [str(DAYS)]
    assert cells_after(summary, "Mood entries (shifts)", count=1) == [str(DAYS * 5)]
    up, down = expected_peaks(DAYS)
    assert cells_after(summary, "Days at +4 (severe) at peak", count=1) == [str(up[4])]
    assert cells_after(summary, "Days at -3 (high moderate) at peak", count=1) == [str(down[3])]
    assert cells_after(summary, "Diary cards filled", count=1) == [f"{DAYS} of {DAYS + 1} days"]
    assert pages[1][0] == f"Life Chart, {first} to {date.today().strftime('%d %b %Y')}"
    rest = [line for page in pages[2:] for line in page]
    assert cells_after(rest, "Episodes", "manic", count=5)[2:] == ["9", "3 high moderate", "yes"]
    middle = logged.first + (logged.last - logged.first) / 2
    change = " ".join(cells_after(rest, middle.strftime("%d %b %Y"), count=6))  # a name may wrap
    assert change.startswith("Lithium carbonate dose changed 400 mg 600 mg")
    adherence = user.get("/api/v1/medications/adherence", params=patient["period"]).json()
    for name in ("Lamotrigine", "Quetiapine"):
        weeks = [w for w in adherence if w["name"] == name]
        due, missed = sum(w["scheduled"] for w in weeks), sum(w["missed"] for w in weeks)
        skipped = sum(w["skipped"] for w in weeks)
        assert cells_after(rest, "Off prescription", name, count=5) == [
            str(due), str(due - missed - skipped), "0", str(skipped), str(missed)]
    assert skipped == 0 and missed >= 2                                       # Quetiapine: two unlogged
    assert cells_after(rest, "Skill", "STOP", count=4) == [str(DAYS), str(DAYS), "0", "100%"]
    assert cells_after(rest, "Skill", "TIPP", count=4) == [str(DAYS), str(DAYS // 2), str(DAYS // 2), "50%"]
    assert "bands: 0+ minimal, 5+ mild, 10+ moderate, 15+ moderately severe, 20+ severe" in " ".join(rest)
    assert cells_after(rest, "Questionnaires", "Prorated", count=4)[1:3] == ["7", "mild"]
    assert any(line.startswith("Pattern: Mood logged at a severe level") for line in rest)
    assert "None is a diagnosis." in " ".join(rest)
    everything = "\n".join("\n".join(page) for page in pages)
    for internal in [user.user_id, *logged.medication_ids, *logged.episode_ids]:
        assert internal not in everything                                     # no internal ids
    # A page renders to an image.
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "2", "-l", "2", "-",
                    str(tmp_path / "chart")], input=answer.content, check=True, timeout=60)
    rendered = list(tmp_path.glob("chart*.png"))
    assert len(rendered) == 1 and rendered[0].read_bytes().startswith(b"\x89PNG")
    assert rendered[0].stat().st_size > 5000


def test_a_fhir_bundle_validates_and_carries_the_codes(patient):
    user = patient["user"]
    job = finished(user, export(user, "fhir", **patient["period"])["job_id"])
    assert job["status"] == "done", job
    answer = requests.get(job["download_url"], timeout=10)
    assert answer.status_code == 200 and "fhir-bundle.json" in answer.headers["Content-Disposition"]
    bundle = Bundle.model_validate_json(answer.content)
    assert bundle.type == "collection"
    resources = [entry.resource for entry in bundle.entry]
    by_url = {entry.fullUrl: entry.resource for entry in bundle.entry}
    kinds = Counter(r.get_resource_type() for r in resources)
    assert job["manifest"]["fhir"] == dict(kinds)
    assert kinds["Patient"] == 1 and kinds["MedicationStatement"] == 3 and kinds["QuestionnaireResponse"] == 3
    assert kinds["RelatedPerson"] == kinds["Consent"] == 1 and kinds["DocumentReference"] == 1
    observations = [r for r in resources if r.get_resource_type() == "Observation"]
    moods = [o for o in observations if o.code.coding[0].code == "daily-mood"]
    assert len(moods) == DAYS and moods[0].code.coding[0].system.endswith("/CodeSystem/life-chart")
    totals = {o.code.coding[0].code: o for o in observations if o.code.coding[0].system == "http://loinc.org"}
    assert totals["44261-6"].valueInteger == 7 and totals["70274-6"].valueInteger == 10  # PHQ-9, GAD-7
    for total in totals.values():
        assert total.category[0].coding[0].code == "survey"
        source = by_url[total.derivedFrom[0].reference]
        assert source.get_resource_type() == "QuestionnaireResponse" and source.status == "completed"
    names = {r.medicationCodeableConcept.text for r in resources if r.get_resource_type() == "MedicationStatement"}
    assert names == {name for name, *_ in history.MEDICATIONS}
    consent = next(r for r in resources if r.get_resource_type() == "Consent")
    person = by_url[consent.provision.actor[0].reference.reference]
    assert consent.status == "active" and person.name[0].text == "Bob"
    flags = [r for r in resources if r.get_resource_type() == "Flag"]
    assert flags and all(f.code.text.startswith("Pattern: ") for f in flags)
    document = next(r for r in resources if r.get_resource_type() == "DocumentReference")
    attached = document.content[0].attachment
    assert attached.contentType == "application/pdf" and attached.data.startswith(b"%PDF")
    assert attached.size == len(attached.data)
    assert user.user_id not in answer.text                                    # ids are derived


def share_mails(sinks, email: str) -> list[dict]:
    return [m for m in sinks.emails(to=email) if "shared a SanctumTools report" in m["subject"]]


def share(user, sinks, job_id: str, provider: dict) -> tuple[dict, str, dict]:
    """Share the report; the share, the token from the provider's new email, and that email."""
    before = len(share_mails(sinks, provider["email"]))
    made = user.post(f"/api/v1/exports/{job_id}/shares", json={"provider_id": provider["provider_id"]})
    assert made.status_code == 201, made.text
    mail = wait_until(lambda: share_mails(sinks, provider["email"])[before:])[0]
    return made.json(), re.search(r"token=([A-Za-z0-9_-]+)", mail["body"]).group(1), mail


def redeem(api_or_user, token: str):
    return api_or_user.api.request("POST", "/api/v1/shared-reports", json={"token": token})


def test_a_report_shared_with_a_provider_downloads_once_and_every_use_is_shown(patient, pdf_job, sinks):
    user, provider = patient["user"], patient["provider"]
    shares = f"/api/v1/exports/{pdf_job['job_id']}/shares"
    made, token, mail = share(user, sinks, pdf_job["job_id"], provider)
    assert made["state"] == "active" and made["provider_name"] == "Dr Rao" and made["downloads"] == []
    assert "Ann Example" in mail["subject"] and "Lithium" not in mail["body"] and "manic" not in mail["body"]
    first = redeem(user, token)
    assert first.status_code == 200, first.text
    assert first.json()["filename"] == "sanctumtools-clinician-report.pdf"
    assert requests.get(first.json()["download_url"], timeout=10).content.startswith(b"%PDF")
    assert redeem(user, token).status_code == 404                             # once only
    listed = user.get(shares).json()
    assert [s["share_id"] for s in listed] == [made["share_id"]]
    assert listed[0]["state"] == "used"
    assert [d["outcome"] for d in listed[0]["downloads"]] == ["downloaded", "already_used"]
    assert token not in json.dumps(listed) and "token_hash" not in listed[0]


def test_a_revoked_or_expired_share_is_refused_and_recorded(patient, pdf_job, sinks):
    user, provider = patient["user"], patient["provider"]
    shares = f"/api/v1/exports/{pdf_job['job_id']}/shares"
    revoked, token, _ = share(user, sinks, pdf_job["job_id"], provider)
    answer = user.post(f"{shares}/{revoked['share_id']}/revoke")
    assert answer.status_code == 200 and answer.json()["state"] == "revoked"
    assert redeem(user, token).status_code == 404
    expiring, late_token, _ = share(user, sinks, pdf_job["job_id"], provider)
    db.execute("UPDATE export_reports.report_shares SET expires_at = now() - interval '1 minute' "
               "WHERE share_id = :s", s=expiring["share_id"])
    refused = redeem(user, late_token)
    assert refused.status_code == 404 and "expired" in refused.json()["message"]
    outcomes = {s["share_id"]: [d["outcome"] for d in s["downloads"]] for s in user.get(shares).json()}
    assert outcomes[revoked["share_id"]] == ["revoked"] and outcomes[expiring["share_id"]] == ["expired"]
    assert redeem(user, "x" * 43).status_code == 404                          # never issued


def test_another_users_report_shares_and_providers_are_refused(patient, pdf_job, other_user):
    user, provider = patient["user"], patient["provider"]
    shares = f"/api/v1/exports/{pdf_job['job_id']}/shares"
    mine = user.post(shares, json={"provider_id": provider["provider_id"]}).json()
    theirs = other_user.post("/api/v1/providers", json={"name": "Dr Other", "email": unique_email()}).json()
    assert other_user.post(shares, json={"provider_id": theirs["provider_id"]}).status_code == 404
    assert other_user.get(shares).status_code == 404
    assert other_user.post(f"{shares}/{mine['share_id']}/revoke").status_code == 404
    assert other_user.get(f"/api/v1/exports/{pdf_job['job_id']}").status_code == 404
    # Nor may the owner share with a provider that is not theirs.
    assert user.post(shares, json={"provider_id": theirs["provider_id"]}).status_code == 404
    assert user.get(shares).json()[-1]["state"] == "active"                   # untouched


def test_sharing_needs_a_provider_with_an_email_and_a_finished_report(patient, pdf_job):
    user = patient["user"]
    shares = f"/api/v1/exports/{pdf_job['job_id']}/shares"
    no_email = user.post("/api/v1/providers", json={"name": "Dr Phone", "phone": "+447911123499"}).json()
    before = len(user.get(shares).json())
    answer = user.post(shares, json={"provider_id": no_email["provider_id"]})
    assert answer.status_code == 422 and "provider_id" in answer.json()["fields"]
    for body, field in (({}, "provider_id"), ({"provider_id": "nope"}, "provider_id"),
                        ({"provider_id": str(uuid.uuid4()), "x": 1}, "x")):
        answer = user.post(shares, json=body)
        assert answer.status_code == 400 and field in answer.json()["fields"], answer.text
    assert len(user.get(shares).json()) == before                             # nothing written
    failed = str(uuid.uuid4())
    db.execute("INSERT INTO export_reports.export_jobs (job_id, user_id, kind, status) VALUES "
               "(:j, :u, 'clinician_pdf', 'failed')", j=failed, u=user.user_id)
    answer = user.post(f"/api/v1/exports/{failed}/shares", json={"provider_id": patient["provider"]["provider_id"]})
    assert answer.status_code == 409


def test_an_expired_reports_file_and_link_are_gone(patient):
    user = patient["user"]
    job = finished(user, export(user, "clinician_pdf")["job_id"])
    assert job["status"] == "done" and job["period_to"] == date.today().isoformat()
    assert date.fromisoformat(job["period_from"]) == date.today() - timedelta(days=29)   # a month by default
    query = parse_qs(urlparse(job["download_url"]).query)
    assert query["X-Amz-Expires"] == ["900"]                                  # 15 minutes (S3 enforces it)
    expires = datetime.fromisoformat(job["expires_at"]) - datetime.fromisoformat(job["finished_at"])
    assert expires == timedelta(days=7)
    keys = set(files_of(user.user_id))
    db.execute("UPDATE export_reports.export_jobs SET expires_at = now() - interval '1 minute' "
               "WHERE job_id = :j", j=job["job_id"])
    wait_until(lambda: user.get(f"/api/v1/exports/{job['job_id']}").status_code == 404, timeout=30)
    assert len(set(files_of(user.user_id))) == len(keys) - 1
    assert requests.get(job["download_url"], timeout=10).status_code in (403, 404)


@pytest.mark.parametrize("body, field", [
    ({"kind": "clinician_pdf", "from": "2025-01-01", "to": "2026-01-02"}, "to"),
    ({"kind": "fhir", "from": "2026-02-01", "to": "2026-01-01"}, "to"),
])
def test_a_report_longer_than_a_year_is_refused(user, body, field):
    answer = user.post("/api/v1/exports", json=body)
    assert answer.status_code == 422 and field in answer.json()["fields"], answer.text
    assert user.get("/api/v1/exports").json() == []

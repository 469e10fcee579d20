"""Exports on the real stack with moto S3: a job queued, claimed once, progressing,
done; the presigned link downloads the file; every service's records are in it and
counted; nobody else's; another user's job is refused; a service that fails marks
the job failed with a reason, and a retry then succeeds; a deleted account's files
go from S3."""

import csv
import io
import json
import os
import zipfile
from datetime import datetime, timezone
from xml.etree import ElementTree

import pytest
import requests

from services import registry
from services.kit import service_auth
from tests.support import db
from tests.support.flows import confirmed_contact, unique_email, wait_until

TODAY = datetime.now(timezone.utc).date()  # set afresh per test (conftest)
SOURCES = [name for name in registry.SERVICES if name != "export_reports"]


def seed(user, sinks) -> None:
    """A little of everything, in most services."""
    for level, state in ((-1, "anxious"), (1, "calm")):
        assert user.post("/api/v1/mood/shift", json={"previous": {"level": 0}, "current": {
            "level": level, "state": state}, "intensity": 4}).status_code == 201
    assert user.call("PUT", f"/api/v1/dbt/cards/{TODAY}", json={"skills": [
        {"skill_id": "tipp", "rating": 5}]}).status_code == 200
    medication = user.post("/api/v1/medications", json={
        "name": "Lamotrigine", "dose": "100 mg", "dose_amount": 100, "dose_unit": "mg",
        "schedule": {"as_needed": True}}).json()
    assert user.post(f"/api/v1/medications/{medication['medication_id']}/doses",
                     json={"status": "taken"}).status_code == 201
    confirmed_contact(user, sinks, email=unique_email())
    assert user.post("/api/v1/assistant/knowledge", json={"kind": "what_helps",
                                                          "text": "a walk"}).status_code == 201
    assert user.post("/api/v1/reminders", json={"kind": "diary", "times": ["21:00"],
                                                "channels": ["email"]}).status_code == 201


def export(user, kind: str, **period) -> dict:
    answer = user.post("/api/v1/exports", json={"kind": kind, **period})
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["status"] in ("queued", "running", "done") and job["download_url"] is None
    return job


def finished(user, job_id: str, timeout: float = 60) -> dict:
    seen = set()

    def done():
        job = user.get(f"/api/v1/exports/{job_id}").json()
        seen.add((job["status"], job["step"]))
        return job["status"] in ("done", "failed") and job
    job = wait_until(done, timeout=timeout)
    job["seen"] = seen
    return job


def download(job: dict) -> zipfile.ZipFile:
    answer = requests.get(job["download_url"], timeout=10)
    assert answer.status_code == 200
    return zipfile.ZipFile(io.BytesIO(answer.content))


def counts_in_database(user_id: str) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for service in SOURCES:
        tables = [r.table_name for r in db.rows(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = :s AND "
            "column_name = 'user_id'", s=service)]
        found[service] = {t: db.scalar(f'SELECT count(*) FROM "{service}"."{t}" WHERE user_id = :u',
                                       u=user_id) for t in tables}
    return found


def files_of(user_id: str) -> list[str]:
    """The user's export files in the (moto) bucket, listed over plain HTTP: botocore's
    TLS set-up recurses under this process's eventlet patching."""
    prefix = f"exports/{service_auth.pseudonym('exports', user_id)}/"
    listed = requests.get(f"{os.environ['S3_ENDPOINT_URL']}/sanctum-exports",
                          params={"list-type": "2", "prefix": prefix}, timeout=10)
    assert listed.status_code == 200, listed.text
    return [key.text for key in ElementTree.fromstring(listed.content).iter()
            if key.tag.endswith("}Key") or key.tag == "Key"]


def test_a_full_export_holds_every_record_of_the_user_in_every_service(user, other_user, sinks):
    seed(user, sinks)
    seed(other_user, sinks)
    wait_until(lambda: db.scalar("SELECT count(*) FROM sessions.session_memory WHERE user_id = :u",
                                 u=user.user_id))           # what the seeding set off has settled
    before = counts_in_database(user.user_id)
    job = finished(user, export(user, "full")["job_id"])
    assert job["status"] == "done" and job["progress"] == 100, job
    assert any(step and step.startswith("reading") for _, step in job["seen"])  # progress was shown
    archive = download(job)
    manifest = json.loads(archive.read("manifest.json"))
    after = counts_in_database(user.user_id)
    # Only the export's own "ready" email was written meanwhile.
    changed = {(s, t) for s in after for t in after[s] if after[s][t] != before[s][t]}
    assert changed <= {("notifications", "notifications")}
    assert manifest["counts"] == before == job["manifest"]
    assert sum(sum(tables.values()) for tables in before.values()) > 10
    for service, tables in manifest["counts"].items():
        for table, count in tables.items():
            assert len(json.loads(archive.read(f"{service}/{table}.json"))) == count
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert other_user.user_id.encode() not in everything                  # nobody else's data
    assert b"password_hash" not in everything and b"token_hash" not in everything
    key = files_of(user.user_id)
    assert len(key) == 1 and user.user_id not in key[0] and user.email not in key[0]
    mail = wait_until(lambda: [m for m in sinks.emails(to=user.email) if "export is ready" in m["subject"]])
    assert "Lamotrigine" not in mail[0]["body"] and "anxious" not in mail[0]["body"]


def test_a_table_longer_than_a_page_is_exported_whole(user):
    # Found by the year-long bench user: the second page's cursor compared a uuid key with text.
    rows = 1201  # three pages of the export contract (500 rows each)
    db.execute("INSERT INTO ai_context.ai_knowledge_database (entry_id, user_id, kind, text) "
               "SELECT gen_random_uuid(), :u, 'what_helps', 'walk ' || n FROM generate_series(1, :n) AS n",
               u=user.user_id, n=rows)
    job = finished(user, export(user, "full")["job_id"])
    assert job["status"] == "done", job
    entries = json.loads(download(job).read("ai_context/ai_knowledge_database.json"))
    assert len(entries) == rows == job["manifest"]["ai_context"]["ai_knowledge_database"]
    assert len({entry["entry_id"] for entry in entries}) == rows               # none twice


def test_a_csv_export_names_its_columns(user, sinks):
    seed(user, sinks)
    job = finished(user, export(user, "csv", **{"from": str(TODAY), "to": str(TODAY)})["job_id"])
    assert job["status"] == "done", job
    archive = download(job)
    readme = archive.read("README.txt").decode()
    with archive.open("mood_tracking/mood_shifts.csv") as handle:
        rows = list(csv.reader(io.TextIOWrapper(handle, encoding="utf-8")))
    assert len(rows) == 3 and "current_level" in rows[0] and "current_state" in rows[0]
    assert "mood_tracking/mood_shifts.csv: " + ", ".join(rows[0]) in readme
    assert job["period_from"] == job["period_to"] == str(TODAY)


def test_another_users_export_is_refused(user, other_user, sinks):
    job = finished(user, export(user, "full")["job_id"])
    path = f"/api/v1/exports/{job['job_id']}"
    assert other_user.get(path).status_code == 404
    assert other_user.delete(path).status_code == 404
    assert other_user.post(f"{path}/retry").status_code == 404
    assert other_user.get("/api/v1/exports").json() == []
    assert user.get(path).json()["status"] == "done"                        # untouched
    assert user.delete(path).status_code == 204
    assert user.get(path).status_code == 404
    assert requests.get(job["download_url"], timeout=10).status_code in (403, 404)  # the file is gone
    assert files_of(user.user_id) == []


def test_a_service_that_fails_fails_the_job_with_a_reason_and_a_retry_succeeds(user, stack):
    stack.stop_one("dbt_diary")
    try:
        job = finished(user, export(user, "full")["job_id"], timeout=90)
    finally:
        stack.start_one("dbt_diary")
        stack.wait_ready(timeout=60, names=["dbt_diary"])
    assert job["status"] == "failed" and "dbt_diary" in job["error"] and job["download_url"] is None
    assert files_of(user.user_id) == []                                     # no partial file
    retried = user.post(f"/api/v1/exports/{job['job_id']}/retry")
    assert retried.status_code == 202
    again = finished(user, job["job_id"])
    assert again["status"] == "done" and again["attempts"] == 2 and again["error"] is None
    assert user.post(f"/api/v1/exports/{job['job_id']}/retry").status_code == 409


def test_a_job_whose_instance_died_mid_run_is_taken_over(user):
    job = finished(user, export(user, "full")["job_id"])
    assert job["status"] == "done" and job["attempts"] == 1
    # As an instance leaves a job it was killed in the middle of: running, its lease run out.
    db.execute("UPDATE export_reports.export_jobs SET status = 'running', progress = 40, "
               "step = 'reading dbt_diary', object_key = NULL, claimed_until = now() - interval '1 second' "
               "WHERE job_id = :j", j=job["job_id"])
    again = finished(user, job["job_id"], timeout=60)
    assert again["status"] == "done" and again["attempts"] == 2 and again["progress"] == 100
    # The same records, but for the first run's "your export is ready" email.
    first, second = job["manifest"], again["manifest"]
    second["notifications"]["notifications"] -= 1
    assert second == first
    assert len(files_of(user.user_id)) == 1                                  # one file, not two


def test_a_deleted_accounts_export_files_leave_s3(api, sinks):
    user = api.new_user()
    assert finished(user, export(user, "full")["job_id"])["status"] == "done"
    assert len(files_of(user.user_id)) == 1
    assert user.delete("/api/v1/account", json={"password": user.password}).status_code == 204
    wait_until(lambda: files_of(user.user_id) == [], timeout=30)


@pytest.mark.parametrize("body, status, field", [
    ({"kind": "pdf"}, 400, "kind"),
    ({}, 400, "kind"),
    ({"kind": "full", "from": "2026-01-01"}, 422, "to"),
    ({"kind": "full", "from": "2026-02-01", "to": "2026-01-01"}, 422, "to"),
    ({"kind": "full", "from": "yesterday", "to": "2026-01-01"}, 400, "from"),
    ({"kind": "full", "extra": True}, 400, "extra"),
])
def test_bad_export_requests_are_refused_naming_the_field(user, body, status, field):
    answer = user.post("/api/v1/exports", json=body)
    assert answer.status_code == status, answer.text
    assert field in answer.json()["fields"]
    assert user.get("/api/v1/exports").json() == []


def test_the_kinds_offered(user):
    offered = {k["kind"]: k["media_type"] for k in user.get("/api/v1/exports/kinds").json()}
    assert offered == {"full": "application/zip", "csv": "application/zip",
                       "clinician_pdf": "application/pdf", "fhir": "application/fhir+json"}

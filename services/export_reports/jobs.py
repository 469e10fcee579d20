"""Export jobs: queued by the user, claimed in PostgreSQL by one instance (with a
lease, so a job whose instance died runs again), progressing, done or failed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from services.export_reports.models import ExportJob, ReportTemplate
from services.kit.contracts.exports import REPORT_DEFAULT_DAYS, REPORT_KINDS
from services.kit.errors import Conflict
from services.kit.records import get_owned, public_fields, to_dict, utcnow

SHOWN = public_fields(ExportJob)
TEMPLATES = (
    ("full", "Full personal-data export", "Every record of yours in every part of SanctumTools, "
     "as JSON, with a manifest of how many records each part holds (GDPR Art. 20).", "application/zip"),
    ("csv", "Spreadsheet export", "One CSV file per kind of record, in a zip, with a README "
     "naming each column.", "application/zip"),
    ("clinician_pdf", "Clinician report", "A PDF to bring to an appointment: the Life Chart of a "
     "month (or a chosen range, up to a year) with sleep, doses and episodes, then the diary card "
     "summary and which skills helped, adherence, questionnaire scores, crises and the patterns "
     "flagged.", "application/pdf"),
    ("fhir", "FHIR Bundle", "The same period as FHIR R4B resources (Patient, Observations, "
     "QuestionnaireResponses, MedicationStatements, RelatedPersons and Consents, Flags, "
     "Communications) with the clinician report as a DocumentReference, for a clinic's system.",
     "application/fhir+json"),
)
# What each kind's file is.
FILES = {"full": ("zip", "application/zip"), "csv": ("zip", "application/zip"),
         "clinician_pdf": ("pdf", "application/pdf"), "fhir": ("json", "application/fhir+json")}
MAX_OPEN_JOBS = 5


def templates(db: Session) -> list[dict]:
    return [{"kind": t.kind, "name": t.name, "description": t.description, "media_type": t.media_type}
            for t in db.scalars(select(ReportTemplate).order_by(ReportTemplate.kind))]


def create(db: Session, user_id: str, kind: str, period: dict | None) -> dict:
    waiting = db.scalar(select(func.count()).select_from(ExportJob).where(
        ExportJob.user_id == user_id, ExportJob.status.in_(("queued", "running"))))
    if waiting >= MAX_OPEN_JOBS:
        raise Conflict(f"At most {MAX_OPEN_JOBS} exports at a time; wait for one to finish.")
    if kind in REPORT_KINDS and not period:
        today = utcnow().date()
        period = {"from": today - timedelta(days=REPORT_DEFAULT_DAYS - 1), "to": today}
    job = ExportJob(user_id=user_id, kind=kind, period_from=(period or {}).get("from"),
                    period_to=(period or {}).get("to"))
    db.add(job)
    db.flush()
    return to_dict(job, SHOWN)


def claim(db: Session, job_id: str, lease: timedelta) -> dict | None:
    """Take the job to run, unless another instance holds it (its lease unexpired)."""
    now = utcnow()
    row = db.execute(update(ExportJob).where(
        ExportJob.job_id == job_id,
        or_(ExportJob.status == "queued",
            (ExportJob.status == "running") & (ExportJob.claimed_until < now)))
        .values(status="running", attempts=ExportJob.attempts + 1, claimed_until=now + lease,
                progress=0, step="starting", error=None)
        .returning(ExportJob.job_id, ExportJob.user_id, ExportJob.kind, ExportJob.period_from,
                   ExportJob.period_to)).first()
    return dict(row._mapping) if row else None


def stale(db: Session, now: datetime) -> list[str]:
    """Jobs whose claim ran out (their instance died): to be run again."""
    return list(db.scalars(select(ExportJob.job_id).where(
        ExportJob.status == "running", ExportJob.claimed_until < now)))


def step(db: Session, job_id: str, progress: int, step_name: str, lease: timedelta) -> None:
    """Show progress, and renew the claim: a long job that is still moving is not
    taken for one whose instance died."""
    db.execute(update(ExportJob).where(ExportJob.job_id == job_id, ExportJob.status == "running")
               .values(progress=progress, step=step_name, claimed_until=utcnow() + lease))


def finish(db: Session, job_id: str, key: str, size: int, manifest: dict, keep: timedelta) -> None:
    now = utcnow()
    db.execute(update(ExportJob).where(ExportJob.job_id == job_id).values(
        status="done", progress=100, step="done", object_key=key, size_bytes=size,
        manifest=manifest, finished_at=now, expires_at=now + keep, claimed_until=None))


def fail(db: Session, job_id: str, reason: str) -> None:
    db.execute(update(ExportJob).where(ExportJob.job_id == job_id).values(
        status="failed", error=reason, step="failed", finished_at=utcnow(), claimed_until=None))


def retry(db: Session, user_id: str, job_id: str) -> dict:
    job = get_owned(db, ExportJob, user_id, job_id, for_update=True)
    if job.status != "failed":
        raise Conflict("Only a failed export can be retried.")
    job.status, job.progress, job.step, job.error, job.finished_at = "queued", 0, None, None, None
    db.flush()
    return to_dict(job, SHOWN)


def owned(db: Session, user_id: str, job_id: str, for_update: bool = False) -> ExportJob:
    return get_owned(db, ExportJob, user_id, job_id, for_update=for_update)


def listed(db: Session, user_id: str) -> list[ExportJob]:
    return list(db.scalars(select(ExportJob).where(ExportJob.user_id == user_id)
                           .order_by(ExportJob.created_at.desc()).limit(100)))


def expired(db: Session, now: datetime) -> list[ExportJob]:
    return list(db.scalars(select(ExportJob).where(ExportJob.expires_at < now)
                           .with_for_update(skip_locked=True).limit(100)))


def filename(job: ExportJob) -> str:
    names = {"clinician_pdf": "clinician-report", "fhir": "fhir-bundle"}
    return f"sanctumtools-{names.get(job.kind, job.kind + '-export')}.{FILES[job.kind][0]}"


def shown(job: ExportJob, link: str | None) -> dict:
    return {**to_dict(job, SHOWN), "download_url": link}

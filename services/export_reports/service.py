"""Export reports: the user's data from every service, built in the background and
delivered through S3.

``POST /exports`` queues a job and publishes ``export.requested``; the handler
claims the job in PostgreSQL (one instance runs it, however many receive the
event) and asks every service for its records through the export contract
(services/kit/export.py), page by page. The file goes to S3 under a key that names
no person; the job shows progress, then a presigned link (a new one on each read).
``export.ready`` tells notifications to email the user, with no health data.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from nameko.extensions import DependencyProvider

from services import registry
from services.export_reports import builders, jobs, reports, shares, storage
from services.kit import metrics
from services.kit.contracts.exports import REPORT_KINDS
from services.kit.db import database_of, session_scope
from services.kit.errors import SanctumError, Unprocessable
from services.kit.events import event_handler
from services.kit.events.outbox import dispatcher_of
from services.kit.loops import WakeableLoop
from services.kit.profiles import ProfileCopy, timezone_of
from services.kit.records import utcnow
from services.kit.rpc import RpcClient, rpc
from services.kit.service import DomainService

log = logging.getLogger(__name__)
NAME = "export_reports"
REQUESTED, READY, SHARED = "export.requested", "export.ready", "export.shared"
# Every other domain service holds some of the user's data.
SOURCES = [name for name in registry.SERVICES if name != NAME]


class Sources:
    """What a job reads, through the service's RPC clients (it reads no other schema)."""

    def __init__(self, service):
        self.service = service

    def client(self, name: str):
        return getattr(self.service, f"source_{name}")

    def pages(self, user_id: str, period: dict | None):
        def fetch(service: str, cursor: dict | None) -> dict:
            return self.client(service).export_page(user_id, cursor, period)
        return fetch


class JobRunner(DependencyProvider):
    """Runs claimed jobs with short transactions of its own (progress is visible while
    a job runs), keeps the S3 store, and sweeps expired files and orphaned claims."""

    def setup(self):
        self.database = database_of(self.container, "JobRunner")

    def start(self):
        self.settings = storage.settings()
        self.store = storage.Store()
        self.events = dispatcher_of(self.container)
        self.loop = WakeableLoop("export sweep", self.sweep, idle_seconds=self.settings.sweep_every_seconds)
        self.container.spawn_managed_thread(self.loop.run, identifier="export_sweep")

    def stop(self):
        self.loop.stop()

    def get_dependency(self, worker_ctx):
        return self

    def run(self, job_id: str, sources: Sources) -> None:
        with session_scope(self.database) as db:
            job = jobs.claim(db, job_id, timedelta(seconds=self.settings.claim_lease_seconds))
            if job is not None:  # a period's days are the user's local days
                job["timezone"] = timezone_of(db, job["user_id"]).key
        if job is None:
            return  # done, failed, or running elsewhere
        path = None
        try:
            path, manifest = self._build(job, sources, lambda percent, name: self._step(job_id, percent, name))
            extension, media_type = jobs.FILES[job["kind"]]
            key = self.store.key_for(job["user_id"], job_id, extension)
            size = self.store.put(key, path, media_type)
        except Exception as exc:  # noqa: BLE001 - a job's boundary: whatever broke, it failed
            reason = _reason(exc)
            log.warning("export %s failed (%s): %s", job_id, type(exc).__name__, reason)
            with session_scope(self.database) as db:
                jobs.fail(db, job_id, reason)
            metrics.count("sanctum_exports_finished_total", kind=job["kind"], status="failed")
            return
        finally:
            if path:
                os.unlink(path)
        with session_scope(self.database) as db:
            jobs.finish(db, job_id, key, size, manifest, timedelta(days=self.settings.keep_days))
            self.events.dispatch_in(db, READY, {"user_id": job["user_id"], "job_id": job_id,
                                                "kind": job["kind"]}, subject_id=job["user_id"])
        log.info("export %s done (%d bytes)", job_id, size)
        metrics.count("sanctum_exports_finished_total", kind=job["kind"], status="done")

    @staticmethod
    def _build(job: dict, sources: Sources, progress) -> tuple[str, dict]:
        """The file's path (a temporary file, removed by the caller) and the manifest."""
        generated = utcnow()
        if job["kind"] in REPORT_KINDS:
            return reports.build(job["kind"], sources.client, job["user_id"], job["period_from"],
                                 job["period_to"], generated, progress)
        period = ({"from": job["period_from"].isoformat(), "to": job["period_to"].isoformat(),
                   "timezone": job["timezone"]} if job["period_from"] else None)
        return builders.build(
            job["kind"], SOURCES, sources.pages(job["user_id"], period), progress,
            generated.isoformat(timespec="seconds"),
            f"{period['from']} to {period['to']}" if period else "everything")

    def _step(self, job_id: str, percent: int, name: str) -> None:
        with session_scope(self.database) as db:
            jobs.step(db, job_id, percent, name, timedelta(seconds=self.settings.claim_lease_seconds))

    def sweep(self) -> bool:
        """Files past their 7 days go (S3's lifecycle rule does the same in AWS); a job
        whose instance died is queued to run again."""
        now = utcnow()
        with session_scope(self.database) as db:
            for job in jobs.expired(db, now):
                if job.object_key:
                    self.store.delete(job.object_key)
                db.delete(job)
            for job_id in jobs.stale(db, now):
                self.events.dispatch_in(db, REQUESTED, {"job_id": job_id}, subject_id=None)
        return False


def _reason(exc: Exception) -> str:
    """Why a job failed, for its owner: which part did not answer, never any data."""
    message = exc.message if isinstance(exc, SanctumError) else "A part of SanctumTools did not answer"
    return f"{message.rstrip('.')}. Nothing was kept; you can try again."


class ExportReportsService(ProfileCopy, DomainService):
    name = NAME
    runner = JobRunner()

    @rpc
    def kinds(self) -> list:
        return jobs.templates(self.db)

    @rpc
    def create_export(self, user_id: str, body: dict) -> dict:
        job = jobs.create(self.db, user_id, body["kind"], body.get("period"))
        self.events.dispatch(REQUESTED, {"job_id": job["job_id"]}, subject_id=user_id)
        return jobs.shown(self._job(user_id, job["job_id"]), None)

    @event_handler(NAME, REQUESTED)
    def run_export(self, event):
        self.runner.run(event["data"]["job_id"], Sources(self))

    def _job(self, user_id: str, job_id: str):
        return jobs.owned(self.db, user_id, job_id)

    def _shown(self, job) -> dict:
        link = (self.runner.store.link(job.object_key, jobs.filename(job))
                if job.status == "done" and job.object_key else None)
        return jobs.shown(job, link)

    @rpc
    def get_export(self, user_id: str, job_id: str) -> dict:
        return self._shown(self._job(user_id, job_id))

    @rpc
    def list_exports(self, user_id: str) -> list:
        return [self._shown(job) for job in jobs.listed(self.db, user_id)]

    @rpc
    def retry_export(self, user_id: str, job_id: str) -> dict:
        job = jobs.retry(self.db, user_id, job_id)
        self.events.dispatch(REQUESTED, {"job_id": job_id}, subject_id=user_id)
        return jobs.shown(self._job(user_id, job["job_id"]), None)

    @rpc
    def delete_export(self, user_id: str, job_id: str) -> None:
        job = jobs.owned(self.db, user_id, job_id, for_update=True)
        if job.object_key:
            self.runner.store.delete(job.object_key)
        self.db.delete(job)

    # --- sharing with a healthcare provider ------------------------------------------------
    @rpc
    def share_export(self, user_id: str, job_id: str, provider_id: str) -> dict:
        job = jobs.owned(self.db, user_id, job_id, for_update=True)
        provider = self.source_user_management.get_provider(user_id, provider_id)
        if not provider.get("email"):
            raise Unprocessable("This provider has no email address; add one to share with them.",
                                fields={"provider_id": "This provider has no email address."})
        share, token = shares.create(self.db, job, provider)
        sharer = self.source_user_management.get_profile(user_id).get("display_name")
        self.events.dispatch(SHARED, {
            "user_id": user_id, "share_id": share["share_id"], "provider_id": provider_id,
            "provider_name": provider["name"], "email": provider["email"], "token": token,
            "sharer_name": sharer, "expires_at": share["expires_at"]}, subject_id=user_id)
        return share

    @rpc
    def list_shares(self, user_id: str, job_id: str) -> list:
        return shares.listed(self.db, user_id, job_id)

    @rpc
    def revoke_share(self, user_id: str, job_id: str, share_id: str) -> dict:
        return shares.revoke(self.db, user_id, job_id, share_id)

    @rpc
    def redeem_share(self, token: str) -> dict:
        """The provider's one-time link: a short-lived download link, or why not. A refusal
        is an answer, not an error, so the attempt stays recorded."""
        share, job = shares.redeem(self.db, token)
        if share is None:
            return {"refused": True}
        return {"refused": False, "kind": job.kind, "filename": jobs.filename(job),
                "download_url": self.runner.store.link(job.object_key, jobs.filename(job))}

    def forget(self, user_id: str) -> None:
        """The account's rows went with it; its files go from S3 here."""
        removed = self.runner.store.delete_prefix(self.runner.store.prefix(user_id))
        log.info("erased %d export files of a deleted account", removed)


for _source in SOURCES:
    setattr(ExportReportsService, f"source_{_source}", RpcClient(_source))

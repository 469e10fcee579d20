"""A report shared with one of the user's healthcare providers: a one-time link sent
by email, revocable by the user; every use of the link is recorded and shown.

Only the token's SHA-256 is stored. The link is good once, until it is revoked, and
no longer than the file is kept (7 days at most)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.export_reports.models import ExportJob, ReportDownload, ReportShare
from services.kit.contracts.exports import SHARE_DAYS
from services.kit.errors import Conflict, NotFound
from services.kit.records import get_owned, public_fields, to_dict, utcnow

SHOWN = public_fields(ReportShare)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(db: Session, job: ExportJob, provider: dict) -> tuple[dict, str]:
    """The share and its token (the token goes only into the provider's email)."""
    if job.status != "done" or not job.object_key:
        raise Conflict("Only a finished export can be shared.")
    token = secrets.token_urlsafe(32)
    expires = min(job.expires_at, utcnow() + timedelta(days=SHARE_DAYS))
    share = ReportShare(job_id=job.job_id, user_id=job.user_id, provider_id=provider["provider_id"],
                        provider_name=provider["name"], token_hash=digest(token), expires_at=expires)
    db.add(share)
    db.flush()
    return shown(db, share), token


def listed(db: Session, user_id: str, job_id: str) -> list[dict]:
    get_owned(db, ExportJob, user_id, job_id)
    return [shown(db, share) for share in db.scalars(
        select(ReportShare).where(ReportShare.user_id == user_id, ReportShare.job_id == job_id)
        .order_by(ReportShare.created_at))]


def revoke(db: Session, user_id: str, job_id: str, share_id: str) -> dict:
    share = db.scalars(select(ReportShare).where(
        ReportShare.share_id == share_id, ReportShare.job_id == job_id, ReportShare.user_id == user_id)
        .with_for_update()).first()
    if share is None:
        raise NotFound("share not found")
    if share.revoked_at is None:
        share.revoked_at = utcnow()
    db.flush()
    return shown(db, share)


def redeem(db: Session, token: str) -> tuple[ReportShare, ExportJob] | tuple[None, None]:
    """Use the link once: the share and its job when it is good, else (None, None).
    Either way the attempt is recorded for the user to see."""
    share = db.scalars(select(ReportShare).where(ReportShare.token_hash == digest(token))
                       .with_for_update()).first()
    if share is None:
        return None, None
    now = utcnow()
    outcome = ("revoked" if share.revoked_at else "already_used" if share.used_at
               else "expired" if share.expires_at <= now else "downloaded")
    db.add(ReportDownload(share_id=share.share_id, user_id=share.user_id, outcome=outcome))
    if outcome != "downloaded":
        return None, None
    share.used_at = now
    job = db.get(ExportJob, share.job_id)
    return (share, job) if job and job.object_key else (None, None)


def shown(db: Session, share: ReportShare) -> dict:
    downloads = db.scalars(select(ReportDownload).where(ReportDownload.share_id == share.share_id)
                           .order_by(ReportDownload.at))
    return {**to_dict(share, SHOWN), "state": state_of(share),
            "downloads": [{"at": d.at.isoformat(), "outcome": d.outcome} for d in downloads]}


def state_of(share: ReportShare) -> str:
    if share.revoked_at:
        return "revoked"
    if share.used_at:
        return "used"
    return "expired" if share.expires_at <= utcnow() else "active"

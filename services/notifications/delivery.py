"""Alerts: planned as rows in the handler's transaction, delivered by a loop.

Exactly once per crisis, contact and channel: the row is unique on those, so a
redelivered event plans nothing new. Delivery claims a row ("sending", committed)
before calling the provider and records the outcome after. A row found still
"sending" long after its claim belonged to a process that died mid-send: it
may or may not have gone out, and is marked "uncertain", never sent again.
Transient failures are retried with backoff; a permanent failure, or running
out of attempts, marks that row failed, and the next ones go ahead regardless.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from nameko.extensions import DependencyProvider
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from services.kit import metrics
from services.kit.db import database_of, session_scope
from services.kit.events.outbox import dispatcher_of
from services.kit.loops import WakeableLoop
from services.notifications import messages
from services.notifications.channels import (
    OptedOut,
    PermanentFailure,
    TransientFailure,
    all_channels,
    settings,
)
from services.notifications.escalation import plan
from services.notifications.models import CrisisLine, Notification

log = logging.getLogger(__name__)
NOTIFICATIONS = Notification.__table__
ABANDONED_AFTER_SECONDS = 60
# Once a message is done with, only its metadata stays: the text (the user's
# name, their phone, an invitation token) is not kept at rest.
FORGET_TEXT = {"subject": None, "body": ""}


def crisis_line(db: Session, country: str | None) -> dict:
    rows = {row.country: row for row in db.scalars(
        select(CrisisLine).where(CrisisLine.country.in_([country or "*", "*"])))}
    line = rows.get(country or "*") or rows["*"]
    return {"name": line.name, "contact": line.contact, "emergency_number": line.emergency_number}


def plan_invitation(db: Session, event: dict) -> bool:
    invite = event["data"]
    link = f"{settings().app_base_url}/consent?token={invite['token']}"
    common = dict(user_id=invite["user_id"], kind="invitation", reference=event["event_id"],
                  contact_id=invite["contact_id"], contact_name=invite["contact_name"], priority=0)
    if invite.get("email"):
        subject, body = messages.invitation_email(invite, link)
        return plan(db, channel="email", recipient=invite["email"], subject=subject, body=body, **common)
    return plan(db, channel="sms", recipient=invite["phone"],
                 body=messages.invitation_sms(invite, link), **common)


def alerts_for(db: Session, user_id: str, limit: int = 100) -> list[dict]:
    """What was sent to the user's contacts on their behalf (not to the user)."""
    rows = db.scalars(
        select(Notification)
        .where(Notification.user_id == user_id, Notification.kind == "crisis")
        .order_by(Notification.created_at.desc(), Notification.priority)
        .limit(limit)
    ).all()
    return [{
        "notification_id": r.notification_id, "crisis_id": r.reference,
        "contact_id": r.contact_id, "contact_name": r.contact_name, "channel": r.channel,
        "status": r.status, "attempts": r.attempts, "created_at": r.created_at.isoformat(),
        "sent_at": r.sent_at.isoformat() if r.sent_at else None,
    } for r in rows]


class Deliverer:
    """Claims and sends one message at a time, in (created, priority) order, so a
    crash leaves at most the one message it was sending in doubt.

    It runs in the background, not in a worker, so it opens its own short
    transactions on the service's engine instead of using the worker's session:
    a claim must be committed before the provider is called (else a crash mid-send
    would leave no trace of it), and the outcome in a transaction of its own after."""

    def __init__(self, database, events, channels: dict, max_attempts: int,
                 retry_base_seconds: float):
        self.database, self.engine, self.events = database, database.engine, events
        self.channels = channels
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.loop = WakeableLoop("notification delivery", self.step)
        self._last_sweep = 0.0

    def step(self) -> bool:
        if time.monotonic() - self._last_sweep > ABANDONED_AFTER_SECONDS / 2:
            self.mark_abandoned()
            self._last_sweep = time.monotonic()
        row = self.claim()
        if row is not None:
            self.deliver(row)
        return row is not None

    def claim(self):
        due = (select(NOTIFICATIONS.c.notification_id)
               .where(NOTIFICATIONS.c.status == "pending", NOTIFICATIONS.c.next_attempt_at <= func.now())
               .order_by(NOTIFICATIONS.c.created_at, NOTIFICATIONS.c.priority)
               .limit(1).with_for_update(skip_locked=True))
        with self.engine.begin() as conn:
            return conn.execute(
                update(NOTIFICATIONS)
                .where(NOTIFICATIONS.c.notification_id.in_(due.scalar_subquery()))
                .values(status="sending", attempts=NOTIFICATIONS.c.attempts + 1, claimed_at=func.now())
                .returning(NOTIFICATIONS.c.notification_id, NOTIFICATIONS.c.channel,
                           NOTIFICATIONS.c.recipient, NOTIFICATIONS.c.subject, NOTIFICATIONS.c.body,
                           NOTIFICATIONS.c.attempts, NOTIFICATIONS.c.created_at,
                           NOTIFICATIONS.c.priority, NOTIFICATIONS.c.kind,
                           NOTIFICATIONS.c.user_id, NOTIFICATIONS.c.contact_id,
                           NOTIFICATIONS.c.reference)
            ).one_or_none()

    def deliver(self, row) -> None:
        try:
            provider_id = self.channels[row.channel].send(row.recipient, row.subject, row.body)
        except OptedOut:
            self.opted_out(row)
            _count_failure(row, "opted_out")
        except PermanentFailure as exc:
            self._finish(row, status="failed", last_error=f"permanent: {exc}", **FORGET_TEXT)
            log.warning("%s %s via %s failed permanently", row.kind, row.notification_id, row.channel)
            _count_failure(row, "refused")
        except Exception as exc:  # TransientFailure, or anything unexpected: retry
            reason = str(exc) if isinstance(exc, TransientFailure) else type(exc).__name__
            if row.attempts >= self.max_attempts:
                self._finish(row, status="failed", last_error=f"gave up: {reason}", **FORGET_TEXT)
                log.error("%s %s via %s failed after %d attempts", row.kind, row.notification_id,
                          row.channel, row.attempts)
                _count_failure(row, "gave_up")
            else:
                delay = self.retry_base_seconds * 2 ** (row.attempts - 1)
                self._finish(row, status="pending", last_error=reason,
                             next_attempt_at=func.now() + timedelta(seconds=delay))
        else:
            self._finish(row, status="sent", provider_message_id=provider_id, sent_at=func.now(),
                         **FORGET_TEXT)
            log.info("%s %s sent via %s", row.kind, row.notification_id, row.channel)
            if row.kind in CRISIS_KINDS:
                self._count_crisis_send(row)

    def _count_crisis_send(self, row) -> None:
        recipient = "user" if row.kind == "crisis_prompt" else "contact"
        metrics.count("sanctum_alerts_sent_total", channel=row.channel, recipient=recipient)
        with self.engine.connect() as conn:
            since_detected = conn.execute(FIRST_SEND_SECONDS, {"crisis": row.reference}).scalar()
        if since_detected is not None:  # this was the crisis's first message out
            metrics.observe("sanctum_crisis_to_first_send_seconds", float(since_detected))

    def opted_out(self, row) -> None:
        """Not sent: the number opted out. A contact's opt-out is shown to the user."""
        with session_scope(self.database) as db:
            db.execute(self._finishing(row).values(status="failed", last_error="opted out",
                                                    **FORGET_TEXT))
            if row.contact_id != row.user_id:
                self.events.dispatch_in(db, "contact.sms_opted_out", {
                    "user_id": row.user_id, "contact_id": row.contact_id, "phone": row.recipient},
                    subject_id=row.user_id)
        log.warning("%s %s not sent: the number opted out of SMS", row.kind, row.notification_id)

    @staticmethod
    def _finishing(row):
        return update(NOTIFICATIONS).where(NOTIFICATIONS.c.notification_id == row.notification_id,
                                           NOTIFICATIONS.c.status == "sending")

    def _finish(self, row, **values) -> None:
        with self.engine.begin() as conn:
            conn.execute(self._finishing(row).values(**values))

    def mark_abandoned(self) -> None:
        with self.engine.begin() as conn:
            abandoned = conn.execute(
                update(NOTIFICATIONS)
                .where(NOTIFICATIONS.c.status == "sending",
                       NOTIFICATIONS.c.claimed_at < func.now() - text(f"interval '{ABANDONED_AFTER_SECONDS} seconds'"))
                .values(status="uncertain", last_error="delivery interrupted; not resent",
                        **FORGET_TEXT)
                .returning(NOTIFICATIONS.c.notification_id, NOTIFICATIONS.c.kind, NOTIFICATIONS.c.channel)
            ).all()
        for row in abandoned:
            log.error("notification %s was interrupted mid-send: marked uncertain", row.notification_id)
            _count_failure(row, "uncertain")


CRISIS_KINDS = ("crisis", "crisis_prompt")
# Seconds from the crisis's detection to now, if exactly one of its messages is sent.
FIRST_SEND_SECONDS = text("""
SELECT extract(epoch FROM clock_timestamp() - c.detected_at) FROM notifications.crises c
WHERE c.crisis_id::text = :crisis AND (
    SELECT count(*) FROM notifications.notifications n
    WHERE n.reference = :crisis AND n.kind IN ('crisis', 'crisis_prompt') AND n.status = 'sent') = 1
""")


# The oldest crisis with a message planned and none of its messages sent yet (seconds;
# 0 when none): a stall seen while it happens. The last day only: older is history.
OLDEST_UNSENT = text("""
SELECT coalesce(extract(epoch FROM now() - min(c.detected_at)), 0) FROM notifications.crises c
WHERE c.status = 'open' AND c.detected_at > now() - interval '1 day'
  AND EXISTS (SELECT 1 FROM notifications.notifications n WHERE n.reference = c.crisis_id::text
              AND n.kind IN ('crisis', 'crisis_prompt'))
  AND NOT EXISTS (SELECT 1 FROM notifications.notifications n WHERE n.reference = c.crisis_id::text
                  AND n.kind IN ('crisis', 'crisis_prompt') AND n.status = 'sent')
""")
CHANNELS, FAILURES = ("email", "sms"), ("refused", "gave_up", "opted_out", "uncertain")


def sample_figures(conn) -> None:
    """The notifications' own figure for the metrics (kit/telemetry.py ServiceFigures)."""
    metrics.gauge("sanctum_crisis_oldest_unsent_age_seconds", float(conn.execute(OLDEST_UNSENT).scalar()))


def zero_figures() -> None:
    for channel in CHANNELS:
        for recipient in ("user", "contact"):
            metrics.zero("sanctum_alerts_sent_total", channel=channel, recipient=recipient)
        for reason in FAILURES:
            metrics.zero("sanctum_alerts_failed_total", channel=channel, reason=reason)


def _count_failure(row, reason: str) -> None:
    if row.kind in CRISIS_KINDS:
        metrics.count("sanctum_alerts_failed_total", channel=row.channel, reason=reason)


class Delivery(DependencyProvider):
    """Runs the Deliverer in the service's process; workers call ``wake()``."""

    def setup(self):
        self.database = database_of(self.container, "Delivery")

    def start(self):
        zero_figures()
        options = settings()
        self.deliverer = Deliverer(
            self.database, dispatcher_of(self.container), all_channels(),
            max_attempts=options.max_attempts,
            retry_base_seconds=options.retry_base_seconds,
        )
        self.container.spawn_managed_thread(self.deliverer.loop.run, identifier="delivery")

    def stop(self):
        self.deliverer.loop.stop()

    def get_dependency(self, worker_ctx):
        return self.deliverer.loop

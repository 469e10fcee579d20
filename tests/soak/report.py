"""What the soak finds once the system has settled, and whether that is a pass.

Figures come from where the effects are: the soak's own database (rows), the
SMTP and SMS stand-ins (what reached people), and the broker (dead letters).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter

from sqlalchemy import create_engine, text

from services import registry
from tests.support.flows import CRISIS_SUBJECT

ACK_TOKEN = re.compile(r"\?token=([A-Za-z0-9_\-]+)&answer=")


class Database:
    """The soak's reads and its two writes (moving clocks on, as the tests do)."""

    def __init__(self, url: str):
        self.engine = create_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=True,
                                    connect_args={"connect_timeout": 5})

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def scalar(self, sql: str, **params):
        return self.rows(sql, **params)[0][0]

    def past_cool_down(self, user_id: str) -> None:
        """The user's last crisis moves back past any cool-down, so the next severe
        shift raises a crisis again (a soak cannot wait five minutes per crisis)."""
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE pattern_analysis.pattern_flags SET detected_at = detected_at "
                              "- interval '7 hours' WHERE user_id = :u AND crisis_id IS NOT NULL"),
                         {"u": user_id})

    def make_due(self, reminder_id: str) -> str | None:
        """Due now, unless its last due time has not fired yet. Returns the due time
        as the reminder's messages name it."""
        with self.engine.begin() as conn:
            due = conn.execute(text(
                "UPDATE notifications.scheduled_reminders SET next_due_at = date_trunc('second', now()) "
                "WHERE reminder_id = :r AND next_due_at > now() RETURNING next_due_at"),
                {"r": reminder_id}).scalar()
        return due.isoformat() if due else None

    def schemas(self) -> list[str]:
        return [process.name for process in registry.SERVICES.values()]

    def outbox_pending(self) -> dict[str, int]:
        return {schema: n for schema in self.schemas()
                if (n := self.scalar(f'SELECT count(*) FROM "{schema}".outbox WHERE status = \'pending\''))}

    def unsettled_work(self) -> dict[str, int]:
        """Work the system still owes: anything here means "not quiet yet"."""
        checks = {
            "notifications pending or sending": "SELECT count(*) FROM notifications.notifications "
                                                "WHERE status IN ('pending', 'sending')",
            "crisis steps due": "SELECT count(*) FROM notifications.crises WHERE status = 'open' "
                                "AND next_step_at <= now()",
            "reminders due": "SELECT count(*) FROM notifications.scheduled_reminders "
                             "WHERE active AND next_due_at <= now()",
        }
        found = {name: self.scalar(sql) for name, sql in checks.items()}
        found.update({f"outbox pending ({schema})": n for schema, n in self.outbox_pending().items()})
        return {name: n for name, n in found.items() if n}


def queue_depths(amqp_uri: str) -> dict[str, int]:
    """Messages waiting in every handler queue (main, retry, dead). A connection of
    its own each time: a pooled one may be dead from the last broker crash."""
    import kombu

    from services.ops.queues import all_handler_queues

    depths = {}
    with kombu.Connection(amqp_uri, connect_timeout=5) as conn:
        channel = conn.channel()
        for group in all_handler_queues():
            for queue in [group["main"], *group["retries"], group["dead"]]:
                depths[queue.name] = channel.queue_declare(queue.name, passive=True).message_count
    return depths


def settle(database: Database, amqp_uri: str, acknowledged: dict, timeout: float) -> dict:
    """Wait until nothing is owed: every acknowledged shift analysed, no outbox row
    pending, no message waiting outside the dead-letter queues, no notification or
    reminder due; the same for three checks in a row. Returns what is still owed."""
    deadline, quiet_checks = time.monotonic() + timeout, 0
    owed: dict = {}
    while time.monotonic() < deadline:
        try:
            owed = database.unsettled_work()
            analysed = not_analysed(database, acknowledged)
            if analysed:
                owed["shifts not analysed yet"] = len(analysed)
            waiting = {q: n for q, n in queue_depths(amqp_uri).items() if n and not q.endswith(".dead")}
            if waiting:
                owed["messages in handler queues"] = sum(waiting.values())
        except Exception as exc:  # a server still restarting
            owed = {"unreachable": repr(exc)[:120]}
        quiet_checks = 0 if owed else quiet_checks + 1
        if quiet_checks >= 3:
            return {}
        time.sleep(1)
    return owed


def stored_shifts(database: Database, acknowledged: dict) -> list:
    return database.rows("SELECT shift_id::text, user_id::text, request_id, note "
                         "FROM mood_tracking.mood_shifts WHERE request_id = ANY(:keys)",
                         keys=list(acknowledged))


def not_analysed(database: Database, acknowledged: dict) -> list[str]:
    ids = [entry["shift_id"] for entry in acknowledged.values()]
    analysed = {row[0] for row in database.rows(
        "SELECT record_id::text FROM pattern_analysis.pattern_analyses "
        "WHERE record_id = ANY(CAST(:ids AS uuid[]))", ids=ids)}
    return [shift_id for shift_id in ids if shift_id not in analysed]


def shift_figures(database: Database, ledger) -> dict:
    acknowledged = ledger.acknowledged
    stored = stored_shifts(database, acknowledged)
    by_key = Counter(row.request_id for row in stored)
    by_note = Counter(row.note for row in stored)
    stored_id = {row.request_id: row.shift_id for row in stored}
    analyses = Counter(row[0] for row in database.rows(
        "SELECT record_id::text FROM pattern_analysis.pattern_analyses WHERE record_id = ANY(CAST(:ids AS uuid[]))",
        ids=[entry["shift_id"] for entry in acknowledged.values()]))
    return {
        "acknowledged": len(acknowledged),
        "crisis shifts acknowledged": sum(1 for e in acknowledged.values() if e["kind"] == "crisis"),
        "retried (more than one attempt)": sum(1 for n in ledger.attempts if n > 1),
        "most attempts for one request": max(ledger.attempts, default=0),
        "gave up (never acknowledged)": len(ledger.gave_up),
        "refused (unexpected 4xx)": len(ledger.refused),
        "answers to the clients' tries": dict(sorted(ledger.answers.items(), key=str)),
        "access tokens renewed": ledger.renewals,
        "lost": sum(1 for key in acknowledged if key not in by_key),
        "duplicated": sum(1 for n in by_key.values() if n > 1) + sum(1 for n in by_note.values() if n > 1),
        "acknowledged id differs from stored": sum(
            1 for key, entry in acknowledged.items() if key in stored_id and stored_id[key] != entry["shift_id"]),
        "not analysed": sum(1 for entry in acknowledged.values() if entry["shift_id"] not in analyses),
        "analysed twice": sum(1 for n in analyses.values() if n > 1),
    }


def alert_figures(database: Database, sinks, crisis_users: list) -> dict:
    """Per crisis and contact: how many emails and SMS arrived (each should be 1)."""
    users = [client.user_id for client in crisis_users]
    raised = {row[0] for row in database.rows(
        "SELECT DISTINCT crisis_id::text FROM pattern_analysis.pattern_flags "
        "WHERE crisis_id IS NOT NULL AND user_id = ANY(CAST(:u AS uuid[]))", u=users)}
    opened = {row[0] for row in database.rows(
        "SELECT crisis_id::text FROM notifications.crises WHERE user_id = ANY(CAST(:u AS uuid[]))", u=users)}
    step_of = {row.token_hash: row.crisis_id for row in database.rows(
        "SELECT token_hash, crisis_id::text FROM notifications.crisis_steps s JOIN notifications.crises c "
        "USING (crisis_id) WHERE c.user_id = ANY(CAST(:u AS uuid[])) AND token_hash IS NOT NULL", u=users)}
    uncertain = {row[0] for row in database.rows(
        "SELECT reference || '/' || channel FROM notifications.notifications WHERE kind = 'crisis' "
        "AND status = 'uncertain' AND user_id = ANY(CAST(:u AS uuid[]))", u=users)}
    emails, sms = Counter(), Counter()
    for client in crisis_users:
        for message in sinks.emails(to=client.contact_email):
            if CRISIS_SUBJECT in message["subject"]:
                emails[_crisis_of(message["body"], step_of)] += 1
        for message in sinks.sms(to=client.contact_phone):
            if CRISIS_SUBJECT in message["text"]:
                sms[_crisis_of(message["text"], step_of)] += 1
    missing = {f"{crisis}/{channel}" for crisis in opened for channel, counts in
               (("email", emails), ("sms", sms)) if counts[crisis] == 0}
    return {
        "crises raised": len(raised),
        "crises that never reached notifications": len(raised - opened),
        "emails per crisis per contact": dict(Counter(emails[c] for c in opened)),
        "SMS per crisis per contact": dict(Counter(sms[c] for c in opened)),
        "alerts sent twice": sum(1 for n in [*emails.values(), *sms.values()] if n > 1),
        "alerts missing": len(missing - uncertain),
        "alerts in doubt (sender died mid-send, marked uncertain)": len(uncertain),
        "alerts that match no crisis": emails[None] + sms[None],
    }


def _crisis_of(text_: str, step_of: dict) -> str | None:
    found = ACK_TOKEN.search(text_)
    return step_of.get(hashlib.sha256(found.group(1).encode()).hexdigest()) if found else None


def reminder_figures(database: Database, sinks, reminder_users: list, dues: dict) -> dict:
    """Per reminder and due time: messages planned, and emails that arrived."""
    planned = Counter(row.reference for row in database.rows(
        "SELECT reference FROM notifications.notifications WHERE kind = 'reminder' AND channel = 'email'"))
    fired_per_due, arrived_per_reminder = Counter(), {}
    for client in reminder_users:
        due_times = dues.get(client.reminder_id, [])
        for due in due_times:
            fired_per_due[planned[f"{client.reminder_id}@{due}"]] += 1
        arrived = sum(1 for m in sinks.emails(to=client.email) if m["subject"].startswith("Reminder:"))
        arrived_per_reminder[client.reminder_id] = (len(due_times), arrived)
    return {
        "due times made": sum(len(v) for v in dues.values()),
        "fired per reminder per due time": dict(fired_per_due),
        "emails arrived minus due times (per reminder)": sorted(
            arrived - expected for expected, arrived in arrived_per_reminder.values()),
    }


def dead_letters(amqp_uri: str) -> dict[str, int]:
    return {q: n for q, n in queue_depths(amqp_uri).items() if q.endswith(".dead") and n}


def verdict(figures: dict) -> list[str]:
    """Why the run failed: every loss and every duplicate, by name."""
    shifts, alerts, reminders = figures["shifts"], figures["alerts"], figures["reminders"]
    problems = [f"{name}: {shifts[name]}" for name in (
        "lost", "duplicated", "acknowledged id differs from stored", "not analysed", "analysed twice",
        "refused (unexpected 4xx)") if shifts[name]]
    problems += [f"{name}: {alerts[name]}" for name in (
        "crises that never reached notifications", "alerts sent twice", "alerts missing",
        "alerts that match no crisis") if alerts[name]]
    if set(reminders["fired per reminder per due time"]) - {1}:
        problems.append(f"reminders not fired exactly once: {reminders['fired per reminder per due time']}")
    if any(reminders["emails arrived minus due times (per reminder)"]):
        problems.append("reminder emails do not match due times: "
                        f"{reminders['emails arrived minus due times (per reminder)']}")
    if figures["dead letters"]:
        problems.append(f"dead letters: {figures['dead letters']}")
    if figures["still owed after settling"]:
        problems.append(f"did not settle: {figures['still owed after settling']}")
    if alerts["crises raised"] == 0 or shifts["acknowledged"] == 0:
        problems.append("the run exercised nothing: no crisis raised or no shift acknowledged")
    return problems

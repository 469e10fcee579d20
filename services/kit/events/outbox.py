"""Dispatching events through the transactional outbox.

``self.events.dispatch("mood.shift.logged", data)`` writes a row to the
service's ``outbox`` table inside the worker's transaction. Once it commits, a
relay thread in the same process publishes the event (publisher confirms,
mandatory routing) and marks the row published; rows a crash left pending are
swept up later, so a crash between commit and publish only delays the event.
It may publish twice; handlers are idempotent (services/kit/events/handlers.py).

A write done in one SQL statement (a PL/pgSQL function run with
``db.execute_alone``) writes its outbox row through the kit's SQL function
``<schema>.outbox_write`` (``outbox_write_function``), so no domain SQL names
the outbox's columns: ``row = self.events.new_row(...)``, pass ``row["payload"]``
and ``row["headers"]`` to the statement, then ``self.events.written(row)``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
import uuid
from collections import deque
from datetime import datetime, timedelta, timezone

import eventlet
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from services.kit import config, metrics, service_auth, telemetry
from services.kit.amqp import BROKER_DOWN, ConfirmedChannel
from services.kit.db import database_of
from services.kit.events.topology import amqp_uri
from services.kit.loops import WakeableLoop

log = logging.getLogger(__name__)

OUTBOX_RETENTION_DAYS = 7
PRUNE_EVERY_SECONDS = 600
BUSY_WITHIN_SECONDS = 0.1


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("event_id", UUID(as_uuid=False), primary_key=True),
        Column("event_type", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("headers", JSONB, nullable=False, server_default="{}"),
        # The user the event is about, so account erasure can find it.
        Column("subject_id", UUID(as_uuid=False), index=True),
        Column("status", Text, nullable=False, server_default="pending"),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        CheckConstraint("status IN ('pending', 'published', 'unroutable')", name="outbox_status"),
        Index("outbox_pending", "created_at", postgresql_where=text("status = 'pending'")),
    )


def outbox_write_function(schema: str) -> str:
    """DDL of ``<schema>.outbox_write(event, headers, subject_id)``: how a SQL function
    of the service puts an event (an envelope from ``Dispatch.new_row``) in the outbox.
    Migrations create it with the kit's tables (migrations/kit_tables.py)."""
    return f"""
CREATE OR REPLACE FUNCTION "{schema}".outbox_write(
    p_event jsonb, p_headers jsonb, p_subject_id uuid) RETURNS jsonb
LANGUAGE sql AS $$
    INSERT INTO "{schema}".outbox (event_id, event_type, payload, headers, subject_id)
    VALUES ((p_event->>'event_id')::uuid, p_event->>'event_type', p_event, p_headers,
            p_subject_id)
    RETURNING payload
$$"""


def envelope(event_type: str, source: str, data: dict | None, subject_id: str | None) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "source": source,
        "occurred_at": datetime.now(timezone.utc).isoformat(),
        "subject_id": subject_id,
        "data": data,
    }


class OutboxRelay:
    """Publishes one schema's committed outbox rows, with publisher confirms.

    Fast path: a worker's events are handed over in memory once its transaction
    has committed, published at once, and marked published in batches, so the
    relay never reads them back. Sweep: a row still pending ``sweep_after``
    seconds after it was written (the process died between commit and publish,
    the broker was down, or a publish failed) is read back and published then.
    Either path may publish an event twice (a crash after the publish, before
    the mark); handlers are idempotent. It runs beside the workers, not in one,
    so it uses the service's engine with its own short transactions.
    """

    batch_size = 200
    events_per_message = 50
    mark_every_seconds = 0.2
    fill_seconds = 0.005
    steady_within = 0.02

    def __init__(self, service_name: str, table: Table, engine):
        self.service_name = service_name
        self.table = table
        self.engine = engine
        self.exchange = get_event_exchange(service_name)
        self.channel = ConfirmedChannel(amqp_uri())
        self.sweep_after = config.settings(config.EventSettings).outbox_sweep_after_seconds
        self._credential = {service_auth.HEADER: service_auth.credential_for(service_name)}
        self._handed_over: deque[dict] = deque()
        self._outcomes: dict[str, list[str]] = {"published": [], "unroutable": []}
        self._next_mark = self._next_sweep = self._next_prune = self._last_publish = 0.0
        self._last_batch = 0
        self.loop = WakeableLoop(f"outbox relay ({service_name})", self.step)

    def hand_over(self, rows: list[dict]) -> None:
        """Committed rows (``event_id``, ``event_type``, ``payload``, ``headers``)."""
        self._handed_over.extend(rows)
        self.loop.wake()

    def step(self) -> bool:
        now = time.monotonic()
        if self._handed_over:
            since_last = now - self._last_publish
            if since_last < self.steady_within or (self._last_batch > 1 and since_last < BUSY_WITHIN_SECONDS):
                # Busy (events in quick succession, or piling up): a few ms more and
                # one confirm wait covers several events. Otherwise publish at once.
                eventlet.sleep(self.fill_seconds)
            self._last_publish = time.monotonic()
            self._last_batch = self._publish_handed_over()
        if now >= self._next_mark:
            self.mark_outcomes()
            self._next_mark = now + self.mark_every_seconds
        if now >= self._next_sweep:
            self._next_sweep = now + min(self.sweep_after, 5.0)
            if self.sweep() == self.batch_size:
                self._next_sweep = now
        if now >= self._next_prune:
            self.prune()
            self._next_prune = now + PRUNE_EVERY_SECONDS
        return bool(self._handed_over) or self._next_sweep <= now

    def stop(self) -> None:
        self.loop.stop()
        with contextlib.suppress(Exception):
            self.mark_outcomes()
        self.channel.close()

    def _publish_handed_over(self) -> int:
        batch = [self._handed_over.popleft()
                 for _ in range(min(self.batch_size, len(self._handed_over)))]
        try:
            outcomes = self._publish(batch)
        except BROKER_DOWN:
            # Every row not yet confirmed stays pending in the table; the sweep has them.
            self._handed_over.clear()
            raise
        for row in batch:
            outcome = outcomes[row["event_id"]]
            if outcome in self._outcomes:
                self._outcomes[outcome].append(row["event_id"])
        return len(batch)

    def _publish(self, rows: list[dict]) -> dict[str, str]:
        """Publish rows together, confirmed by the broker: event id -> "published",
        "unroutable", or "failed" (refused by the broker; the sweep retries it).
        A broker that cannot be reached raises (the loop backs off).

        Events of one type waiting together travel as one message (a JSON list of
        envelopes, up to ``events_per_message``): under load the broker routes, stores
        and delivers one message to each subscriber instead of one per event. Alone,
        an event is a message of its own (the envelope itself), as before."""
        groups = _by_type(rows, self.events_per_message)
        sent = self.channel.publish_all(self.exchange, [
            (group[0]["event_id"], group[0]["event_type"],
             group[0]["payload"] if len(group) == 1 else [row["payload"] for row in group],
             {**(group[0]["headers"] or {}), **self._credential})
            for group in groups
        ])
        outcomes = {row["event_id"]: sent[group[0]["event_id"]] for group in groups for row in group}
        published = sum(1 for outcome in outcomes.values() if outcome == "published")
        if published:
            metrics.count("sanctum_events_published_total", published, service=self.service_name)
        for row in rows:
            outcome = outcomes[row["event_id"]]
            if outcome == "unroutable":
                # Queues are declared at migrate time, so no route means no subscriber.
                log.warning("event %s (%s) has no subscriber", row["event_id"], row["event_type"])
            elif outcome == "failed":
                log.error("event %s (%s) was refused by the broker; the sweep retries it",
                          row["event_id"], row["event_type"])
        return outcomes

    def mark_outcomes(self) -> None:
        """Record what went out, in one statement per outcome. Once out, a row
        keeps only its metadata: no health data at rest in the outbox."""
        for status, event_ids in self._outcomes.items():
            if event_ids:
                taken, self._outcomes[status] = event_ids, []
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(_mark_statement(self.table), {"ids": taken, "status": status})

    def sweep(self) -> int:
        """Publish rows left pending; each failure backs off on its own row."""
        table = self.table
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(table.c.event_id, table.c.event_type, table.c.payload, table.c.headers,
                       table.c.attempts)
                .where(table.c.status == "pending", table.c.next_attempt_at <= func.now(),
                       table.c.created_at <= func.now() - timedelta(seconds=self.sweep_after))
                .order_by(table.c.created_at)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            outcomes = self._publish([row._asdict() for row in rows]) if rows else {}
            for row in rows:
                outcome = outcomes[row.event_id]
                attempts = row.attempts + 1
                if outcome == "failed":
                    delay = min(600, 2 ** attempts)
                    values = {"attempts": attempts,
                              "next_attempt_at": func.now() + timedelta(seconds=delay)}
                else:
                    values = {"status": outcome, "published_at": func.now(), "attempts": attempts,
                              "payload": {}, "headers": {}}
                conn.execute(update(table).where(table.c.event_id == row.event_id).values(**values))
        return len(rows)

    def prune(self) -> None:
        table = self.table
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(
                table.c.status != "pending",
                table.c.published_at < func.now() - timedelta(days=OUTBOX_RETENTION_DAYS)))


def _by_type(rows: list[dict], size: int) -> list[list[dict]]:
    """Rows grouped by event type (the routing key), in order, at most ``size`` a group."""
    groups: dict[str, list[list[dict]]] = {}
    for row in rows:
        chunks = groups.setdefault(row["event_type"], [[]])
        if len(chunks[-1]) == size:
            chunks.append([])
        chunks[-1].append(row)
    return [chunk for chunks in groups.values() for chunk in chunks]


@functools.cache
def _mark_statement(table: Table):
    return (update(table)
            .where(table.c.event_id == any_(cast(bindparam("ids"), ARRAY(UUID(as_uuid=False)))),
                   table.c.status == "pending")
            .values(status=bindparam("status"), published_at=func.now(),
                    attempts=table.c.attempts + 1, payload={}, headers={}))


@functools.cache
def _outbox_insert(table: Table):
    """Built once per schema, so dispatching only binds values."""
    return insert(table).values({name: bindparam(name) for name in
                                 ("event_id", "event_type", "payload", "headers", "subject_id")})


class Dispatch:
    """What a worker sees as ``self.events``."""

    def __init__(self, service_name, session_getter, table, relay, worker_ctx):
        self.service_name = service_name
        self._session = session_getter
        self._table = table
        self._relay = relay
        self._worker_ctx = worker_ctx

    def dispatch(self, event_type: str, data: dict, subject_id: str | None = None) -> str:
        row = self.new_row(event_type, data, subject_id)
        self._session().execute(_outbox_insert(self._table), row)
        self.written(row)
        return row["event_id"]

    def new_row(self, event_type: str, data: dict | None, subject_id: str | None = None) -> dict:
        """An outbox row. ``dispatch`` inserts it; a write done in one SQL statement
        inserts it itself (filling in its data) and then calls ``written``."""
        event = envelope(event_type, self.service_name, data, subject_id)
        return {
            "event_id": event["event_id"],
            "event_type": event_type,
            "payload": event,
            "headers": {"nameko.call_id_stack": self._worker_ctx.call_id_stack,
                        **telemetry.trace_headers()},
            "subject_id": subject_id,
        }

    def written(self, row: dict) -> None:
        """``row`` is in the outbox: the relay publishes it once the worker commits."""
        self._session().on_commit(lambda: self._relay.hand_over([row]))

    def erase_subject(self, subject_id: str) -> None:
        """Forget every outbox row about a user (account erasure)."""
        self._session().execute(delete(self._table).where(self._table.c.subject_id == subject_id))


class EventDispatcher(DependencyProvider):
    """Outbox-backed event dispatch; needs a ``Database`` on the same service.

    Work outside a worker (a background loop with its own ``session_scope``)
    dispatches with ``dispatch_in(session, ...)``: the same outbox row, in that
    session's transaction, handed to the relay once it commits."""

    def setup(self):
        # The outbox lives in the service's schema, written in the worker's transaction.
        self.database = database_of(self.container, "EventDispatcher")

    def start(self):
        # After every setup(): the Database's engine and schema exist by now.
        self.table = outbox_table(MetaData(schema=self.database.schema))
        self.relay = OutboxRelay(self.container.service_name, self.table, self.database.engine)
        self.container.spawn_managed_thread(self.relay.loop.run, identifier="outbox_relay")

    def stop(self):
        self.relay.stop()

    def dispatch_in(self, session, event_type: str, data: dict, subject_id: str | None = None) -> str:
        event = envelope(event_type, self.container.service_name, data, subject_id)
        row = {"event_id": event["event_id"], "event_type": event_type, "payload": event,
               "headers": telemetry.trace_headers(), "subject_id": subject_id}
        session.execute(_outbox_insert(self.table), row)
        session.on_commit(lambda: self.relay.hand_over([row]))
        return row["event_id"]

    def get_dependency(self, worker_ctx):
        return Dispatch(
            self.container.service_name,
            lambda: self.database.sessions[worker_ctx],
            self.table,
            self.relay,
            worker_ctx,
        )




def dispatcher_of(container) -> EventDispatcher:
    """The container's EventDispatcher, for extensions that publish from the background."""
    for dependency in container.dependencies:
        if isinstance(dependency, EventDispatcher):
            return dependency
    raise RuntimeError(f"{container.service_name}: needs an EventDispatcher")

"""Events that are never lost and never take effect twice.

Dispatch: ``self.events.dispatch("mood.shift.logged", data)`` writes a row to the
service's ``outbox`` table inside the worker's transaction. Once it commits, a
relay thread in the same process publishes the event (publisher confirms,
mandatory routing) and marks the row published; rows a crash left pending are
swept up later, so a crash between commit and publish only delays the event.
It may publish twice; handlers are idempotent.

Handle: ``@event_handler("mood_tracking", "mood.shift.logged")`` (or
``@batch_event_handler``, whose method takes a list) consumes with these
guarantees:
- the events waiting in the queue are taken as one batch: one worker, one
  transaction, one ack; a failed batch is rerun one event at a time;
- the envelope's ``event_id`` is claimed in ``processed_events`` in the same
  transaction as the handler's effects, so a redelivered event is skipped;
- the transaction commits before the message is acked;
- a failing handler is retried after growing delays (one TTL queue per delay,
  dead-lettering back to the handler's queue), then parked in ``<queue>.dead``
  for an operator to inspect and replay (services.kit.dlq);
- an event without a valid service credential is refused into the dead queue.
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
import eventlet.event
from amqp.exceptions import ConnectionError as AmqpConnectionError
from eventlet.queue import Full, LightQueue
from kombu import Queue
from kombu.common import maybe_declare
from nameko import config as nameko_config
from nameko.amqp.consume import Consumer as AmqpConsumer
from nameko.amqp.publish import Publisher as AmqpPublisher
from nameko.amqp.publish import get_connection
from nameko.constants import AMQP_URI_CONFIG_KEY, DEFAULT_AMQP_URI
from nameko.events import SERVICE_POOL
from nameko.events import EventHandler as NamekoEventHandler
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import DependencyProvider
from nameko.messaging import decode_from_headers
from nameko.standalone.events import get_event_exchange
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
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
from sqlalchemy.exc import IntegrityError

from services.kit import config, service_auth
from services.kit.amqp import BROKER_DOWN, ConfirmedChannel
from services.kit.db import database_of, finish_transactions
from services.kit.errors import ServiceAuthFailed
from services.kit.loops import WakeableLoop
from services.kit.records import refers_to_erased_row

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-sanctum-attempt"
OUTBOX_RETENTION_DAYS = 7
PRUNE_EVERY_SECONDS = 600
ERROR_HEADER = "x-sanctum-error"
DEFAULT_RETRY_DELAYS_MS = (1000, 5000, 30000, 120000, 600000)
BUSY_WITHIN_SECONDS = 0.1


# --- tables every event-using schema carries ---------------------------------

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


def processed_events_table(metadata: MetaData) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("event_id", UUID(as_uuid=False), nullable=False),
        Column("consumer", Text, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("event_id", "consumer"),
    )


# --- names --------------------------------------------------------------------

def amqp_uri() -> str:
    return nameko_config.get(AMQP_URI_CONFIG_KEY, DEFAULT_AMQP_URI)


def retry_delays_ms() -> tuple[int, ...]:
    delays = config.get("EVENT_RETRY_DELAYS_MS") or DEFAULT_RETRY_DELAYS_MS
    return tuple(int(d) for d in delays)


def handler_queue_name(source: str, event_type: str, service: str, method: str) -> str:
    # nameko's own SERVICE_POOL naming, so tooling that knows nameko finds it.
    return f"evt-{source}-{event_type}--{service}.{method}"


def handler_queues(source: str, event_type: str, service: str, method: str) -> dict:
    """The main queue, one retry queue per delay, and the dead-letter queue."""
    name = handler_queue_name(source, event_type, service, method)
    main = Queue(name, exchange=get_event_exchange(source), routing_key=event_type, durable=True)
    retries = [
        Queue(
            f"{name}.retry-{delay}ms",
            durable=True,
            queue_arguments={
                "x-message-ttl": delay,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": name,
            },
        )
        for delay in retry_delays_ms()
    ]
    dead = Queue(f"{name}.dead", durable=True)
    return {"main": main, "retries": retries, "dead": dead}


def envelope(event_type: str, source: str, data: dict, subject_id: str | None) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "source": source,
        "occurred_at": datetime.now(timezone.utc).isoformat(),
        "subject_id": subject_id,
        "data": data,
    }


# --- dispatching through the outbox -----------------------------------------

class OutboxRelay:
    """Publishes one schema's committed outbox rows, with publisher confirms.

    Fast path: a worker's events are handed over in memory once its transaction
    has committed, published at once, and marked published in batches, so the
    relay never reads them back. Sweep: a row still pending ``sweep_after``
    seconds after it was written (the process died between commit and publish,
    the broker was down, or a publish failed) is read back and published then.
    Either path may publish an event twice (a crash after the publish, before
    the mark); handlers are idempotent.
    """

    batch_size = 200
    mark_every_seconds = 0.2
    fill_seconds = 0.005
    steady_within = 0.02

    def __init__(self, service_name: str, table: Table, engine):
        self.service_name = service_name
        self.table = table
        self.engine = engine
        self.exchange = get_event_exchange(service_name)
        self.channel = ConfirmedChannel(amqp_uri())
        self.sweep_after = float(config.get("OUTBOX_SWEEP_AFTER_SECONDS") or 10)
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
        A broker that cannot be reached raises (the loop backs off)."""
        outcomes = self.channel.publish_all(self.exchange, [
            (row["event_id"], row["event_type"], row["payload"],
             {**(row["headers"] or {}), **self._credential})
            for row in rows
        ])
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
            "headers": {"nameko.call_id_stack": self._worker_ctx.call_id_stack},
            "subject_id": subject_id,
        }

    def written(self, row: dict) -> None:
        """``row`` is in the outbox: the relay publishes it once the worker commits."""
        self._session().on_commit(lambda: self._relay.hand_over([row]))

    def erase_subject(self, subject_id: str) -> None:
        """Forget every outbox row about a user (account erasure)."""
        self._session().execute(delete(self._table).where(self._table.c.subject_id == subject_id))


class EventDispatcher(DependencyProvider):
    """Outbox-backed event dispatch; needs a ``Database`` on the same service."""

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

    def get_dependency(self, worker_ctx):
        return Dispatch(
            self.container.service_name,
            lambda: self.database.sessions[worker_ctx],
            self.table,
            self.relay,
            worker_ctx,
        )


# --- handling -----------------------------------------------------------------

class _BatchConsumer(AmqpConsumer):
    def ack_message_and_all_before(self, message) -> None:
        """One ack for a whole batch. Safe because batches run one at a time on
        this handler's own channel: every earlier delivery is settled already."""
        if message.channel.connection:
            with contextlib.suppress(AmqpConnectionError):
                message.ack(multiple=True)


class EventHandler(NamekoEventHandler):
    """nameko's event handler with credentials, commit-before-ack, retries, and
    batches: the events waiting in the queue are handled together, in one worker
    and one transaction, then acknowledged with one ack.

    Batches run one at a time per handler, in queue order. If a batch fails,
    its events are run again one by one, so a single bad event is retried (and
    finally dead-lettered) alone and never holds back the others.
    """

    def __init__(self, source_service: str, event_type: str, max_batch: int = 50, **kwargs):
        kwargs.pop("requeue_on_error", None)
        # The whole batch is unacknowledged while it runs: let the broker send that many.
        kwargs.setdefault("prefetch_count", max_batch)
        super().__init__(
            source_service, event_type, handler_type=SERVICE_POOL,
            reliable_delivery=True, requeue_on_error=False, **kwargs,
        )
        self.max_batch = max_batch

    consumer_cls = _BatchConsumer

    def setup(self):
        queues = handler_queues(
            self.source_service, self.event_type, self.container.service_name, self.method_name
        )
        self.retry_queues = queues["retries"]
        self.dead_queue = queues["dead"]
        with get_connection(amqp_uri()) as conn:
            channel = conn.channel()
            for queue in [*self.retry_queues, self.dead_queue]:
                maybe_declare(queue, channel)
        self.requeue_publisher = AmqpPublisher(amqp_uri(), use_confirms=True, serializer="json")
        self._arrived: deque = deque()
        self._wakeup = LightQueue(maxsize=1)
        super().setup()

    def start(self):
        self.container.spawn_managed_thread(self._run_batches, identifier=f"batches[{self.method_name}]")
        super().start()

    def handle_message(self, body, message):
        context_data = decode_from_headers(message.headers)
        try:
            service_auth.caller_of(context_data)
        except ServiceAuthFailed:
            log.warning("refused event on %s: no valid service credential", self.queue.name)
            self._park(message, "ServiceAuthFailed", self.dead_queue)
            return
        if not isinstance(body, dict) or not body.get("event_id"):
            log.warning("refused malformed event on %s", self.queue.name)
            self._park(message, "MalformedEvent", self.dead_queue)
            return
        service_auth.stamp(context_data, self.container.service_name)
        self._arrived.append((body, message, context_data))
        with contextlib.suppress(Full):
            self._wakeup.put_nowait(None)

    def _run_batches(self):
        window = float(config.get("EVENT_BATCH_WINDOW_MS") or 0) / 1000
        last_batch, last_size = 0.0, 0
        while True:
            self._wakeup.get()
            # Busy (events piled up behind the last batch, a moment ago): give this
            # one a few ms to fill, so one transaction carries several events.
            # Otherwise go at once: one event at a time pays no delay.
            busy = last_size > 1 and time.monotonic() - last_batch < BUSY_WITHIN_SECONDS
            eventlet.sleep(window if busy else 0)
            while self._arrived:
                batch = [self._arrived.popleft()
                         for _ in range(min(self.max_batch, len(self._arrived)))]
                last_batch, last_size = time.monotonic(), len(batch)
                self._handle(batch)

    def _handle(self, batch: list) -> None:
        error = self._run_worker(batch)
        if error is None:
            self.consumer.ack_message_and_all_before(batch[-1][1])
        elif len(batch) == 1:
            self._retry_later(batch[0][1], error)
        else:
            log.warning("a batch of %d events for %s failed (%s); handling them one by one",
                        len(batch), self.method_name, error)
            for item in batch:
                self._handle([item])

    def _run_worker(self, batch: list) -> str | None:
        """Run the handler over ``batch`` and wait; the error's name, or None."""
        outcome = eventlet.event.Event()

        def handle_result(worker_ctx, result=None, exc_info=None):
            exc_info = finish_transactions(self.container, worker_ctx, exc_info)
            outcome.send(None if exc_info is None else exc_info[0].__name__)
            return result, exc_info

        try:
            self.container.spawn_worker(self, ([body for body, _, _ in batch],), {},
                                        context_data=batch[0][2], handle_result=handle_result)
        except ContainerBeingKilled:
            for _, message, _ in batch:
                self.consumer.requeue_message(message)
            raise
        return outcome.wait()

    def _retry_later(self, message, error: str) -> None:
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0)) + 1
        if attempt <= len(self.retry_queues):
            target = self.retry_queues[attempt - 1]
            log.warning("event handler %s failed (%s); retry %d in %s",
                        self.method_name, error, attempt, target.name.rsplit("-", 1)[-1])
        else:
            target = self.dead_queue
            log.error("event handler %s failed (%s) %d times; parked in %s",
                      self.method_name, error, attempt, target.name)
        self._park(message, error, target, attempt)

    def _park(self, message, error: str, queue: Queue, attempt: int | None = None) -> None:
        """Move the message to ``queue`` (a retry or the dead-letter queue)."""
        headers = dict(message.headers or {})
        headers[ERROR_HEADER] = error
        if attempt is not None:
            headers[ATTEMPT_HEADER] = attempt
        self.requeue_publisher.publish(
            message.payload, exchange="", routing_key=queue.name, headers=headers,
            message_id=message.properties.get("message_id"),
        )
        self.consumer.ack_message(message)


def _handler(source_service: str, event_type: str, call, max_batch: int, fn):
    """The worker method behind both decorators: claim the batch's events in one
    statement, then ``call(self, fresh_events)`` on those not handled before."""

    @functools.wraps(fn)
    def handle(self, events):
        consumer = f"{self.name}.{fn.__name__}"
        # A redelivery can sit in the same batch as the first copy: handle it once.
        events = list({event["event_id"]: event for event in events}.values())
        fresh = self.db.claim_events([event["event_id"] for event in events], consumer)
        skipped = [event["event_id"] for event in events if event["event_id"] not in fresh]
        if skipped:
            log.info("events %s already handled by %s; skipped", ", ".join(skipped), consumer)
        events = [event for event in events if event["event_id"] in fresh]
        if not events:
            return None
        try:
            return call(self, events)
        except IntegrityError as exc:
            # In a batch, the one-by-one rerun finds which event it was.
            if len(events) > 1 or not refers_to_erased_row(exc):
                raise
        # The account was erased while the event was on its way: nothing is left
        # to act on, and retrying would fail forever. Undo, and remember the event.
        log.info("event %s skipped by %s: the account no longer exists", events[0]["event_id"], consumer)
        self.db.rollback()
        self.db.claim_events([events[0]["event_id"]], consumer)
        return None

    return EventHandler.decorator(source_service, event_type, max_batch=max_batch)(handle)


def event_handler(source_service: str, event_type: str, max_batch: int = 50):
    """Decorate a service method as an idempotent, retried event handler.

    The method receives one event envelope (``event_id``, ``event_type``,
    ``source``, ``occurred_at``, ``subject_id``, ``data``); the events of a
    batch are handled in turn, in one transaction. The service must have
    ``db = Database()``: event ids are claimed in its transaction. A handler
    whose write hits a foreign key that is gone (the user's account was erased
    meanwhile) has its work undone and the event counted as handled.
    """

    def decorate(fn):
        def each(self, events):
            for event in events:
                fn(self, event)

        return _handler(source_service, event_type, each, max_batch, fn)

    return decorate


def batch_event_handler(source_service: str, event_type: str, max_batch: int = 50):
    """As ``event_handler``, but the method receives the batch: a list of the
    envelopes not handled before, in queue order (for handlers that can do one
    query for many events)."""

    def decorate(fn):
        return _handler(source_service, event_type, fn, max_batch, fn)

    return decorate


def operator_dispatcher():
    """Publish an event directly, signed as the operator (shell, tests, replays)."""
    publisher = AmqpPublisher(amqp_uri(), use_confirms=True, serializer="json")
    headers = {service_auth.HEADER: service_auth.credential_for("operator")}

    def dispatch(source: str, event_type: str, data: dict, subject_id: str | None = None) -> str:
        event = envelope(event_type, source, data, subject_id)
        exchange = get_event_exchange(source)
        publisher.publish(
            event, exchange=exchange, routing_key=event_type, mandatory=True,
            headers=headers, declare=[exchange], message_id=event["event_id"],
        )
        return event["event_id"]

    return dispatch

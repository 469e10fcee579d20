"""Handling events: idempotent, retried, batched, committed before the ack.

``@event_handler("mood_tracking", "mood.shift.logged")`` (or
``@batch_event_handler``, whose method takes a list) consumes with these
guarantees:
- the events waiting in the queue are taken as one batch: one worker, one
  transaction, one ack; a failed batch is rerun one event at a time;
- the envelope's ``event_id`` is claimed in ``processed_events`` in the same
  transaction as the handler's effects, so a redelivered event is skipped;
- the transaction commits before the message is acked;
- a failing handler is retried after growing delays (one TTL queue per delay,
  dead-lettering back to the handler's queue), then parked in ``<queue>.dead``
  for an operator to inspect and replay (services/ops/dlq.py);
- an event without a valid service credential is refused into the dead queue.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections import deque

import eventlet
import eventlet.event
from amqp.exceptions import ConnectionError as AmqpConnectionError
from eventlet.queue import Full, LightQueue
from kombu import Queue
from kombu.common import maybe_declare
from nameko.amqp.consume import Consumer as AmqpConsumer
from nameko.amqp.publish import Publisher as AmqpPublisher
from nameko.amqp.publish import get_connection
from nameko.events import SERVICE_POOL
from nameko.events import EventHandler as NamekoEventHandler
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import decode_from_headers
from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    bindparam,
    cast,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.exc import IntegrityError

from services.kit import config, error_reports, metrics, service_auth
from services.kit.db import KitSession
from services.kit.entrypoints import finish_transactions
from services.kit.errors import ServiceAuthFailed
from services.kit.events.topology import (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    amqp_uri,
    handler_queues,
)
from services.kit.records import refers_to_erased_row

log = logging.getLogger(__name__)

BUSY_WITHIN_SECONDS = 0.1
# How long a handler of a derived view (session memory, a suggestion, activity days)
# lets its batch fill: nobody waits on it, and under load it then handles a few
# hundred milliseconds' worth of events per transaction.
VIEW_PATIENCE_MS = 250


def processed_events_table(metadata: MetaData) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("event_id", UUID(as_uuid=False), nullable=False),
        Column("consumer", Text, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("event_id", "consumer"),
    )


@functools.cache
def _claim_statement(schema: str):
    """Built once per schema: claiming only binds the ids and the consumer."""
    table = processed_events_table(MetaData(schema=schema))
    claimed = select(func.unnest(cast(bindparam("event_ids"), ARRAY(UUID(as_uuid=False)))),
                     bindparam("consumer", type_=Text))
    return (insert(table).from_select(["event_id", "consumer"], claimed)
            .on_conflict_do_nothing().returning(table.c.event_id))


def claim(session: KitSession, event_ids: list[str], consumer: str) -> set[str]:
    """Record that ``consumer`` handled these events; return those it had not.

    Runs inside the handler's transaction, so the claims and the handler's
    effects commit (or roll back) together. A concurrent duplicate waits on
    the primary key and then sees the conflict.
    """
    result = session.execute(_claim_statement(session.schema),
                             {"event_ids": event_ids, "consumer": consumer})
    return {str(event_id) for event_id in result.scalars()}


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

    def __init__(self, source_service: str, event_type: str, max_batch: int = 50,
                 patience_ms: float | None = None, **kwargs):
        """``patience_ms``: a handler nobody waits on (a derived view, a suggestion) lets
        its batch fill for that long whenever an event arrives, busy or not; under load
        it then handles many events per transaction. Handlers on the crisis path keep
        the default: no wait when idle, ``EVENTS.BATCH_WINDOW_MS`` when busy."""
        kwargs.pop("requeue_on_error", None)
        # The whole batch is unacknowledged while it runs: let the broker send that many.
        kwargs.setdefault("prefetch_count", max_batch)
        super().__init__(
            source_service, event_type, handler_type=SERVICE_POOL,
            reliable_delivery=True, requeue_on_error=False, **kwargs,
        )
        self.max_batch = max_batch
        self.patience = None if patience_ms is None else patience_ms / 1000

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
        """A message holds one event (its envelope) or several of one type (a list of
        envelopes: the relay sends events that wait together as one message)."""
        context_data = decode_from_headers(message.headers)
        try:
            service_auth.caller_of(context_data)
        except ServiceAuthFailed:
            log.warning("refused event on %s: no valid service credential", self.queue.name)
            self._refuse(message, "ServiceAuthFailed")
            return
        events = body if isinstance(body, list) else [body]
        if not events or not all(isinstance(event, dict) and event.get("event_id") for event in events):
            log.warning("refused malformed event on %s", self.queue.name)
            self._refuse(message, "MalformedEvent")
            return
        service_auth.stamp(context_data, self.container.service_name)
        self._arrived.extend((event, message, context_data) for event in events)
        with contextlib.suppress(Full):
            self._wakeup.put_nowait(None)

    def _run_batches(self):
        window = config.settings(config.EventSettings).batch_window_ms / 1000
        last_batch, last_size = 0.0, 0
        while True:
            self._wakeup.get()
            # Busy (events piled up behind the last batch, a moment ago): give this
            # one a few ms to fill, so one transaction carries several events.
            # Otherwise go at once: one event at a time pays no delay.
            busy = last_size > 1 and time.monotonic() - last_batch < BUSY_WITHIN_SECONDS
            if self.patience is not None:
                eventlet.sleep(self.patience)
            else:
                eventlet.sleep(window if busy else 0)
            while self._arrived:
                batch = self._next_batch()
                last_batch, last_size = time.monotonic(), len(batch)
                self._handle(batch)

    def _next_batch(self) -> list:
        """Up to ``max_batch`` events, never splitting a message's events between two
        batches (a message is acknowledged once every event in it is settled)."""
        batch = [self._arrived.popleft()]
        while self._arrived and (len(batch) < self.max_batch or self._arrived[0][1] is batch[-1][1]):
            batch.append(self._arrived.popleft())
        return batch

    def _handle(self, batch: list) -> None:
        """Run the batch; if it fails, run its events one by one and send each that
        fails on to a retry queue (or the dead-letter queue) alone. Then acknowledge
        every message of the batch with one ack."""
        started = time.perf_counter()
        error = self._run_worker(batch)
        metrics.observe("sanctum_event_batch_duration_seconds", time.perf_counter() - started,
                        service=self.container.service_name, handler=self.method_name)
        if error is None:
            self._count("ok", len(batch))
        elif len(batch) == 1:
            self._retry_later(batch[0], error)
        else:
            log.warning("a batch of %d events for %s failed (%s); handling them one by one",
                        len(batch), self.method_name, error)
            for item in batch:
                error = self._run_worker([item])
                if error is None:
                    self._count("ok")
                else:
                    self._retry_later(item, error)
        self.consumer.ack_message_and_all_before(batch[-1][1])

    def _run_worker(self, batch: list) -> str | None:
        """Run the handler over ``batch`` and wait; the error's name, or None."""
        outcome = eventlet.event.Event()

        def handle_result(worker_ctx, result=None, exc_info=None):
            exc_info = finish_transactions(self.container, worker_ctx, exc_info)
            if exc_info is not None and len(batch) == 1:  # a batch's failure is rerun alone
                error_reports.capture(exc_info)
            outcome.send(None if exc_info is None else exc_info[0].__name__)
            return result, exc_info

        try:
            self.container.spawn_worker(self, ([body for body, _, _ in batch],), {},
                                        context_data=batch[0][2], handle_result=handle_result)
        except ContainerBeingKilled:
            for message in {id(message): message for _, message, _ in batch}.values():
                self.consumer.requeue_message(message)
            raise
        return outcome.wait()

    def _retry_later(self, item, error: str) -> None:
        """Send one failed event on, alone, to its next retry queue or the dead-letter
        queue (confirmed by the broker before its message is acknowledged)."""
        event, message, _ = item
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0)) + 1
        if attempt <= len(self.retry_queues):
            target = self.retry_queues[attempt - 1]
            log.warning("event handler %s failed (%s); retry %d in %s",
                        self.method_name, error, attempt, target.name.rsplit("-", 1)[-1])
            self._count("retried")
        else:
            target = self.dead_queue
            log.error("event handler %s failed (%s) %d times; parked in %s",
                      self.method_name, error, attempt, target.name)
            self._count("dead_lettered")
        self._publish_to(target, event, message, error, attempt)

    def _count(self, outcome: str, events: int = 1) -> None:
        metrics.count("sanctum_events_handled_total", events, service=self.container.service_name,
                      handler=self.method_name, outcome=outcome)

    def _publish_to(self, queue: Queue, payload, message, error: str, attempt: int | None = None) -> None:
        headers = dict(message.headers or {})
        headers[ERROR_HEADER] = error
        if attempt is not None:
            headers[ATTEMPT_HEADER] = attempt
        self.requeue_publisher.publish(
            payload, exchange="", routing_key=queue.name, headers=headers,
            message_id=payload.get("event_id") if isinstance(payload, dict) else None,
        )

    def _refuse(self, message, error: str) -> None:
        """Park a message nobody may handle (no credential, not events) in the
        dead-letter queue as it came, and acknowledge it."""
        self._publish_to(self.dead_queue, message.payload, message, error)
        self.consumer.ack_message(message)


def _handler(source_service: str, event_type: str, call, max_batch: int, fn,
             patience_ms: float | None = None):
    """The worker method behind both decorators: claim the batch's events in one
    statement, then ``call(self, fresh_events)`` on those not handled before."""

    @functools.wraps(fn)
    def handle(self, events):
        consumer = f"{self.name}.{fn.__name__}"
        # A redelivery can sit in the same batch as the first copy: handle it once.
        events = list({event["event_id"]: event for event in events}.values())
        fresh = claim(self.db, [event["event_id"] for event in events], consumer)
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
        claim(self.db, [events[0]["event_id"]], consumer)
        return None

    return EventHandler.decorator(source_service, event_type, max_batch=max_batch,
                                  patience_ms=patience_ms)(handle)


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


def batch_event_handler(source_service: str, event_type: str, max_batch: int = 50,
                        patience_ms: float | None = None):
    """As ``event_handler``, but the method receives the batch: a list of the
    envelopes not handled before, in queue order (for handlers that can do one
    query for many events)."""

    def decorate(fn):
        return _handler(source_service, event_type, fn, max_batch, fn, patience_ms)

    return decorate



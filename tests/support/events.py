"""Watching and replaying events on the real broker."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

from kombu import Connection, Queue
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange

from services.kit import service_auth
from services.kit.events import amqp_uri


@contextmanager
def capture_events(source: str, event_type: str):
    """Collect the envelopes of events published while the block runs."""
    captured: list[dict] = []
    queue = Queue(f"test-capture-{uuid.uuid4().hex}", exchange=get_event_exchange(source),
                  routing_key=event_type, exclusive=True, auto_delete=True)
    with Connection(amqp_uri()) as conn:
        # A message holds one envelope, or a list of them (events that waited together).
        consumer = conn.Consumer(queue, callbacks=[lambda body, message: (
            captured.extend(body if isinstance(body, list) else [body]), message.ack())])
        with consumer:
            yield captured
            try:
                while True:
                    conn.drain_events(timeout=0.5)
            except TimeoutError:
                pass


def republish(source: str, event: dict) -> None:
    """Publish the very same envelope again, signed as its source service."""
    Publisher(amqp_uri(), use_confirms=True, serializer="json").publish(
        event, exchange=get_event_exchange(source), routing_key=event["event_type"],
        headers={service_auth.HEADER: service_auth.credential_for(source)}, mandatory=True)

"""Watching and replaying events on the real broker."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager, suppress

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


@contextmanager
def watching_events(source: str, event_type: str):
    """Watch events published while the block runs; yields ``wait_for(match)``, which
    returns the first envelope ``match`` accepts, waiting for it to arrive."""
    captured: list[dict] = []
    queue = Queue(f"test-watch-{uuid.uuid4().hex}", exchange=get_event_exchange(source),
                  routing_key=event_type, exclusive=True, auto_delete=True)
    with Connection(amqp_uri()) as conn:
        consumer = conn.Consumer(queue, callbacks=[lambda body, message: (captured.append(body),
                                                                            message.ack())])

        def wait_for(match, timeout: float = 15) -> dict:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                found = [event for event in captured if match(event)]
                if found:
                    return found[0]
                with suppress(TimeoutError):
                    conn.drain_events(timeout=0.2)
            raise AssertionError(f"no {event_type} event as expected within {timeout}s")

        with consumer:
            yield wait_for


def republish(source: str, event: dict) -> None:
    """Publish the very same envelope again, signed as its source service."""
    Publisher(amqp_uri(), use_confirms=True, serializer="json").publish(
        event, exchange=get_event_exchange(source), routing_key=event["event_type"],
        headers={service_auth.HEADER: service_auth.credential_for(source)}, mandatory=True)

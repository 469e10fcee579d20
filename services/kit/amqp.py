"""AMQP pieces of the kit: what the broker being down looks like, the shared
RPC producer, and the outbox relay's confirming channel."""

from __future__ import annotations

import contextlib
import socket
import time
from functools import partial

from amqp.exceptions import ChannelError
from amqp.exceptions import ConnectionError as AmqpConnectionError
from eventlet.semaphore import Semaphore
from kombu import Connection, Producer, serialization
from kombu.common import maybe_declare
from kombu.exceptions import OperationalError as KombuOperationalError

# The broker itself is unreachable (or stopped answering).
BROKER_DOWN = (OSError, AmqpConnectionError, KombuOperationalError)
# What a publish raises when the broker cannot take the message (down, or it closed the channel).
PUBLISH_FAILED = (*BROKER_DOWN, ChannelError)

_shared: dict[str, SharedProducer] = {}


class SharedProducer:
    """One long-lived connection and producer per process and broker, for messages
    published without confirms (RPC requests and replies): no pool lookup and no
    retry wrapper per message. A lock keeps each message's frames together on the
    shared channel; a broken connection is opened again, and the message sent
    once more, before giving up."""

    check_every_seconds = 1.0

    def __init__(self, uri: str):
        self.uri = uri
        self._connection = None
        self._producer = None
        self._lock = Semaphore()
        self._next_check = 0.0

    @classmethod
    def of(cls, uri: str) -> SharedProducer:
        if uri not in _shared:
            _shared[uri] = cls(uri)
        return _shared[uri]

    def publish(self, payload, **kwargs) -> None:
        with self._lock:
            for attempt in (1, 2):
                producer = self._producer or self._open()
                try:
                    self._notice_broker_closing()
                    producer.publish(payload, retry=False, **kwargs)
                    return
                except PUBLISH_FAILED:
                    self._close()
                    if attempt == 2:
                        raise

    def _notice_broker_closing(self) -> None:
        """Now and then, read what the broker sent: nothing is consumed here, but a
        channel the broker closed (it would drop whatever is published on it)
        raises, and a new one is opened."""
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + self.check_every_seconds
        with contextlib.suppress(socket.timeout):
            self._connection.drain_events(timeout=0)

    def _open(self) -> Producer:
        self._connection = Connection(self.uri)
        self._producer = Producer(self._connection.channel())
        return self._producer

    def _close(self) -> None:
        connection, self._connection, self._producer = self._connection, None, None
        release_quietly(connection)


def release_quietly(connection) -> None:
    """Let go of a connection that may be broken already."""
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.release()


class ConfirmedChannel:
    """One long-lived AMQP channel in confirm mode, for one green thread.

    ``publish_all`` sends a batch of persistent messages with mandatory routing,
    then waits once for the broker to confirm them all (a confirm per message,
    waited for one at a time, would cap the relay at one broker round trip per
    event). A broken connection is dropped and opened again on the next call.
    """

    confirm_timeout = 10.0

    def __init__(self, uri: str):
        self.uri = uri
        self._connection = None
        self._channel = None
        self._last_tag = 0  # the broker numbers a channel's messages 1, 2, ...
        self._unconfirmed: dict[int, str] = {}  # delivery tag -> message id
        self._returned: set[str] = set()
        self._outcomes: dict[str, str] = {}

    def publish_all(self, exchange, messages: list[tuple[str, str, dict, dict]]) -> dict[str, str]:
        """``messages``: (message id, routing key, payload, headers). Returns each
        message id's outcome: "published", "unroutable" or "failed" (nacked)."""
        try:
            channel = self._channel or self._open(exchange)
            for message_id, routing_key, payload, headers in messages:
                content_type, encoding, body = serialization.dumps(payload, serializer="json")
                message = channel.prepare_message(
                    body, 0, content_type, encoding, headers,
                    {"delivery_mode": 2, "message_id": message_id})
                channel.basic_publish(message, exchange=exchange.name, routing_key=routing_key,
                                      mandatory=True)
                self._last_tag += 1
                self._unconfirmed[self._last_tag] = message_id
            deadline = time.monotonic() + self.confirm_timeout
            while self._unconfirmed:
                # A timeout (OSError) counts as the broker being down.
                self._connection.drain_events(timeout=max(0.0, deadline - time.monotonic()))
        except Exception:
            # Whatever broke (the connection, or the broker closing the channel), the
            # confirm bookkeeping is void: start again on a new channel.
            self.close()
            raise
        outcomes, self._outcomes = self._outcomes, {}
        return outcomes

    def _open(self, exchange):
        self.close()
        self._connection = Connection(self.uri)
        channel = self._connection.channel()
        channel.events["basic_ack"].add(partial(self._settle, "published"))
        channel.events["basic_nack"].add(partial(self._settle, "failed"))
        channel.events["basic_return"].add(self._on_return)
        channel.confirm_select()
        maybe_declare(exchange, channel)
        self._channel, self._last_tag = channel, 0
        return channel

    def _settle(self, outcome: str, delivery_tag: int, multiple: bool) -> None:
        tags = [t for t in self._unconfirmed if t <= delivery_tag] if multiple else [delivery_tag]
        for tag in tags:
            message_id = self._unconfirmed.pop(tag, None)
            if message_id is None:
                continue
            if message_id in self._returned:
                self._returned.discard(message_id)
                self._outcomes[message_id] = "unroutable"
            else:
                self._outcomes[message_id] = outcome

    def _on_return(self, exception, exchange, routing_key, message) -> None:
        # The broker returns an unroutable message before it confirms it.
        self._returned.add(message.properties.get("message_id"))

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        self._unconfirmed.clear()
        self._returned.clear()
        self._outcomes.clear()
        release_quietly(connection)

"""AMQP pieces the kit's RPC and events share."""

from __future__ import annotations

import contextlib
import socket
import time

from amqp.exceptions import ChannelError
from amqp.exceptions import ConnectionError as AmqpConnectionError
from eventlet.semaphore import Semaphore
from kombu import Connection, Producer
from kombu.exceptions import OperationalError as KombuOperationalError

# The broker itself is unreachable (or stopped answering).
BROKER_DOWN = (OSError, AmqpConnectionError, KombuOperationalError)

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
                except (*BROKER_DOWN, ChannelError):
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
        if connection is not None:
            with contextlib.suppress(Exception):  # it is broken already
                connection.release()

"""The gateway's copy of the revoked-session list, kept current from Redis.

user_management sets a key per revoked session (it expires when the last
access token of that session would have) and publishes the session id on
``tokens.REVOCATIONS_CHANNEL``. Here a green thread subscribes, then loads the
keys that already exist, and from then on every check is answered from memory:
no Redis round trip per request. Until the copy is in sync (start-up, Redis
down, a lost subscription), each check asks Redis itself, as before.
"""

from __future__ import annotations

import logging
import time

import eventlet

from services.kit import tokens
from services.kit.redis import RedisConnectionError, RedisError

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0
PURGE_EVERY_SECONDS = 60.0
PING_EVERY_SECONDS = 5.0
SILENT_FOR_SECONDS = 12.0


class RevokedSessions:
    def __init__(self, redis):
        self.redis = redis
        self._expires: dict[str, float] = {}  # session id -> when it may be forgotten
        self.in_sync = False
        self._running = False

    def is_revoked(self, session_id: str) -> bool:
        if self.in_sync:
            return self._expires.get(session_id, 0.0) > time.monotonic()
        try:
            return bool(self.redis.exists(tokens.revoked_session_key(session_id)))
        except RedisError:
            # Availability over strictness: a person in crisis must still reach
            # the API. Tokens live at most 15 minutes; refresh is checked in PostgreSQL.
            log.warning("revocation list unavailable (Redis); token accepted on signature")
            return False

    def run(self) -> None:
        """Follow revocations until ``stop``; reconnect when Redis goes away."""
        self._running = True
        while self._running:
            try:
                self._follow()
            except RedisError as exc:
                log.warning("revocation feed lost (%s); asking Redis per request", type(exc).__name__)
            self.in_sync = False
            eventlet.sleep(RECONNECT_SECONDS)

    def stop(self) -> None:
        self._running = False

    def _follow(self) -> None:
        pubsub = self.redis.pubsub()
        try:
            pubsub.subscribe(tokens.REVOCATIONS_CHANNEL)
            self._await_subscription(pubsub)  # subscribed first, so nothing falls in between
            self._load_existing()
            self.in_sync = True
            last_heard = next_ping = time.monotonic()
            next_purge = last_heard + PURGE_EVERY_SECONDS
            while self._running:
                message = pubsub.get_message(timeout=1.0)
                now = time.monotonic()
                if message is not None:
                    last_heard = now
                    if message["type"] == "message":
                        self._remember(message["data"].decode(), tokens.revocation_ttl_seconds())
                if now >= next_ping:
                    # A connection can die without a word (a network partition): ask
                    # for a sign of life, and give up on the feed if none comes.
                    pubsub.ping("revocation-feed")
                    next_ping = now + PING_EVERY_SECONDS
                if now - last_heard > SILENT_FOR_SECONDS:
                    raise RedisConnectionError("the revocation feed went silent")
                if now >= next_purge:
                    self._purge()
                    next_purge = now + PURGE_EVERY_SECONDS
        finally:
            pubsub.close()

    @staticmethod
    def _await_subscription(pubsub) -> None:
        deadline = time.monotonic() + SILENT_FOR_SECONDS
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "subscribe":
                return
        raise RedisConnectionError("no subscription confirmed")

    def _load_existing(self) -> None:
        keys = list(self.redis.scan_iter(match=tokens.revoked_session_key("*"), count=1000))
        if not keys:
            return
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.ttl(key)
        prefix = len(tokens.revoked_session_key(""))
        for key, ttl in zip(keys, pipe.execute(), strict=True):
            if ttl != -2:  # -2: expired meanwhile; -1 (no expiry): revoked all the same
                self._remember(key.decode()[prefix:], ttl if ttl > 0 else tokens.revocation_ttl_seconds())

    def _remember(self, session_id: str, ttl_seconds: float) -> None:
        self._expires[session_id] = time.monotonic() + ttl_seconds

    def _purge(self) -> None:
        now = time.monotonic()
        for session_id in [s for s, expires in self._expires.items() if expires <= now]:
            del self._expires[session_id]

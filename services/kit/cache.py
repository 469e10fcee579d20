"""Read-through cache in Redis, per user, that a write can never leave stale.

Keys carry a per-user generation number: ``<ns>:<user>:g<generation>:<name>``.
A write bumps the generation after its commit, so every list and range cached
for that user is unreachable at once, while single records are deleted by key.
A reader that raced a write stores what it read under the old generation,
where nobody looks any more. One round trip per read (a Lua script reads the
generation and the value together).

Redis trouble never fails a request: reads fall through to PostgreSQL. If an
invalidation cannot be delivered, this process stops trusting the cache until
the entries it might have left behind have expired, and delivers the
invalidation as soon as Redis answers again.

The gateway answers a cache hit itself, without the RPC hop (``peek``; gateway/http.py
``CachedRead``): the key of a read is one function of its name and query
(``read_name``), used by the service that fills the entry and by the gateway that
peeks at it. A miss, or Redis being unreachable, goes to the service as before.
What the gateway makes of an entry (its HTTP body) is kept beside it under the same
generation (``CachedEntry.keep_rendered``), so the next hit is sent as it is: a write
makes both unreachable at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable

import eventlet
import orjson
from nameko.extensions import DependencyProvider

from services.kit import metrics
from services.kit.redis import RedisError
from services.kit.redis import client as redis_client

log = logging.getLogger(__name__)

READ = """
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])}
"""


PEEK = """
local generation = redis.call('GET', KEYS[1]) or '0'
local entry = ARGV[1] .. generation .. ':' .. ARGV[2]
local rendered = redis.call('GET', entry .. ARGV[3])
if rendered then return {generation, 'rendered', rendered} end
return {generation, 'value', redis.call('GET', entry), redis.call('PEXPIRETIME', entry)}
"""
BUMP = """
for _, key in ipairs(KEYS) do redis.call('INCR', key) end
"""
RENDERED = "|rendered"


def read_name(name: str, query: dict | None = None) -> str:
    """The cache entry's name for a read and its query: the same on both sides of an
    RPC (the service that fills it, the gateway that peeks at it)."""
    if not query:
        return name
    return f"{name}:{json.dumps(query, sort_keys=True, default=str, separators=(',', ':'))}"


class CachedEntry:
    """What a reader found in the cache: the service's value, or the bytes a reader
    rendered from it before (then ``value`` is not loaded at all)."""

    def __init__(self, redis, key: str, value=None, rendered: bytes | None = None,
                 expires_at_ms: int = 0):
        self._redis = redis
        self._key = key  # where the rendering is kept (beside the entry, per reader)
        self._expires_at_ms = expires_at_ms  # when the entry itself expires (Redis's clock)
        self.value = value
        self.rendered = rendered

    def keep_rendered(self, body: bytes) -> None:
        """Keep what was made of ``value`` beside it, under the same generation and for
        no longer than the entry itself lives (its lifetime bounds how stale a read can
        be if an invalidation is never delivered)."""
        if self._expires_at_ms <= 0:
            return
        with contextlib.suppress(RedisError):  # the next hit renders it again
            self._redis.set(self._key, body, pxat=self._expires_at_ms)


class UserCache:
    def __init__(self, redis, namespace: str, ttl_seconds: int = 120, service: str = ""):
        self.redis = redis
        self.namespace = namespace
        self.service = service or namespace  # the metrics' label
        self.ttl = ttl_seconds
        self._read = redis.register_script(READ)
        self._peek = redis.register_script(PEEK)
        self._bump_all = redis.register_script(BUMP)
        self._distrust_until = 0.0
        self._undelivered: set[str] = set()  # users whose invalidation Redis did not take

    def _generation_key(self, user_id: str) -> str:
        return f"{self.namespace}:{user_id}:generation"

    def _prefix(self, user_id: str) -> str:
        return f"{self.namespace}:{user_id}:g"

    def _trusted(self) -> bool:
        return time.monotonic() >= self._distrust_until

    def peek(self, user_id: str, name: str, reader: str = "") -> CachedEntry | None:
        """The cached entry ``name`` for this user, or None (not cached, or Redis
        unreachable): nothing is loaded from the database or stored. ``reader`` names
        what renders it (a gateway route), so two readers never share a rendering."""
        suffix = f"{RENDERED}:{reader}"
        try:
            generation, kind, cached, *expires_at_ms = self._peek(
                keys=[self._generation_key(user_id)], args=[self._prefix(user_id), name, suffix])
        except RedisError:
            return None
        metrics.count("sanctum_cache_requests_total", service=self.service,
                      result="miss" if cached is None else "hit")
        if cached is None:
            return None
        key = f"{self._prefix(user_id)}{generation.decode()}:{name}{suffix}"
        if kind == b"rendered":
            return CachedEntry(self.redis, key, rendered=cached)
        return CachedEntry(self.redis, key, value=orjson.loads(cached), expires_at_ms=expires_at_ms[0])

    def get_or_load(self, user_id: str, name: str, load: Callable[[], object]):
        """The cached value of ``name`` for this user, or ``load()`` (then cached)."""
        if not self._trusted():
            self.deliver_invalidations()
            return load()
        try:
            generation, cached = self._read(
                keys=[self._generation_key(user_id)], args=[self._prefix(user_id), name]
            )
        except RedisError:
            log.warning("cache %s unavailable; reading from the database", self.namespace)
            return load()
        if cached is not None:
            metrics.count("sanctum_cache_requests_total", service=self.service, result="hit")
            return orjson.loads(cached)
        metrics.count("sanctum_cache_requests_total", service=self.service, result="miss")
        value = load()
        try:
            key = f"{self._prefix(user_id)}{generation.decode()}:{name}"
            self.redis.set(key, json.dumps(value, separators=(",", ":")), ex=self.ttl)
        except RedisError:
            pass
        return value

    def invalidate(self, *user_ids: str) -> None:
        """Make everything cached for these users unreachable (call after commit);
        one round trip however many."""
        try:
            self._bump(user_ids)
        except RedisError:
            log.error("cache %s invalidation failed; bypassing the cache for %ss",
                      self.namespace, self.ttl)
            self._distrust_until = time.monotonic() + self.ttl
            self._undelivered.update(user_ids)

    def _bump(self, user_ids) -> None:
        # One command however many users (a pipeline was a tenth of mood tracking's CPU).
        self._bump_all(keys=[self._generation_key(user_id) for user_id in user_ids])

    def deliver_invalidations(self) -> None:
        """Deliver the invalidations Redis did not take: the gateway peeks at entries
        this process has stopped trusting, so they must become unreachable as soon as
        Redis answers again."""
        if not self._undelivered:
            return
        users = list(self._undelivered)
        try:
            self._bump(users)
        except RedisError:
            return
        self._undelivered.difference_update(users)
        log.info("cache %s: %d delayed invalidations delivered", self.namespace, len(users))

    def forget(self, user_id: str) -> None:
        """Drop the user's generation counter too (account erasure)."""
        try:
            self.redis.delete(self._generation_key(user_id))
            for key in self.redis.scan_iter(f"{self.namespace}:{user_id}:*", count=500):
                self.redis.delete(key)
        except RedisError:
            self._distrust_until = time.monotonic() + self.ttl


class Cache(DependencyProvider):
    """``cache = Cache("mood")`` on a service: one UserCache per process, and a loop
    that delivers invalidations Redis missed as soon as it answers again."""

    retry_every_seconds = 0.5

    def __init__(self, namespace: str, ttl_seconds: int = 120):
        self.namespace = namespace
        self.ttl_seconds = ttl_seconds

    def setup(self):
        self.cache = UserCache(redis_client(), self.namespace, self.ttl_seconds,
                               service=self.container.service_name)

    def start(self):
        self.running = True
        self.container.spawn_managed_thread(self._deliver, identifier=f"cache_{self.namespace}")

    def stop(self):
        self.running = False

    def _deliver(self):
        while self.running:
            self.cache.deliver_invalidations()
            eventlet.sleep(self.retry_every_seconds)

    def get_dependency(self, worker_ctx):
        return self.cache

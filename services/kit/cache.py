"""Read-through cache in Redis, per user, that a write can never leave stale.

Keys carry a per-user generation number: ``<ns>:<user>:g<generation>:<name>``.
A write bumps the generation after its commit, so every list and range cached
for that user is unreachable at once, while single records are deleted by key.
A reader that raced a write stores what it read under the old generation,
where nobody looks any more. One round trip per read (a Lua script reads the
generation and the value together).

Redis trouble never fails a request: reads fall through to PostgreSQL. If an
invalidation cannot be delivered, this process stops trusting the cache until
the entries it might have left behind have expired.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from nameko.extensions import DependencyProvider

from services.kit import metrics
from services.kit.redis import RedisError
from services.kit.redis import client as redis_client

log = logging.getLogger(__name__)

READ = """
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])}
"""


class UserCache:
    def __init__(self, redis, namespace: str, ttl_seconds: int = 120, service: str = ""):
        self.redis = redis
        self.namespace = namespace
        self.service = service or namespace  # the metrics' label
        self.ttl = ttl_seconds
        self._read = redis.register_script(READ)
        self._distrust_until = 0.0

    def _generation_key(self, user_id: str) -> str:
        return f"{self.namespace}:{user_id}:generation"

    def _prefix(self, user_id: str) -> str:
        return f"{self.namespace}:{user_id}:g"

    def _trusted(self) -> bool:
        return time.monotonic() >= self._distrust_until

    def get_or_load(self, user_id: str, name: str, load: Callable[[], object]):
        """The cached value of ``name`` for this user, or ``load()`` (then cached)."""
        if not self._trusted():
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
            return json.loads(cached)
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
            with self.redis.pipeline(transaction=False) as pipe:
                for user_id in user_ids:
                    pipe.incr(self._generation_key(user_id))
                pipe.execute()
        except RedisError:
            log.error("cache %s invalidation failed; bypassing the cache for %ss",
                      self.namespace, self.ttl)
            self._distrust_until = time.monotonic() + self.ttl

    def forget(self, user_id: str) -> None:
        """Drop the user's generation counter too (account erasure)."""
        try:
            self.redis.delete(self._generation_key(user_id))
            for key in self.redis.scan_iter(f"{self.namespace}:{user_id}:*", count=500):
                self.redis.delete(key)
        except RedisError:
            self._distrust_until = time.monotonic() + self.ttl


class Cache(DependencyProvider):
    """``cache = Cache("mood")`` on a service: one UserCache per process."""

    def __init__(self, namespace: str, ttl_seconds: int = 120):
        self.namespace = namespace
        self.ttl_seconds = ttl_seconds

    def setup(self):
        self.cache = UserCache(redis_client(), self.namespace, self.ttl_seconds,
                               service=self.container.service_name)

    def get_dependency(self, worker_ctx):
        return self.cache

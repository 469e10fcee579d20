"""Fixed-window counters in Redis for throttling (login attempts and the like)."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass

from services.kit.errors import RateLimited
from services.kit.redis import RedisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int

    def _key(self, subject: str, now: float) -> str:
        return f"ratelimit:{self.name}:{subject}:{int(now) // self.window_seconds}"

    def _retry_after(self, now: float) -> int:
        return self.window_seconds - int(now) % self.window_seconds

    def take(self, redis, subject: str, now: float | None = None) -> None:
        """Count one use, then raise RateLimited if that went over the limit.

        Counting first (one atomic INCR) means concurrent attempts cannot all
        pass a check made before any of them was counted.
        """
        now = time.time() if now is None else now
        key = self._key(subject, now)
        try:
            pipe = redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, self.window_seconds)
            used, _ = pipe.execute()
        except RedisError:
            log.warning("rate limit %s unavailable (Redis); allowing", self.name)
            return
        if used > self.max_hits:
            raise RateLimited(retry_after=self._retry_after(now))

    def reset(self, redis, subject: str, now: float | None = None) -> None:
        with contextlib.suppress(RedisError):
            redis.delete(self._key(subject, time.time() if now is None else now))

    def forget(self, redis, subject: str) -> None:
        """Drop every counter of ``subject`` still alive (this window's and the last's:
        a key lives a window after its last use), for an erased account."""
        now = time.time()
        with contextlib.suppress(RedisError):
            redis.delete(self._key(subject, now), self._key(subject, now - self.window_seconds))

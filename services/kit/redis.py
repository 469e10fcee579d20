"""Redis: one client (and connection pool) per process, short timeouts so an
unreachable Redis fails fast instead of stalling requests.
"""

from __future__ import annotations

from functools import cache

import redis as redis_lib
from nameko.extensions import DependencyProvider

from services.kit import config

RedisError = redis_lib.RedisError
RedisConnectionError = redis_lib.ConnectionError


@cache
def client(url: str | None = None) -> redis_lib.Redis:
    return redis_lib.Redis.from_url(
        url or config.kit().redis_url,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry_on_timeout=False,
        health_check_interval=30,
        max_connections=64,
    )


class Redis(DependencyProvider):
    def setup(self):
        self.client = client()

    def get_dependency(self, worker_ctx):
        return self.client

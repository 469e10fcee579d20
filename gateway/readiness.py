"""What /ready checks: can this process reach PostgreSQL, Redis and RabbitMQ?"""

from __future__ import annotations

import time

from kombu import Connection
from sqlalchemy import text

from services.kit.db import get_engine
from services.kit.events import amqp_uri
from services.kit.redis import client as redis_client


def _postgres() -> None:
    with get_engine(pool_size=2).connect() as conn:
        conn.execute(text("SELECT 1"))


def _redis() -> None:
    redis_client().ping()


def _rabbitmq() -> None:
    with Connection(amqp_uri(), connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1)


CHECKS = {"postgresql": _postgres, "redis": _redis, "rabbitmq": _rabbitmq}


def check_all() -> tuple[bool, dict]:
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
            results[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
        except Exception as exc:  # any failure means "not ready", with its kind
            results[name] = {"ok": False, "error": type(exc).__name__}
    return all(r["ok"] for r in results.values()), results

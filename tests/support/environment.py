"""The isolated environment the application tests run in, and how to reset it."""

from __future__ import annotations

import os

import redis as redis_lib
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from services.kit.config import PROJECT_ROOT

# The app suite runs in shards side by side (scripts/test-app.sh): shard N has a
# database and a vhost of its own, sanctum_test_N (scripts/ensure-system.sh makes them).
SHARD = os.environ.get("SANCTUM_TEST_SHARD", "")
SUFFIX = f"_{SHARD}" if SHARD else ""

TEST_ENV = {
    "DATABASE_URL": os.environ.get(
        "TEST_DATABASE_URL", f"postgresql+psycopg://sanctum:sanctum@127.0.0.1:5432/sanctum_test{SUFFIX}"
    ),
    "AMQP_URI": os.environ.get("TEST_AMQP_URI", f"pyamqp://guest:guest@127.0.0.1:5672/sanctum_test{SUFFIX}"),
    # Tests act as nginx would: each simulated client sends its own X-Forwarded-For.
    "TRUSTED_PROXY_HOPS": "1",
    "EVENT_RETRY_DELAYS_MS": "[200, 400, 800]",
    "OUTBOX_SWEEP_AFTER_SECONDS": "1",
    "RPC_TIMEOUT_SECONDS": "5",
    "NOTIFY_MAX_ATTEMPTS": "3",
    "NOTIFY_RETRY_BASE_SECONDS": "0.2",
    "APP_BASE_URL": "https://app.test",
    "MISSED_DOSE_CHECK_EVERY_SECONDS": "1",
    # Users who chose nothing: every contact at once (the ladder's own tests set
    # their waits, and move its clock on in the database).
    "CRISIS_PROMPT_MINUTES": "0",
    "CRISIS_CONTACT_MINUTES": "0",
    "NOTIFY_SCHEDULER_EVERY_SECONDS": "0.3",
    "NOTIFY_QUIET_CHECK_EVERY_SECONDS": "1",
    "SMS_OPT_OUT_CACHE_SECONDS": "1",
    "SESSION_SWEEP_EVERY_SECONDS": "1",
    "EXPORTS_SWEEP_EVERY_SECONDS": "1",
    "METRICS_SAMPLE_EVERY_SECONDS": "1",
}

SERVICE_SCHEMAS_SQL = """
SELECT nspname FROM pg_namespace
WHERE nspname NOT LIKE 'pg_%' AND nspname NOT IN ('public', 'information_schema')
"""


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    cfg.attributes["configure_logger"] = False
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def drop_everything(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for (schema,) in conn.execute(text(SERVICE_SCHEMAS_SQL)).all():
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(text("DROP TABLE IF EXISTS public.schema_migrations, public.system_config"))
    engine.dispose()


def reset_database() -> None:
    url = TEST_ENV["DATABASE_URL"]
    drop_everything(url)
    command.upgrade(alembic_config(url), "head")


def reset_broker() -> None:
    """Declare every queue in the test vhost, and empty them of earlier runs' messages."""
    from nameko.amqp.publish import get_connection

    from services.kit.events import amqp_uri
    from services.ops.queues import all_handler_queues, declare

    declare()
    with get_connection(amqp_uri()) as conn:
        channel = conn.channel()
        for group in all_handler_queues():
            for queue in [group["main"], *group["retries"], group["dead"]]:
                channel.queue_purge(queue.name)


def reset_redis() -> None:
    redis_lib.Redis.from_url(os.environ["REDIS_URL"]).flushdb()

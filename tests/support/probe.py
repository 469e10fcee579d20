"""Small services built from the kit, to test the kit itself in real containers."""

from __future__ import annotations

import eventlet
from sqlalchemy import create_engine, text

from services.kit import config
from services.kit.errors import NotFound
from services.kit.events import batch_event_handler, event_handler
from services.kit.rpc import RpcClient, rpc
from services.kit.service import DomainService

SCHEMAS = ("kit_probe", "kit_probe_consumer")

# What the consumer's handlers should do next, keyed by the event's "key".
BEHAVIOUR: dict[str, str] = {}
CALLS: dict[str, int] = {}
AFTER_COMMIT: list[str] = []  # keys whose handler's after-commit hook ran
BATCHES: list[list[str]] = []  # the keys of each batch the batch handler was given


def create_schemas() -> None:
    engine = create_engine(config.kit().database_url)
    with engine.begin() as conn:
        for schema in SCHEMAS:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            conn.execute(text(f'CREATE TABLE "{schema}".notes (key text, '
                              f'CONSTRAINT notes_key UNIQUE (key) DEFERRABLE INITIALLY DEFERRED)'))
            # Stands in for user_management.users: rows that refer to an account.
            conn.execute(text(f'CREATE TABLE "{schema}".accounts (account_id int PRIMARY KEY)'))
            conn.execute(text(f'CREATE TABLE "{schema}".entries (account_id int NOT NULL '
                              f'REFERENCES "{schema}".accounts ON DELETE CASCADE)'))
    from sqlalchemy import MetaData

    from services.kit.events import outbox_table, processed_events_table

    for schema in SCHEMAS:
        metadata = MetaData(schema=schema)
        outbox_table(metadata)
        processed_events_table(metadata)
        metadata.create_all(engine)
    engine.dispose()


def notes(schema: str) -> list[str]:
    engine = create_engine(config.kit().database_url)
    with engine.connect() as conn:
        rows = conn.execute(text(f'SELECT key FROM "{schema}".notes ORDER BY key')).scalars().all()
    engine.dispose()
    return rows


class ProbeService(DomainService):
    name = "kit_probe"

    @rpc
    def write(self, key: str) -> str:
        # The unique constraint is deferred: a duplicate only fails at COMMIT.
        self.db.execute(text("INSERT INTO kit_probe.notes (key) VALUES (:k)"), {"k": key})
        return key

    @rpc
    def write_and_emit(self, key: str) -> str:
        self.db.execute(text("INSERT INTO kit_probe.notes (key) VALUES (:k)"), {"k": key})
        return self.events.dispatch("probe.happened", {"key": key})

    @rpc
    def write_alone(self, key: str, then: str = "") -> str:
        """One statement as the whole unit of work; ``then`` says what goes wrong after it."""
        self.db.execute_alone(text("INSERT INTO kit_probe.notes (key) VALUES (:k)"), {"k": key})
        self.db.on_commit(lambda: AFTER_COMMIT.append(key))
        if then == "fail":
            raise RuntimeError("probe failure after the statement")
        if then == "second-statement":
            self.db.scalar(text("SELECT 1"))
        return key

    @rpc
    def missing(self):
        raise NotFound("nothing here")

    @rpc
    def slow(self, seconds: float) -> str:
        eventlet.sleep(seconds)
        return "done"

    @rpc
    def sleep_in_database(self, seconds: float) -> None:
        self.db.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})


class ProbeConsumer(DomainService):
    name = "kit_probe_consumer"

    @event_handler("kit_probe", "probe.happened")
    def on_happened(self, event):
        key = event["data"]["key"]
        CALLS[key] = CALLS.get(key, 0) + 1
        self.db.execute(text("INSERT INTO kit_probe_consumer.notes (key) VALUES (:k)"), {"k": key})
        self.db.on_commit(lambda: AFTER_COMMIT.append(key))
        behaviour = BEHAVIOUR.get(key, "ok")
        if behaviour == "account-erased":  # refers to an account that no longer exists
            self.db.execute(text("INSERT INTO kit_probe_consumer.entries VALUES (404)"))
        if behaviour == "slow":
            eventlet.sleep(0.5)
        if behaviour == "fail" or (behaviour.startswith("fail-") and CALLS[key] <= int(behaviour[5:])):
            raise RuntimeError("probe failure")


    @batch_event_handler("kit_probe", "probe.counted")
    def on_counted(self, events):
        keys = [event["data"]["key"] for event in events]
        BATCHES.append(keys)
        for key in keys:
            self.db.execute(text("INSERT INTO kit_probe_consumer.notes (key) VALUES (:k)"), {"k": key})
            if BEHAVIOUR.get(key) == "slow":
                eventlet.sleep(0.5)


class ProbeCaller(DomainService):
    name = "kit_probe_caller"
    probe = RpcClient("kit_probe", timeout=0.5)

    @rpc
    def call_slow(self, seconds: float) -> str:
        return self.probe.slow(seconds)

    @rpc
    def call_write(self, key: str) -> str:
        return self.probe.write(key)

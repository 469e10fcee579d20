"""The outbox's failure paths, on a RabbitMQ node of the test's own that it stops.

Writes go on in a kit service (tests/support/probe.py) the way a background loop
writes: a committed transaction with an outbox row, handed to the relay
(services/kit/events/outbox.py). What left the relay is counted at the broker,
in a durable queue of the test's own bound beside the consumer's, and what was
done with it at the consumer (its processed_events and its notes).
"""

import json
import uuid
from collections import Counter

import eventlet
import kombu
import kombu.pools
import pytest
from nameko import config as nameko_config
from nameko.standalone.rpc import ClusterRpcClient
from sqlalchemy import text

from services.kit import service_auth
from services.kit.db import database_of, session_scope
from services.kit.events.outbox import dispatcher_of
from tests.support import db, probe
from tests.support.flows import wait_until
from tests.support.ports import free_port
from tests.support.private_servers import PrivateRabbit

EXCHANGE = kombu.Exchange("kit_probe.events", type="topic", durable=True)


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    node = PrivateRabbit(tmp_path_factory.mktemp("rabbitmq"), free_port(), free_port(), free_port())
    node.init()
    yield node
    node.stop()


@pytest.fixture
def probes(container_factory, migrated_database, broker):
    probe.create_schemas()
    probe.CALLS.clear()
    probe.BEHAVIOUR.clear()
    # Pooled connections from before a test's broker crash are dead: a service process
    # started after a crash begins with none either.
    kombu.pools.reset()
    started = {}
    for cls in (probe.ProbeService, probe.ProbeConsumer):
        container = container_factory(cls, config={"AMQP_URI": broker.uri()})
        container.start()
        started[cls.name] = container
    return started


class Tap:
    """A durable queue of the test's own on the probe's exchange: every copy of every
    event the broker accepted for ``routing_key`` stays in it, across broker restarts."""

    def __init__(self, uri: str, routing_key: str, **arguments):
        self.uri = uri
        self.queue = kombu.Queue(f"test-tap-{uuid.uuid4().hex[:8]}", exchange=EXCHANGE,
                                 routing_key=routing_key, durable=True, queue_arguments=arguments)
        self.declare()

    def declare(self) -> None:
        """Idempotent: after a crash it puts back whatever the broker did not keep."""
        with kombu.Connection(self.uri) as conn:
            self.queue(conn.channel()).declare()

    def event_ids(self) -> Counter:
        """How many copies of each event id are in the queue (read, then left there)."""
        copies = Counter()
        with kombu.Connection(self.uri) as conn:
            channel = conn.channel()
            while (message := channel.basic_get(self.queue.name, no_ack=False)) is not None:
                # One event, or several of one type that waited together (a list).
                body = json.loads(message.body)
                for event in body if isinstance(body, list) else [body]:
                    copies[event["event_id"]] += 1
            channel.close()  # unacknowledged: back in the queue
        return copies

    def delete(self) -> None:
        with kombu.Connection(self.uri) as conn:
            self.queue(conn.channel()).delete()


def write_in_background(container, key: str, event_type: str = "probe.happened") -> str:
    """A committed write and its event, as a service's background loop makes them."""
    with session_scope(database_of(container, "test")) as session:
        session.execute(text("INSERT INTO kit_probe.notes (key) VALUES (:k)"), {"k": key})
        return dispatcher_of(container).dispatch_in(session, event_type, {"key": key})


def outbox(event_ids: list[str]) -> dict[str, dict]:
    return {row.event_id: row._asdict() for row in db.rows(
        "SELECT event_id::text, status, attempts, payload, "
        "EXTRACT(EPOCH FROM next_attempt_at - created_at) AS retry_after "
        "FROM kit_probe.outbox WHERE event_id = ANY(CAST(:ids AS uuid[]))", ids=event_ids)}


def handled(event_ids: list[str]) -> Counter:
    return Counter(row[0] for row in db.rows(
        "SELECT event_id::text FROM kit_probe_consumer.processed_events "
        "WHERE event_id = ANY(CAST(:ids AS uuid[]))", ids=event_ids))


def relay_failures(caplog) -> int:
    return sum(1 for record in caplog.records
               if record.getMessage().startswith("outbox relay (kit_probe) failed"))


def test_events_written_while_the_broker_is_down_wait_then_go_out_once(probes, broker, caplog):
    service = probes["kit_probe"]
    tap = Tap(broker.uri(), "probe.happened")
    before = write_in_background(service, "before")
    wait_until(lambda: handled([before]) and outbox([before])[before]["status"] == "published")

    broker.crash()
    try:
        failures = relay_failures(caplog)
        during = [write_in_background(service, f"during-{n}") for n in range(20)]
        # The relay tried to publish them and could not reach the broker (at least
        # twice: the hand-over, then the sweep): they wait in the outbox.
        wait_until(lambda: relay_failures(caplog) >= failures + 2, timeout=30,
                   message="the relay never tried to publish while the broker was down")
        rows = outbox(during)
        assert {row["status"] for row in rows.values()} == {"pending"}
        assert all(row["payload"]["data"]["key"].startswith("during-") for row in rows.values())
    finally:
        # The tap is the test's own, declared moments before the kill: once in CI the
        # node came back with the tap's queue but without its binding (the consumer's,
        # declared again by nameko on reconnect, was there).
        # The relay skips locked rows, so holding them keeps it from publishing until
        # the tap is bound again; what is counted is then the relay's doing alone.
        with db.engine().begin() as conn:
            conn.execute(text("SELECT 1 FROM kit_probe.outbox WHERE event_id = ANY(CAST(:ids AS uuid[])) "
                              "FOR UPDATE"), {"ids": during})
            broker.start()
            tap.declare()

    wait_until(lambda: len(handled(during)) == len(during), timeout=90,
               message="events written while the broker was down were not all handled")
    wait_until(lambda: {row["status"] for row in outbox(during).values()} == {"published"}, timeout=30)
    assert db.scalar("SELECT count(*) FROM kit_probe.outbox WHERE status = 'pending'") == 0
    # Each went out once: one copy at the broker, one effect at the consumer.
    assert tap.event_ids() == Counter({event_id: 1 for event_id in [before, *during]})
    assert set(handled(during).values()) == {1}
    assert sorted(probe.notes("kit_probe_consumer")) == sorted(["before", *(f"during-{n}" for n in range(20))])
    tap.delete()


def test_an_event_nobody_subscribes_to_is_marked_unroutable_and_not_retried(probes, broker):
    service = probes["kit_probe"]
    lost = write_in_background(service, "nobody", event_type="probe.nobody_listens")
    routed = write_in_background(service, "somebody")
    # The relay marks what became of its events in batches: wait for both marks.
    wait_until(lambda: {row["event_id"]: row["status"] for row in outbox([lost, routed]).values()}
               == {lost: "unroutable", routed: "published"}, timeout=30)
    assert handled([routed]) == Counter({routed: 1}) and not handled([lost])
    row = outbox([lost])[lost]
    assert row["attempts"] == 1
    assert row["payload"] == {}  # once out of the relay's hands, no event data at rest
    # The sweep takes pending rows only: an unroutable one is never sent again. Its
    # next pass after the mark (sweep after 1 s, every 1 s) is awaited by a later
    # event left pending by a broker refusal being retried by the sweep (below).
    refused = Tap(broker.uri(), "probe.sweep_marker", **{"x-max-length": 0, "x-overflow": "reject-publish"})
    marker = write_in_background(service, "marker", event_type="probe.sweep_marker")
    wait_until(lambda: outbox([marker])[marker]["attempts"] >= 2, timeout=30,
               message="the sweep never came back to the refused marker")
    assert outbox([lost])[lost] == row
    refused.delete()


def test_a_publish_the_broker_refuses_stays_pending_and_the_sweep_sends_it_later(probes, broker):
    service = probes["kit_probe"]
    full = Tap(broker.uri(), "probe.refused", **{"x-max-length": 0, "x-overflow": "reject-publish"})
    event_id = write_in_background(service, "refused", event_type="probe.refused")
    # Nacked: not published, not unroutable; pending, and the sweep backs off on it.
    wait_until(lambda: outbox([event_id])[event_id]["attempts"] >= 1, timeout=30,
               message="the refused event was never retried by the sweep")
    row = outbox([event_id])[event_id]
    assert row["status"] == "pending"
    # Written, refused on the hand-over, swept 1 s later, refused, then 2 s of back-off.
    assert row["retry_after"] >= 2
    assert row["payload"]["data"] == {"key": "refused"}  # kept until it is out

    full.delete()  # the broker accepts it again: a queue with room takes its place
    tap = Tap(broker.uri(), "probe.refused")
    wait_until(lambda: outbox([event_id])[event_id]["status"] == "published", timeout=60,
               message="the sweep did not publish the refused event once the broker took it")
    assert tap.event_ids() == Counter({event_id: 1})
    tap.delete()


def test_a_reply_lost_with_the_broker_costs_that_call_not_the_service(probes, broker, caplog):
    """The broker dies while a call runs: the reply cannot be sent. The caller times out
    (and retries, in the gateway's case); the service lives on and answers the next call."""
    service = probes["kit_probe"]
    with nameko_config.patch({"AMQP_URI": broker.uri()}):
        with ClusterRpcClient(context_data=service_auth.stamp({}, "operator"), timeout=30) as client:
            client.kit_probe.slow.call_async(1.5)
            eventlet.sleep(0.5)  # the call is running
            broker.crash()
            # The call ends, with the broker down, and its reply is tried.
            wait_until(lambda: not service._worker_threads, timeout=30)
            broker.start()
        assert not service._died.ready()  # nameko kills a container whose reply raises
        assert any("reply not sent" in record.getMessage() for record in caplog.records)
        kombu.pools.reset()  # the standalone client's pooled connections died with the node
        with ClusterRpcClient(context_data=service_auth.stamp({}, "operator"), timeout=30) as client:
            assert client.kit_probe.slow(0) == "done"

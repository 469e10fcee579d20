"""The kit's RPC and event guarantees, in real containers on the real broker and database."""

import time

import pytest
from nameko import config as nameko_config
from nameko.standalone.rpc import ClusterRpcClient
from sqlalchemy import MetaData, create_engine, insert, text

from services.kit import config, metrics, service_auth
from services.kit.errors import NotFound, ServiceAuthFailed, ServiceUnavailable
from services.kit.events import amqp_uri, envelope, handler_queue_name, outbox_table
from services.kit.events.topology import handler_queues
from services.ops import dlq
from services.ops.operator import operator_dispatcher
from tests.support import probe
from tests.support.flows import wait_until


@pytest.fixture
def probes(container_factory, migrated_database):
    probe.create_schemas()
    probe.BEHAVIOUR.clear()
    probe.CALLS.clear()
    probe.AFTER_COMMIT.clear()
    probe.BATCHES.clear()
    dead = f"{handler_queue_name('kit_probe', 'probe.happened', 'kit_probe_consumer', 'on_happened')}.dead"
    started = {}
    for cls in (probe.ProbeService, probe.ProbeConsumer, probe.ProbeCaller):
        container = container_factory(cls)
        container.start()
        started[cls.name] = container
    from nameko.amqp.publish import get_connection

    with get_connection(amqp_uri()) as conn:
        conn.channel().queue_purge(dead)
    yield started


@pytest.fixture
def operator_rpc():
    with ClusterRpcClient(context_data=service_auth.stamp({}, "operator"), timeout=10) as client:
        yield client


def test_rpc_with_a_credential_is_served(probes, operator_rpc):
    assert operator_rpc.kit_probe.write("a") == "a"
    assert probe.notes("kit_probe") == ["a"]


@pytest.mark.parametrize("context", [{}, {service_auth.CONTEXT_KEY: "operator:forged"},
                                     {service_auth.CONTEXT_KEY: 42}])
def test_rpc_without_a_valid_credential_is_refused(probes, context):
    with ClusterRpcClient(context_data=context, timeout=10) as client, \
            pytest.raises(ServiceAuthFailed):
        client.kit_probe.write("never")
    assert probe.notes("kit_probe") == []


def test_domain_errors_arrive_as_themselves(probes, operator_rpc):
    with pytest.raises(NotFound) as caught:
        operator_rpc.kit_probe.missing()
    assert caught.value.message == "nothing here"


def test_commit_happens_before_the_reply(probes, operator_rpc):
    """A write that fails at COMMIT must reach the caller as an error, never as success."""
    operator_rpc.kit_probe.write("dup")
    with pytest.raises(Exception) as caught:
        operator_rpc.kit_probe.write("dup")
    assert "IntegrityError" in type(caught.value).__name__ + str(caught.value)
    assert probe.notes("kit_probe") == ["dup"]


def test_a_statement_run_alone_is_committed_and_followed_by_its_hooks(probes, operator_rpc):
    assert operator_rpc.kit_probe.write_alone("alone") == "alone"
    with pytest.raises(Exception) as caught:
        operator_rpc.kit_probe.write_alone("then-fails", "fail")
    assert "RuntimeError" in type(caught.value).__name__ + str(caught.value)
    with pytest.raises(Exception) as caught:
        operator_rpc.kit_probe.write_alone("then-more", "second-statement")
    assert "execute_alone" in str(caught.value)
    # Each statement committed on its own; what was to follow each commit happened.
    assert probe.notes("kit_probe") == ["alone", "then-fails", "then-more"]
    assert sorted(probe.AFTER_COMMIT) == ["alone", "then-fails", "then-more"]


def test_event_reaches_the_handler_once_through_the_outbox(probes, operator_rpc):
    event_id = operator_rpc.kit_probe.write_and_emit("e1")
    wait_until(lambda: probe.notes("kit_probe_consumer") == ["e1"])
    engine = create_engine(config.kit().database_url)

    def outbox_row():
        with engine.connect() as conn:
            return conn.execute(text("SELECT status, payload FROM kit_probe.outbox WHERE event_id = :e"),
                                {"e": event_id}).one()

    # The relay marks what it published in batches: shortly after, not at once.
    wait_until(lambda: outbox_row().status == "published", timeout=5)
    assert outbox_row().payload == {}  # once out, no event data stays at rest
    with engine.connect() as conn:
        processed = conn.execute(text("SELECT count(*) FROM kit_probe_consumer.processed_events "
                                      "WHERE event_id = :e"), {"e": event_id}).scalar()
    engine.dispose()
    assert processed == 1


def test_a_redelivered_event_has_no_second_effect(probes):
    event = envelope("probe.happened", "kit_probe", {"key": "twice"}, None)
    publish = _raw_publisher()
    publish(event)
    publish(event)  # same event id: what a relay crash or broker redelivery produces
    # A handler takes its queue in order, one batch at a time: once an event published
    # after the copies is handled, both copies were.
    publish(envelope("probe.happened", "kit_probe", {"key": "zz-later"}, None))
    wait_until(lambda: "zz-later" in probe.notes("kit_probe_consumer"))
    assert probe.notes("kit_probe_consumer") == ["twice", "zz-later"]
    assert probe.CALLS["twice"] == 1


def test_an_event_committed_before_a_crash_is_still_published(probes):
    """A row left in the outbox (process died after COMMIT) is published by the relay."""
    event = envelope("probe.happened", "kit_probe", {"key": "orphan"}, None)
    engine = create_engine(config.kit().database_url)
    with engine.begin() as conn:
        conn.execute(insert(outbox_table(MetaData(schema="kit_probe"))).values(
            event_id=event["event_id"], event_type="probe.happened", payload=event, headers={}))
    engine.dispose()
    wait_until(lambda: probe.notes("kit_probe_consumer") == ["orphan"], timeout=5)


def test_an_event_about_an_erased_account_is_undone_and_not_retried(probes, operator_rpc):
    probe.BEHAVIOUR["gone"] = "account-erased"
    before = {outcome: handled_count(outcome) for outcome in ("ok", "retried", "dead_lettered")}
    event_id = operator_rpc.kit_probe.write_and_emit("gone")
    engine = create_engine(config.kit().database_url)

    def claimed():
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM kit_probe_consumer.processed_events "
                                     "WHERE event_id = :e"), {"e": event_id}).scalar()

    wait_until(lambda: claimed() == 1, timeout=5)
    # Handled and acknowledged as done: a retry is only ever scheduled for a failed
    # attempt (counted "retried"), and there was none.
    wait_until(lambda: handled_count("ok") > before["ok"], timeout=5)
    engine.dispose()
    assert handled_count("retried") == before["retried"]
    assert handled_count("dead_lettered") == before["dead_lettered"]
    assert waiting_in_retry_queues() == 0
    assert probe.CALLS["gone"] == 1
    assert probe.notes("kit_probe_consumer") == []  # the handler's other write was undone
    assert probe.AFTER_COMMIT == []  # and so was what was to follow its commit
    assert dlq.summary([_dead_queue()])[_dead_queue()] == 0


def test_events_that_wait_in_the_queue_are_handled_as_one_batch(probes):
    probe.BEHAVIOUR["first"] = "slow"  # while it runs, the others queue up
    publish = _raw_publisher()
    keys = ["first"] + [f"k{n:02d}" for n in range(20)]
    for key in keys:
        publish(envelope("probe.counted", "kit_probe", {"key": key}, None), routing_key="probe.counted")
    wait_until(lambda: len(probe.notes("kit_probe_consumer")) == len(keys), timeout=10)
    assert sorted(probe.notes("kit_probe_consumer")) == sorted(keys)
    assert [key for batch in probe.BATCHES for key in batch] == keys  # queue order, each once
    assert len(probe.BATCHES) < len(keys) / 2


def test_a_bad_event_in_a_batch_is_retried_alone_and_the_rest_go_through(probes):
    probe.BEHAVIOUR["first"] = "slow"
    probe.BEHAVIOUR["bad"] = "fail"
    publish = _raw_publisher()
    keys = ["first", "a", "b", "bad", "c", "d"]
    for key in keys:
        publish(envelope("probe.happened", "kit_probe", {"key": key}, None))
    wait_until(lambda: dlq.summary([_dead_queue()])[_dead_queue()] == 1, timeout=10)
    assert probe.notes("kit_probe_consumer") == ["a", "b", "c", "d", "first"]
    assert dlq.peek(_dead_queue())[0]["error"] == "RuntimeError"
    # Once in the failed batch, once alone, then three retries.
    assert probe.CALLS["bad"] == 5
    assert all(probe.CALLS[key] in (1, 2) for key in ("a", "b", "c", "d"))


def test_a_failing_handler_is_retried_with_backoff(probes, operator_rpc):
    probe.BEHAVIOUR["flaky"] = "fail-2"  # fails twice, then succeeds
    started = time.monotonic()
    operator_rpc.kit_probe.write_and_emit("flaky")
    wait_until(lambda: probe.notes("kit_probe_consumer") == ["flaky"], timeout=10)
    assert probe.CALLS["flaky"] == 3
    assert time.monotonic() - started >= 0.6  # 200 ms, then 400 ms
    assert dlq.summary([_dead_queue()])[_dead_queue()] == 0


def test_a_handler_that_keeps_failing_is_dead_lettered_and_can_be_replayed(probes, operator_rpc):
    probe.BEHAVIOUR["broken"] = "fail"
    event_id = operator_rpc.kit_probe.write_and_emit("broken")
    wait_until(lambda: dlq.summary([_dead_queue()])[_dead_queue()] == 1, timeout=10)
    assert probe.CALLS["broken"] == 4  # first try and three retries
    assert probe.notes("kit_probe_consumer") == []  # every failed attempt rolled back
    [parked] = dlq.peek(_dead_queue())
    assert parked["event_id"] == event_id
    assert parked["error"] == "RuntimeError"
    assert parked["attempts"] == 4
    assert dlq.summary([_dead_queue()])[_dead_queue()] == 1  # peeking does not remove

    probe.BEHAVIOUR["broken"] = "ok"  # the bug is fixed
    assert dlq.replay(_dead_queue()) == 1
    wait_until(lambda: probe.notes("kit_probe_consumer") == ["broken"])
    assert dlq.summary([_dead_queue()])[_dead_queue()] == 0


def test_an_event_without_a_credential_is_refused(probes):
    event = envelope("probe.happened", "kit_probe", {"key": "forged"}, None)
    _raw_publisher(credential=False)(event)
    wait_until(lambda: dlq.summary([_dead_queue()])[_dead_queue()] == 1)
    assert probe.CALLS.get("forged") is None
    assert dlq.peek(_dead_queue())[0]["error"] == "ServiceAuthFailed"


def test_operator_dispatch_is_accepted(probes):
    operator_dispatcher()("kit_probe", "probe.happened", {"key": "by-hand"})
    wait_until(lambda: probe.notes("kit_probe_consumer") == ["by-hand"])


def test_rpc_to_a_slow_service_times_out(probes, operator_rpc):
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        operator_rpc.kit_probe_caller.call_slow(20)  # the caller's timeout is 0.5 s
    assert time.monotonic() - started < 10
    assert operator_rpc.kit_probe_caller.call_slow(0) == "done"


def test_rpc_to_a_stopped_service_is_unavailable_not_a_hang(probes, operator_rpc):
    probes["kit_probe"].stop()
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        operator_rpc.kit_probe_caller.call_slow(0)
    assert time.monotonic() - started < 10  # no hang: the 0.5 s timeout, not forever


def test_a_call_that_expired_in_the_queue_is_never_acted_on(probes, operator_rpc, container_factory):
    """The caller gave up after its timeout (0.5 s); its request expired in the queue at
    the same moment, so the service, back later, never writes what nobody waits for."""
    probes["kit_probe"].stop()
    waited = operator_rpc.kit_probe.write.call_async("a-waited")  # no expiry: served later
    with pytest.raises(ServiceUnavailable):
        operator_rpc.kit_probe_caller.call_write("b-expired")
    # Back, taking one call at a time in queue order: what was queued before and after
    # the expired request is served, and nothing else.
    with nameko_config.patch({"max_workers": 1}):
        container_factory(probe.ProbeService).start()
    assert waited.result() == "a-waited"
    assert operator_rpc.kit_probe_caller.call_write("c-later") == "c-later"
    assert probe.notes("kit_probe") == ["a-waited", "c-later"]


def test_a_service_refuses_to_start_when_psycopg_would_block_the_process(
        container_factory, migrated_database, monkeypatch):
    from psycopg import waiting

    monkeypatch.setattr(waiting, "wait", waiting.wait_c)  # the C wait: blocks the eventlet hub
    container = container_factory(probe.ProbeService)
    with pytest.raises(RuntimeError, match="blocking wait function"):
        container.start()


def test_database_waits_do_not_block_the_process(probes, operator_rpc):
    """psycopg must wait cooperatively: concurrent slow queries overlap."""
    started = time.monotonic()
    calls = [operator_rpc.kit_probe.sleep_in_database.call_async(1.0) for _ in range(4)]
    for call in calls:
        call.result()
    assert time.monotonic() - started < 3.0  # overlapping: about 1 s; one at a time: 4 s


def handled_count(outcome: str) -> float:
    """Events the probe consumer's on_happened handler finished with this outcome, as
    the kit counts them (the containers run in this process)."""
    return metrics.REGISTRY.get_sample_value("sanctum_events_handled_total", {
        "service": "kit_probe_consumer", "handler": "on_happened", "outcome": outcome}) or 0.0


def waiting_in_retry_queues() -> int:
    from nameko.amqp.publish import get_connection

    queues = handler_queues("kit_probe", "probe.happened", "kit_probe_consumer", "on_happened")
    with get_connection(amqp_uri()) as conn:
        channel = conn.channel()
        return sum(channel.queue_declare(queue.name, passive=True).message_count
                   for queue in queues["retries"])


def _dead_queue():
    return f"{handler_queue_name('kit_probe', 'probe.happened', 'kit_probe_consumer', 'on_happened')}.dead"


def _raw_publisher(credential=True):
    from kombu import Exchange
    from nameko.amqp.publish import Publisher

    publisher = Publisher(amqp_uri(), use_confirms=True, serializer="json")
    headers = {service_auth.HEADER: service_auth.credential_for("kit_probe")} if credential else {}

    def publish(event, routing_key="probe.happened"):
        publisher.publish(event, exchange=Exchange("kit_probe.events", type="topic", durable=True),
                          routing_key=routing_key, headers=headers, mandatory=True)

    return publish


def test_events_that_travel_together_in_one_message_are_settled_one_by_one(probes):
    """The relay sends events of one type that wait together as one message (a list of
    envelopes): each is handled once, and a bad one goes on to its retries alone."""
    probe.BEHAVIOUR["bad"] = "fail"
    keys = ["m1", "m2", "bad", "m3"]
    _raw_publisher()([envelope("probe.happened", "kit_probe", {"key": key}, None) for key in keys])
    wait_until(lambda: dlq.summary([_dead_queue()])[_dead_queue()] == 1, timeout=10)
    assert sorted(probe.notes("kit_probe_consumer")) == ["m1", "m2", "m3"]
    assert all(probe.CALLS[key] in (1, 2) for key in ("m1", "m2", "m3"))
    dead = dlq.peek(_dead_queue())
    assert len(dead) == 1 and dead[0]["events"] == 1 and dead[0]["error"] == "RuntimeError"


def test_the_relay_groups_waiting_events_by_type_in_order():
    from services.kit.events.outbox import _by_type

    rows = [{"event_id": str(n), "event_type": kind} for n, kind in enumerate("aabab")]
    assert [[row["event_id"] for row in group] for group in _by_type(rows, 2)] == [
        ["0", "1"], ["3"], ["2", "4"]]

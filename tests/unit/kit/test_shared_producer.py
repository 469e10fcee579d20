"""The process-wide RPC producer, on the real broker: a channel the broker closed
is noticed and replaced, so later messages are not silently dropped."""

import uuid

import eventlet
from kombu import Connection, Queue

from services.kit.amqp import SharedProducer
from services.kit.events import amqp_uri


def test_a_channel_the_broker_closed_is_replaced_and_messages_arrive_again():
    name = f"test-shared-producer-{uuid.uuid4().hex}"
    with Connection(amqp_uri()) as conn:
        queue = Queue(name, auto_delete=False, durable=False)(conn.default_channel)
        queue.declare()
        producer = SharedProducer(amqp_uri())
        producer.publish({"n": 1}, exchange="", routing_key=name)
        first_channel = producer._producer
        # A publish to an exchange that does not exist: the broker closes the channel.
        producer.publish({"n": 2}, exchange=f"missing-{name}", routing_key="x")
        eventlet.sleep(0.3)
        producer._next_check = 0.0  # the next publish looks at what the broker sent
        producer.publish({"n": 3}, exchange="", routing_key=name)
        assert producer._producer is not first_channel
        received = []
        while (message := queue.get(no_ack=True)) is not None:
            received.append(message.payload["n"])
        queue.delete()
    assert received == [1, 3]

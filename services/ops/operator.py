"""The operator's way in: RPC and events signed with the operator's service
credential (the services refuse calls without a valid one)."""

from __future__ import annotations

from nameko.amqp.publish import Publisher as AmqpPublisher
from nameko.standalone.events import get_event_exchange
from nameko.standalone.rpc import ClusterRpcClient

from services.kit import service_auth
from services.kit.events import amqp_uri, envelope

OPERATOR = "operator"


def operator_rpc(**options) -> ClusterRpcClient:
    """A standalone RPC client (use as a context manager) that calls as the operator."""
    return ClusterRpcClient(context_data=service_auth.stamp({}, OPERATOR), **options)


def operator_dispatcher():
    """Publish an event directly, signed as the operator (shell, tests, replays)."""
    publisher = AmqpPublisher(amqp_uri(), use_confirms=True, serializer="json")
    headers = {service_auth.HEADER: service_auth.credential_for(OPERATOR)}

    def dispatch(source: str, event_type: str, data: dict, subject_id: str | None = None) -> str:
        event = envelope(event_type, source, data, subject_id)
        exchange = get_event_exchange(source)
        publisher.publish(
            event, exchange=exchange, routing_key=event_type, mandatory=True,
            headers=headers, declare=[exchange], message_id=event["event_id"],
        )
        return event["event_id"]

    return dispatch

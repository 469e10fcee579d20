"""A dependency outage is a 503 the client retries, not a 500 (found by the soak:
228 of them in 25 minutes, while RabbitMQ or PostgreSQL was restarting)."""

import pytest
from amqp.exceptions import ConnectionForced
from nameko.exceptions import RemoteError

from gateway.http import dependency_down


@pytest.mark.parametrize("failure, down", [
    (ConnectionRefusedError(111, "ECONNREFUSED"), "the broker"),  # RPC publish, broker stopped
    (ConnectionForced("broker forced connection closure"), "the broker"),
    (RemoteError("OperationalError", "connection failed"), "a service's database"),
    (RemoteError("ValueError", "a bug"), None),
    (RemoteError("IntegrityError", "duplicate key"), None),
    (KeyError("a bug"), None),
])
def test_only_an_unreachable_broker_or_database_is_an_outage(failure, down):
    assert dependency_down(failure) == down

"""Runs inside `make shell` (nameko shell, PYTHONSTARTUP).

Replaces the shell's RPC client and event dispatcher with ones that carry the
operator's service credential (the services refuse calls without one), and adds
`dlq` for dead-lettered events.

    >>> n.rpc.user_management.get_profile(user_id)
    >>> dlq.summary()                      # dead-lettered events per queue
    >>> dlq.peek(queue_name)               # ids, types, attempts, error kind
    >>> dlq.replay(queue_name)             # back to the handler's queue
"""

from services.ops import dlq  # noqa: F401  (dlq is for the operator)
from services.ops.operator import operator_dispatcher, operator_rpc

n.disconnect()  # noqa: F821  (n is the shell's helper module)
_client = operator_rpc()
n.rpc = _client.start()  # noqa: F821
n.disconnect = _client.stop  # noqa: F821
n.dispatch_event = operator_dispatcher()  # noqa: F821
print(__doc__)

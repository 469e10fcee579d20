"""Events that are never lost and never take effect twice.

- ``outbox``: dispatching through the transactional outbox, its relay, and the
  outbox table (``EventDispatcher``, ``self.events.dispatch(type, data)``);
- ``handlers``: idempotent, batched, retried handlers and the
  ``processed_events`` claims (``event_handler``, ``batch_event_handler``);
- ``topology``: the broker's queues for each handler, their retry and
  dead-letter queues.
"""

from services.kit.events.handlers import (
    VIEW_PATIENCE_MS,
    EventHandler,
    batch_event_handler,
    event_handler,
    processed_events_table,
)
from services.kit.events.outbox import (
    Dispatch,
    EventDispatcher,
    OutboxRelay,
    envelope,
    outbox_table,
    outbox_write_function,
)
from services.kit.events.topology import (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    amqp_uri,
    handler_queue_name,
    handler_queues,
    handlers_of,
    queues_of,
)

__all__ = [
    "ATTEMPT_HEADER", "ERROR_HEADER", "Dispatch", "EventDispatcher", "EventHandler",
    "OutboxRelay", "amqp_uri", "batch_event_handler", "envelope", "event_handler",
    "handler_queue_name", "handler_queues", "handlers_of", "outbox_table",
    "outbox_write_function", "processed_events_table", "queues_of", "VIEW_PATIENCE_MS",
]

"""Where events travel: the broker, each handler's queue with its retry queues
and dead-letter queue, and the headers that carry a message's history.

The queues of every handler are declared at migrate time (services/ops/queues.py),
so an event published before its consumer first starts waits instead of being
dropped (events are published with mandatory routing).
"""

from __future__ import annotations

import inspect

from kombu import Queue
from nameko import config as nameko_config
from nameko.constants import AMQP_URI_CONFIG_KEY, DEFAULT_AMQP_URI
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.standalone.events import get_event_exchange

from services.kit import config

ATTEMPT_HEADER = "x-sanctum-attempt"
ERROR_HEADER = "x-sanctum-error"
DEAD_SUFFIX = ".dead"


def amqp_uri() -> str:
    return nameko_config.get(AMQP_URI_CONFIG_KEY, DEFAULT_AMQP_URI)


def retry_delays_ms() -> tuple[int, ...]:
    return config.settings(config.EventSettings).retry_delays_ms


def handler_queue_name(source: str, event_type: str, service: str, method: str) -> str:
    # nameko's own SERVICE_POOL naming, so tooling that knows nameko finds it.
    return f"evt-{source}-{event_type}--{service}.{method}"


def handler_queues(source: str, event_type: str, service: str, method: str) -> dict:
    """The main queue, one retry queue per delay, and the dead-letter queue."""
    name = handler_queue_name(source, event_type, service, method)
    main = Queue(name, exchange=get_event_exchange(source), routing_key=event_type, durable=True)
    retries = [
        Queue(
            f"{name}.retry-{delay}ms",
            durable=True,
            queue_arguments={
                "x-message-ttl": delay,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": name,
            },
        )
        for delay in retry_delays_ms()
    ]
    dead = Queue(f"{name}{DEAD_SUFFIX}", durable=True)
    return {"main": main, "retries": retries, "dead": dead}


def handlers_of(service_cls) -> list[tuple[str, str, str]]:
    """(source_service, event_type, method_name) of each kit event handler of a service."""
    from services.kit.events.handlers import EventHandler

    found = []
    for name, member in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, EventHandler):
                found.append((entrypoint.source_service, entrypoint.event_type, name))
    return found


def queues_of(service_cls) -> list[dict]:
    """Every queue group (main, retries, dead) the service's handlers consume from."""
    return [handler_queues(source, event_type, service_cls.name, method)
            for source, event_type, method in handlers_of(service_cls)]

"""Message topology declared ahead of the services: `python -m services.kit.topology declare`.

Events are published with mandatory routing; declaring every handler's queue
(with its retry and dead-letter queues) at migrate time means an event
dispatched before its consumer first starts waits in the queue instead of
being dropped.
"""

from __future__ import annotations

import importlib
import inspect
import sys

from kombu.common import maybe_declare
from nameko.amqp.publish import get_connection
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services import registry
from services.kit import config
from services.kit.events import EventHandler, amqp_uri, handler_queues


def service_class(path: str):
    """Import "module:ServiceClass"."""
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def event_handlers(cls) -> list[tuple[str, str, str]]:
    """(source_service, event_type, method_name) for each kit event handler."""
    found = []
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        for entrypoint in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, EventHandler):
                found.append((entrypoint.source_service, entrypoint.event_type, name))
    return found


def all_handler_queues() -> list[dict]:
    queues = []
    for service_name, path in registry.SERVICES.items():
        for source, event_type, method in event_handlers(service_class(path)):
            queues.append(handler_queues(source, event_type, service_name, method))
    return queues


def declare() -> int:
    declared = 0
    with get_connection(amqp_uri()) as conn:
        channel = conn.channel()
        for group in all_handler_queues():
            for queue in [group["main"], *group["retries"], group["dead"]]:
                maybe_declare(queue, channel)
                declared += 1
    return declared


def main(argv: list[str]) -> int:
    if argv[1:] != ["declare"]:
        print("usage: python -m services.kit.topology declare", file=sys.stderr)
        return 2
    config.load()
    print(f"[topology] {declare()} queues declared")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Message topology declared ahead of the services: `python -m services.ops.queues declare`.

Events are published with mandatory routing; declaring every registered
handler's queue (with its retry and dead-letter queues) at migrate time means
an event dispatched before its consumer first starts waits in the queue
instead of being dropped.
"""

from __future__ import annotations

import sys

from kombu.common import maybe_declare
from nameko.amqp.publish import get_connection

from services import registry
from services.kit import config
from services.kit.events import amqp_uri, queues_of


def all_handler_queues() -> list[dict]:
    """The queue groups (main, retries, dead) of every registered service's handlers."""
    return [group for process in registry.SERVICES.values()
            for group in queues_of(process.service_class())]


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
        print("usage: python -m services.ops.queues declare", file=sys.stderr)
        return 2
    config.load()
    print(f"[queues] {declare()} queues declared")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

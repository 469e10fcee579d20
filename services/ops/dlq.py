"""Dead-lettered events: inspect and replay (from `make shell`, as `dlq`).

An event lands in ``<handler queue>.dead`` after its handler failed on every
retry, or when it arrived without a valid service credential. Replaying moves
it back to the handler's queue with a fresh retry budget; the handler's
idempotency makes replaying an already-handled event harmless.
"""

from __future__ import annotations

from nameko.amqp.publish import get_connection

from services.kit.events import ATTEMPT_HEADER, ERROR_HEADER, amqp_uri
from services.kit.events.topology import DEAD_SUFFIX
from services.ops.queues import all_handler_queues


def dead_queues() -> list[str]:
    """Every registered handler's dead-letter queue."""
    return [group["dead"].name for group in all_handler_queues()]


def handler_queue_of(dead_queue: str) -> str:
    if not dead_queue.endswith(DEAD_SUFFIX):
        raise ValueError(f"{dead_queue} is not a dead-letter queue")
    return dead_queue[: -len(DEAD_SUFFIX)]


def _depth(channel, queue: str) -> int:
    return channel.queue_declare(queue=queue, passive=True).message_count


def summary(queues: list[str] | None = None) -> dict[str, int]:
    """Dead events waiting, per dead-letter queue."""
    with get_connection(amqp_uri()) as conn:
        channel = conn.channel()
        return {queue: _depth(channel, queue) for queue in queues or dead_queues()}


def _describe(message) -> dict:
    """One dead message: an event, or (refused as it came) several of one type."""
    payload = message.payload
    events = payload if isinstance(payload, list) else [payload]
    body = events[0] if events and isinstance(events[0], dict) else {}
    headers = message.headers or {}
    return {
        "events": len(events),
        "event_id": body.get("event_id"),
        "event_type": body.get("event_type"),
        "source": body.get("source"),
        "occurred_at": body.get("occurred_at"),
        "attempts": headers.get(ATTEMPT_HEADER),
        "error": headers.get(ERROR_HEADER),
    }


def peek(queue: str, limit: int = 20) -> list[dict]:
    """Describe up to ``limit`` dead events without removing them (no payload data)."""
    seen = []
    with get_connection(amqp_uri()) as conn:
        channel = conn.channel()
        for _ in range(limit):
            message = channel.basic_get(queue=queue, no_ack=False)
            if message is None:
                break
            seen.append(_describe(_decoded(channel, message)))
        channel.close()  # unacked messages return to the queue, in order
    return seen


def _decoded(channel, raw):
    return channel.message_to_python(raw)


def replay(queue: str, limit: int | None = None) -> int:
    """Move dead events back to their handler's queue; return how many moved."""
    target = handler_queue_of(queue)
    moved = 0
    with get_connection(amqp_uri()) as conn:
        channel = conn.channel()
        channel.confirm_select()
        while limit is None or moved < limit:
            raw = channel.basic_get(queue=queue, no_ack=False)
            if raw is None:
                break
            headers = {k: v for k, v in (raw.headers or {}).items()
                       if k not in (ATTEMPT_HEADER, ERROR_HEADER)}
            channel.basic_publish(
                channel.prepare_message(
                    raw.body, content_type=raw.content_type,
                    content_encoding=raw.content_encoding, headers=headers,
                    properties={"delivery_mode": 2, "message_id": raw.properties.get("message_id")},
                ),
                exchange="", routing_key=target,
            )
            channel.basic_ack(raw.delivery_tag)
            moved += 1
    return moved

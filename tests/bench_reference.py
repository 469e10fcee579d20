"""The reference `make bench` measures the stack against (issue 16): the same POST and
cached GET the gateway serves, in one plain process with no broker, written the way a
small, fast monolith would be (Starlette on uvicorn with uvloop and httptools, an async
PostgreSQL pool, async Redis, orjson).

"The same" means the same work per request: the Bearer token checked by the kit's
verifier (signature and claims, remembered like the gateway does) against an in-memory
set of revoked sessions; the body and query validated by the gateway's own marshmallow
schemas; the shift written by the same SQL statement mood tracking runs (one call of
``mood_tracking.log_shift``, which also refreshes the day and writes the event's outbox
row); the read answered from a Redis entry and dumped through the gateway's response
schema. What it does not do is what the architecture adds: the HTTP gateway as a nameko
service, RPC over RabbitMQ, the relay and the four consumers of every shift.

    python -m tests.bench_reference --port 8100     (the bench starts and stops it)
"""

from __future__ import annotations

import argparse
import contextlib
import os

import orjson
from marshmallow import ValidationError
from psycopg.rows import namedtuple_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from redis import asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.schemas import mood as schemas
from services.kit import config, tokens
from services.kit.events.outbox import envelope
from services.mood_tracking import shifts

LOG_SHIFT = (
    "SELECT * FROM mood_tracking.log_shift(%(user_id)s::uuid, %(request_id)s, "
    "%(occurred_at)s::timestamptz, %(previous_level)s::smallint, %(previous_mixed)s::boolean, "
    "%(previous_state)s, %(current_level)s::smallint, %(current_mixed)s::boolean, "
    "%(current_state)s, %(intensity)s::smallint, %(triggers)s::text[], %(note)s, "
    "%(sleep_hours)s::numeric, %(event)s, %(event_headers)s)")
LIST_SHIFTS = (
    "SELECT * FROM mood_tracking.mood_shifts WHERE user_id = %(user_id)s "
    "ORDER BY occurred_at DESC, shift_id DESC LIMIT %(limit)s")

CREATE, SHIFT = schemas.ShiftCreate(), schemas.Shift()
QUERY, PAGE = schemas.ShiftQuery(), schemas.ShiftPage()
VERIFIER = tokens.TokenVerifier()
REVOKED: set[str] = set()
JSON = {"content-type": "application/json", "cache-control": "no-store"}


def answer(payload, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, headers=JSON)


def identify(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    try:
        claims = VERIFIER.claims(token.strip())
    except tokens.InvalidToken:
        return None
    return None if claims["sid"] in REVOKED else claims["sub"]


async def log_shift(request: Request) -> Response:
    user_id = identify(request)
    if user_id is None:
        return answer({"error": "unauthenticated"}, 401)
    try:
        body = CREATE.load(orjson.loads(await request.body()))
    except (ValidationError, orjson.JSONDecodeError) as exc:
        return answer({"error": "validation_failed", "fields": getattr(exc, "messages", {})}, 400)
    columns = {"previous_mixed": False, "current_mixed": False, "previous_state": None,
               "current_state": None, "triggers": [], "note": None, "sleep_hours": None,
               **shifts.columns_from_request(body)}
    columns.setdefault("occurred_at", shifts.utcnow())
    event = envelope("mood.shift.logged", "mood_tracking", None, user_id)
    async with request.app.state.pool.connection() as conn:
        cursor = await conn.execute(LOG_SHIFT, {
            "user_id": user_id, "request_id": request.headers.get("idempotency-key") or event["event_id"],
            **columns, "event": Jsonb(event), "event_headers": Jsonb({})})
        row = await cursor.fetchone()
    return answer(SHIFT.dump(shifts.shift_dict(row)), 201)


async def list_shifts(request: Request) -> Response:
    user_id = identify(request)
    if user_id is None:
        return answer({"error": "unauthenticated"}, 401)
    try:
        query = QUERY.load(dict(request.query_params))
    except ValidationError as exc:
        return answer({"error": "validation_failed", "fields": exc.messages}, 400)
    key = f"reference:{user_id}:shifts:{query['limit']}"
    cached = await request.app.state.redis.get(key)
    if cached is None:
        async with request.app.state.pool.connection() as conn:
            cursor = await conn.execute(LIST_SHIFTS, {"user_id": user_id, "limit": query["limit"]})
            page = {"items": [shifts.shift_dict(row) for row in await cursor.fetchall()],
                    "next_cursor": None}
        await request.app.state.redis.set(key, orjson.dumps(page), ex=120)
    else:
        page = orjson.loads(cached)
    return answer(PAGE.dump(page))


@contextlib.asynccontextmanager
async def lifespan(app: Starlette):
    url = config.kit().database_url.replace("postgresql+psycopg://", "postgresql://")
    app.state.pool = AsyncConnectionPool(url, min_size=4, max_size=10, open=False,
                                         kwargs={"row_factory": namedtuple_row, "autocommit": True})
    await app.state.pool.open()
    app.state.redis = aioredis.from_url(config.kit().redis_url)
    yield
    await app.state.pool.close()
    await app.state.redis.aclose()


async def ping(request: Request) -> Response:
    return Response(b"pong")


def make_app() -> Starlette:
    return Starlette(routes=[Route("/api/v1/mood/shift", log_shift, methods=["POST"]),
                             Route("/api/v1/mood/shifts", list_shifts, methods=["GET"]),
                             Route("/ping", ping, methods=["GET"])], lifespan=lifespan)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("SANCTUM_CONFIG", str(config.DEFAULT_CONFIG_FILE))
    config.load()
    uvicorn.run(make_app(), host="127.0.0.1", port=args.port, workers=1, loop="uvloop",
                http="httptools", access_log=False, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()

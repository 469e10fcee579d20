"""The gateway's HTTP entrypoint: JSON in, JSON out, errors as JSON.

``@route(method, url, body=Schema, query=Schema, response=Schema, status=...)``
does, before the handler runs: the Bearer token check (signature, claims and
session revocation, all local: no RPC), the size limit, the content type, JSON
parsing and schema validation (unknown fields refused). The handler receives a
``Call`` with ``user_id``, ``body``, ``query``, ``client_ip`` and returns plain
data, which is dumped through ``response``. Every failure becomes
``{"error": code, "message": ..., "fields": {...}}`` with the right status.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import orjson
from eventlet.event import Event
from marshmallow import ValidationError
from nameko.exceptions import RemoteError
from nameko.extensions import SharedExtension
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter, Map, Rule
from werkzeug.wrappers import Request, Response

from gateway.revocations import RevokedSessions
from services.kit import config, error_reports, metrics, service_auth, tokens
from services.kit.amqp import BROKER_DOWN
from services.kit.cache import CachedEntry, UserCache
from services.kit.errors import (
    RateLimited,
    SanctumError,
    ServiceAuthFailed,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from services.kit.redis import client as redis_client

log = logging.getLogger(__name__)

JSON_HEADERS = {
    "Content-Type": "application/json",
    # Health data: never stored by browsers or intermediaries.
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class GatewaySettings:
    SECTION = "GATEWAY"
    max_body_bytes: int
    # X-Forwarded-For entries to trust: 1 behind nginx (per-IP limits see the client).
    trusted_proxy_hops: int


def gateway_settings() -> GatewaySettings:
    return config.settings(GatewaySettings)


def max_body_bytes() -> int:
    return gateway_settings().max_body_bytes


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    body = b"" if payload is None else orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)
    return Response(body, status=status, headers={**JSON_HEADERS, **(headers or {})})


def error_response(error: SanctumError) -> Response:
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="sanctumtools"'
    return json_response(error.to_dict(), error.http_status, headers)


REVALIDATE = "private, no-cache"  # keep it, but ask again (with If-None-Match) each time


def cacheable_response(body: bytes, request) -> Response:
    """A JSON answer with an ETag; 304 and no body when the client's copy is current."""
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**JSON_HEADERS, "Cache-Control": REVALIDATE, "ETag": tag}
    if request is not None and request.if_none_match.contains_weak(tag.strip('"')):
        return Response(status=304, headers={"Cache-Control": REVALIDATE, "ETag": tag})
    return Response(body, status=200, headers=headers)


HTTP_ERRORS = {
    404: ("not_found", "No such endpoint."),
    405: ("method_not_allowed", "This endpoint does not accept that method."),
    413: ("payload_too_large", "The request body is too large."),
}


def http_error_response(exc: HTTPException) -> Response:
    code, message = HTTP_ERRORS.get(exc.code, ("http_error", exc.description or "HTTP error."))
    headers = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return json_response({"error": code, "message": message}, exc.code or 500, headers)


class JsonWsgiApp(WsgiApp):
    """nameko's WSGI app, with unknown routes and methods answered in JSON."""

    def __call__(self, environ, start_response):
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            # eventlet decodes chunked bodies and ends the stream itself, so
            # werkzeug may read it (up to max_content_length) instead of
            # treating it as empty.
            environ["wsgi.input_terminated"] = True
        request = Request(environ, shallow=True)
        # One byte over the limit, so a streamed body that is too long shows up
        # as longer than the limit instead of being silently cut at it.
        request.max_content_length = max_body_bytes() + 1
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = http_error_response(exc)
            metrics.count("sanctum_http_requests_total", route="unmatched",
                          method=request.method if exc.code == 405 else "any",
                          status=str(response.status_code))
        return response(environ, start_response)


class RecordId(BaseConverter):
    """``<record_id>`` in a route: a UUID (as text). Anything else is no such
    record (404), and never takes a sibling route's path (/episodes/candidates)."""

    regex = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class JsonWebServer(WebServer):
    def make_url_map(self):
        url_map = Map(converters={"record": RecordId})
        for provider in self._providers:
            rule = provider.get_url_rule()
            rule.endpoint = provider
            url_map.add(rule)
        return url_map

    def get_wsgi_app(self):
        app = JsonWsgiApp(self)
        hops = gateway_settings().trusted_proxy_hops
        return ProxyFix(app, x_for=hops) if hops else app


@dataclass
class Identity:
    user_id: str
    session_id: str


class TokenCheck(SharedExtension):
    """Bearer token verification inside the gateway process."""

    def setup(self):
        self.verifier = tokens.TokenVerifier()
        self.revoked = RevokedSessions(redis_client())

    def start(self):
        self.container.spawn_managed_thread(self.revoked.run, identifier="revocation_feed")

    def stop(self):
        self.revoked.stop()

    def identify(self, request: Request) -> Identity:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("A Bearer access token is required.")
        try:
            claims = self.verifier.claims(token.strip())
        except tokens.InvalidToken:
            raise Unauthenticated("The access token is invalid or expired.") from None
        if self.revoked.is_revoked(claims["sid"]):
            raise Unauthenticated("This session has ended; log in again.")
        return Identity(user_id=claims["sub"], session_id=claims["sid"])


class CacheReaders(SharedExtension):
    """The services' caches, read by the gateway (kit/cache.py): one reader per namespace."""

    def setup(self):
        self.readers: dict[str, UserCache] = {}

    def reader(self, namespace: str) -> UserCache:
        if namespace not in self.readers:
            self.readers[namespace] = UserCache(redis_client(), namespace, service="gateway")
        return self.readers[namespace]


@dataclass(frozen=True)
class CachedRead:
    """A route whose answer a service caches: ``name(call)`` is the entry's name
    (kit/cache.py read_name, as the service computes it). On a hit the gateway answers
    at once, without a worker or an RPC; on a miss the route's handler asks the service."""

    namespace: str
    name: Callable[[Call], str]


ID_PARAMETER = re.compile(r"<([a-z_]+_id)>")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{8,100}$")


def request_id_of(request: Request) -> str:
    """The client's Idempotency-Key (a retry of the same request carries the same
    key), or a fresh id: either way a broker redelivery of this call repeats it."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return uuid.uuid4().hex
    if not IDEMPOTENCY_KEY.match(key):
        raise ValidationFailed(fields={"Idempotency-Key": ["8-100 letters, digits or -_:."]})
    return key


@dataclass
class Call:
    """What a route handler receives."""

    request: Request
    identity: Identity | None = None
    body: dict | None = None
    query: dict = field(default_factory=dict)
    request_id: str = ""

    @property
    def user_id(self) -> str:
        assert self.identity is not None, "route declared auth=False"
        return self.identity.user_id

    @property
    def client_ip(self) -> str:
        return self.request.remote_addr or "unknown"


def _field_errors(messages) -> dict:
    return messages if isinstance(messages, dict) else {"_schema": messages}


DRAIN_AT_MOST = 1024 * 1024


def _discard_body(request: Request) -> None:
    """Read and drop a too-large body (up to 1 MiB) so the client, still sending,
    reads our 413 instead of a connection reset; anything bigger is cut off."""
    remaining = request.content_length or 0
    if remaining > DRAIN_AT_MOST:
        return
    stream = request.environ["wsgi.input"]
    while remaining > 0:
        chunk = stream.read(min(65536, remaining))
        if not chunk:
            return
        remaining -= len(chunk)


class Route(HttpRequestHandler):
    server = JsonWebServer()
    token_check = TokenCheck()
    caches = CacheReaders()

    def __init__(self, method, url, *, body=None, query=None, response=None, status=200,
                 auth=True, tags=(), errors=(), idempotent=False, local=False, path_schemas=None,
                 etag=False, cached: CachedRead | None = None, **kwargs):
        """``errors``: the statuses the service may answer besides those the route's
        shape implies (400 with a body or query, 401 with auth, 404 with an id in the
        path, 413/415 with a body, 503 unless ``local``); ``idempotent``: the route
        takes an Idempotency-Key header; ``path_schemas``: what a path parameter may be
        (an id is a UUID unless said otherwise); ``etag``: the answer is not the user's
        health data and may be cached, revalidated with If-None-Match (304). The
        OpenAPI document lists exactly these."""
        # Domain errors are answers (404, 409...), not faults: never logged as errors.
        kwargs.setdefault("expected_exceptions", SanctumError)
        super().__init__(method, url, **kwargs)
        self.body_schema = body() if isinstance(body, type) else body
        self.query_schema = query() if isinstance(query, type) else query
        self.response_schema = response() if isinstance(response, type) else response
        self.status = status
        self.auth = auth
        self.tags = tuple(tags)
        self.idempotent = idempotent
        self.path_schemas = path_schemas or {}
        self.etag = etag
        self.cached = cached
        self.cache_reader = f"{method} {url}"  # whose rendering of a cached entry is whose
        # A status may come with its own body schema instead of the Error schema.
        self.error_bodies = dict(errors) if isinstance(errors, dict) else {}
        self.statuses = self._statuses(set(errors), local)

    def get_url_rule(self):
        # An id in the path is a UUID, unless the route says what else it is.
        url = ID_PARAMETER.sub(
            lambda m: m.group(0) if m.group(1) in self.path_schemas else f"<record:{m.group(1)}>",
            self.url)
        return Rule(url, methods=self.method.split(","))

    def _statuses(self, errors: set[int], local: bool) -> set[int]:
        if self.body_schema is not None:
            errors |= {400, 413, 415}
        if self.query_schema is not None or self.idempotent:
            errors.add(400)
        if self.auth:
            errors.add(401)
        if "<" in self.url:
            errors.add(404)
        if not local:
            errors.add(503)
        return errors

    # --- request side ----------------------------------------------------
    def _read_body(self, request: Request) -> dict:
        limit = max_body_bytes()
        if request.content_length is not None and request.content_length > limit:
            _discard_body(request)
            raise RequestEntityTooLarge()
        if request.mimetype != "application/json":
            raise UnsupportedMediaType()
        raw = request.get_data(cache=True)
        if len(raw) > limit:
            raise RequestEntityTooLarge()
        try:
            data = orjson.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            raise ValidationFailed("The body is not valid JSON.", {"_body": ["Malformed JSON."]}) from None
        if not isinstance(data, dict):
            raise ValidationFailed("The body must be a JSON object.", {"_body": ["Expected a JSON object."]})
        try:
            return self.body_schema.load(data)
        except ValidationError as exc:
            raise ValidationFailed(fields=_field_errors(exc.messages)) from None

    def _read_query(self, request: Request) -> dict:
        try:
            return self.query_schema.load(request.args.to_dict())
        except ValidationError as exc:
            raise ValidationFailed(fields=_field_errors(exc.messages)) from None

    def build_call(self, request: Request) -> Call:
        call = Call(request, request_id=request_id_of(request) if self.idempotent else "")
        if self.auth:
            call.identity = self.token_check.identify(request)
        if self.body_schema is not None:
            call.body = self._read_body(request)
        if self.query_schema is not None:
            call.query = self._read_query(request)
        return call

    # --- running the handler -----------------------------------------------
    def handle_request(self, request):
        started = time.perf_counter()
        response = self._answer(request)
        metrics.count("sanctum_http_requests_total", route=self.url, method=request.method,
                      status=str(response.status_code))
        metrics.observe("sanctum_http_request_duration_seconds", time.perf_counter() - started,
                        route=self.url, method=request.method)
        return response

    def _answer(self, request):
        request.shallow = False
        try:
            call = self.build_call(request)
            if self.cached is not None:
                entry = self.caches.reader(self.cached.namespace).peek(
                    call.user_id, self.cached.name(call), reader=self.cache_reader)
                if entry is not None:
                    return self.response_from_entry(entry, request)
            context_data = service_auth.stamp({}, self.container.service_name)
            args, kwargs = (call,), request.path_values
            self.check_signature(args, kwargs)
            done = Event()
            self.container.spawn_worker(
                self, args, kwargs, context_data=context_data,
                handle_result=partial(self.handle_result, done),
            )
            result, exc_info = done.wait()
            if exc_info is not None:
                raise exc_info[1]
            return self.response_from_result(result, request)
        except Exception as exc:
            return self.response_from_exception(exc)

    def handle_result(self, done, worker_ctx, result, exc_info):
        done.send((result, exc_info))
        return result, exc_info

    def response_from_result(self, result, request=None):
        if isinstance(result, Response):
            return result
        if result is None and self.status == 204:
            return Response(status=204, headers={"Cache-Control": "no-store"})
        return self.response_from_body(self.render(result), request)

    def response_from_entry(self, entry: CachedEntry, request):
        """A cache hit: the body rendered from this entry before, or rendered now and
        kept beside it (the response schema's dump is most of a hit's cost)."""
        if entry.rendered is None:
            entry.rendered = self.render(entry.value)
            entry.keep_rendered(entry.rendered)
        return self.response_from_body(entry.rendered, request)

    def render(self, result) -> bytes:
        if self.response_schema is not None:
            result = self.response_schema.dump(result)
        return b"" if result is None else orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS)

    def response_from_body(self, body: bytes, request):
        if self.etag:
            return cacheable_response(body, request)
        return Response(body, status=self.status, headers=JSON_HEADERS)

    def response_from_exception(self, exc):
        if isinstance(exc, ServiceAuthFailed):
            log.error("internal call refused: service credential rejected")
            exc = ServiceUnavailable()
        if dependency_down(exc):
            log.warning("answered 503: %s unreachable", dependency_down(exc))
            exc = ServiceUnavailable()
        if isinstance(exc, SanctumError):
            return error_response(exc)
        if isinstance(exc, HTTPException):
            return http_error_response(exc)
        if isinstance(exc, RemoteError):
            log.error("remote error from a service: %s", exc.exc_type)
        else:
            log.exception("unexpected gateway error")
            error_reports.capture(exc)
        return json_response(
            {"error": "internal_error", "message": "Something went wrong on our side."}, 500
        )


def dependency_down(exc: BaseException) -> str | None:
    """Which dependency a failure says is unreachable: the broker (the call could not
    even be sent), or a service's database (the service could not reach it). Either is
    an outage, answered 503 like an RPC timeout (the client retries, with its
    Idempotency-Key), not a 500 reported as a bug. None for anything else."""
    if isinstance(exc, BROKER_DOWN):
        return "the broker"
    if isinstance(exc, RemoteError) and exc.exc_type == "OperationalError":
        return "a service's database"
    return None


route = Route.decorator

"""OpenAPI 3 document generated from the routes' own marshmallow schemas."""

from __future__ import annotations

import inspect
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, resolver
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from gateway.http import IDEMPOTENCY_KEY, Route
from gateway.schemas.common import ErrorSchema, RequestSchema

PATH_PARAM = re.compile(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-zA-Z_]+)>")
ERROR_STATUSES = {
    400: "Not what this document describes; `fields` names each problem",
    401: "Missing, invalid, expired or revoked credentials",
    404: "Not found (or not yours)",
    409: "Conflicts with what exists (already done, already taken, at a limit)",
    413: "Body too large",
    415: "Body is not application/json",
    422: "Well formed, but a value cannot be used; `fields` names each (a phone number "
         "no network has, a time in the future, a range too long)",
    429: "Too many attempts; see Retry-After",
    503: "A part of the system is not answering; retry shortly",
}
IDEMPOTENCY_KEY_HEADER = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "description": "Makes retries safe: a request repeated with the same key returns the "
                   "first one's result instead of doing it twice.",
    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY.pattern},
}


def _path_parameter(name: str, route: Route) -> dict:
    schema = route.path_schemas.get(name) or (
        {"type": "string", "format": "uuid"} if name.endswith("_id") else {"type": "string"})
    return {"in": "path", "name": name, "required": True, "schema": schema}


ETAG_HEADER = {"ETag": {"description": "pass as If-None-Match to revalidate",
                        "schema": {"type": "string"}}}
IF_NONE_MATCH = {"in": "header", "name": "If-None-Match", "required": False,
                 "description": "the ETag of your copy: 304 if it is still current",
                 "schema": {"type": "string"}}


def routes_of(service_cls) -> list[tuple[str, Route]]:
    found = []
    for name, member in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, Route):
                found.append((name, member, entrypoint))
    return sorted(found, key=lambda item: (item[2].url, item[2].method))


def _operation(name, func, route: Route) -> dict:
    doc = inspect.getdoc(func) or ""
    operation = {
        "operationId": name,
        "summary": doc.splitlines()[0] if doc else name.replace("_", " "),
        "tags": list(route.tags) or ["system"],
        "responses": {},
    }
    params = PATH_PARAM.findall(route.url)
    if params:
        operation["parameters"] = [_path_parameter(p, route) for p in params]
    if route.idempotent:
        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_HEADER)
    if route.query_schema is not None:
        operation.setdefault("parameters", []).append({"in": "query", "schema": route.query_schema})
    if route.body_schema is not None:
        operation["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": route.body_schema}},
        }
    success = {"description": "OK" if route.status != 204 else "No content"}
    if route.response_schema is not None:
        success["content"] = {"application/json": {"schema": route.response_schema}}
    if route.etag:
        success["headers"] = ETAG_HEADER
        operation.setdefault("parameters", []).append(IF_NONE_MATCH)
        operation["responses"]["304"] = {"description": "Not modified: your copy is current",
                                         "headers": ETAG_HEADER}
    operation["responses"][str(route.status)] = success
    for status in sorted(route.statuses):
        if str(status) in operation["responses"]:
            continue
        operation["responses"][str(status)] = {
            "description": ERROR_STATUSES[status],
            "content": {"application/json": {"schema": route.error_bodies.get(status, "Error")}},
        }
    if route.auth:
        operation["security"] = [{"bearerAuth": []}]
    return operation


def build_spec(service_cls, version: str = "1.0.0") -> dict:
    spec = APISpec(
        title="SanctumTools API",
        version=version,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Mood, DBT, episodes and crisis alerting for people living "
                             "with bipolar disorder or BPD, and the people they trust."},
    )
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    spec.components.schema("Error", schema=ErrorSchema)
    paths: dict[str, dict] = {}
    for name, func, route in routes_of(service_cls):
        path = PATH_PARAM.sub(r"{\1}", route.url)
        for method in route.method.split(","):
            paths.setdefault(path, {})[method.lower()] = _operation(name, func, route)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    _state_min_properties(document, service_cls)
    return document


def _state_min_properties(document: dict, service_cls) -> None:
    """A partial update (or an item that needs one of its fields) has at least
    ``min_properties`` fields: say so where apispec cannot."""
    schemas = document["components"]["schemas"]
    for cls in _subclasses(RequestSchema):
        name = resolver(cls)
        if cls.min_properties and name in schemas:
            schemas[name]["minProperties"] = cls.min_properties


def _subclasses(cls) -> set:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_subclasses(direct)}}

"""OpenAPI 3 document generated from the routes' own marshmallow schemas."""

from __future__ import annotations

import inspect
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from gateway.http import Route
from gateway.schemas.common import ErrorSchema

PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")
ERROR_STATUSES = {
    400: "Invalid input; `fields` names each problem",
    401: "Missing, invalid, expired or revoked access token",
    404: "Not found (or not yours)",
    413: "Body too large",
    415: "Body is not application/json",
    429: "Too many attempts; see Retry-After",
    503: "A service is not answering; retry shortly",
}


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
        operation["parameters"] = [
            {"in": "path", "name": p, "required": True, "schema": {"type": "string"}} for p in params
        ]
    if route.query_schema is not None:
        operation.setdefault("parameters", []).append({"in": "query", "schema": route.query_schema})
    if route.body_schema is not None:
        operation["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": route.body_schema}},
        }
    success = {"description": "OK" if route.status != 204 else "No content"}
    if route.response_schema is not None:
        success["content"] = {"application/json": {"schema": route.response_schema}}
    operation["responses"][str(route.status)] = success
    for status, description in ERROR_STATUSES.items():
        if status == 401 and not route.auth:
            continue
        operation["responses"][str(status)] = {
            "description": description,
            "content": {"application/json": {"schema": "Error"}},
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
    return spec.to_dict()

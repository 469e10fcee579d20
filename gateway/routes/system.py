"""Health, readiness, the OpenAPI document and its docs page."""

import mimetypes
from pathlib import Path

import swagger_ui_bundle
from werkzeug.wrappers import Response

from gateway import readiness
from gateway.http import json_response, route
from gateway.schemas.system import Health, Readiness
from services.kit.errors import NotFound

DOCS_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SanctumTools API</title>
<link rel="stylesheet" href="/api/v1/docs/assets/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/api/v1/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/v1/docs/assets/init.js"></script>
</body></html>"""
DOCS_ASSET_NAMES = ("init.js", "swagger-ui.css", "swagger-ui-bundle.js")
DOCS_INIT = """window.ui = SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#docs",
  deepLinking: true, persistAuthorization: false});"""


class SystemRoutes:
    _openapi = None

    @route("GET", "/health", auth=False, response=Health, local=True)
    def health(self, call):
        """Liveness: the gateway process answers."""
        return {"status": "ok"}

    @route("GET", "/ready", auth=False, response=Readiness, errors={503: Readiness}, local=True)
    def ready(self, call):
        """Readiness: PostgreSQL, Redis and RabbitMQ are reachable from here."""
        ok, checks = readiness.check_all()
        return json_response({"status": "ready" if ok else "not_ready", "checks": checks},
                             200 if ok else 503)

    @route("GET", "/api/v1/openapi.json", auth=False, local=True)
    def openapi(self, call):
        """This API's OpenAPI 3 document."""
        if SystemRoutes._openapi is None:
            from gateway.openapi import build_spec

            SystemRoutes._openapi = build_spec(type(self))
        return SystemRoutes._openapi

    @route("GET", "/api/v1/docs", auth=False, local=True)
    def docs(self, call):
        """Interactive API documentation."""
        return Response(DOCS_PAGE, headers={"Content-Type": "text/html; charset=utf-8"})

    @route("GET", "/api/v1/docs/assets/<name>", auth=False, local=True,
           path_schemas={"name": {"type": "string", "enum": list(DOCS_ASSET_NAMES)}})
    def docs_asset(self, call, name):
        if name == "init.js":
            return Response(DOCS_INIT, headers={"Content-Type": "application/javascript"})
        if name not in DOCS_ASSET_NAMES:
            raise NotFound("No such asset.")
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Response((DOCS_ASSETS / name).read_bytes(),
                        headers={"Content-Type": content_type, "Cache-Control": "max-age=86400"})

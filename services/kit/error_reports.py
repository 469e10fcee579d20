"""Sentry reports of unexpected errors (a bug, a dependency failing in a way we did not
plan for), sent only when TELEMETRY.SENTRY_DSN is set. Expected refusals (a 404, a
validation error) are answers, not errors, and are never reported.

An event keeps only what says where the error is: the exception's type, its frames
(module, function, line and the source lines around it: code, never data), the
service, the environment and the release. It loses everything that could hold health
data or identify a person, whatever the SDK or an integration put there: the
exception's message (a database error quotes the values it refused), local variables,
request bodies, headers and query strings, RPC arguments, log lines and breadcrumbs,
the user, extra data. ``scrub`` builds the event from that list; nothing else passes.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

_active = False

FRAME_KEYS = ("filename", "module", "function", "lineno", "colno", "in_app",
              "pre_context", "context_line", "post_context")
EVENT_KEYS = ("event_id", "timestamp", "level", "platform", "logger", "release", "environment",
              "server_name", "sdk", "fingerprint")
CONTEXT_KEYS = ("runtime", "os", "trace")


def _frame(frame: dict) -> dict:
    return {key: frame[key] for key in FRAME_KEYS if key in frame}


def _exception(value: dict) -> dict:
    kept = {key: value[key] for key in ("type", "module", "mechanism") if key in value}
    kept["value"] = "(message withheld)"
    frames = (value.get("stacktrace") or {}).get("frames") or []
    if frames:
        kept["stacktrace"] = {"frames": [_frame(frame) for frame in frames]}
    return kept


def scrub(event: dict, hint: dict | None = None) -> dict:
    """The event with nothing but the listed fields (Sentry's ``before_send``)."""
    kept = {key: event[key] for key in EVENT_KEYS if key in event}
    values = (event.get("exception") or {}).get("values") or []
    if values:
        kept["exception"] = {"values": [_exception(value) for value in values]}
    contexts = event.get("contexts") or {}
    kept["contexts"] = {key: contexts[key] for key in CONTEXT_KEYS if key in contexts}
    kept["tags"] = {key: value for key, value in (event.get("tags") or {}).items()
                    if key in ("service",)}
    return kept


def start(service_name: str, options) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.atexit import AtexitIntegration
    from sentry_sdk.integrations.dedupe import DedupeIntegration
    from sentry_sdk.integrations.excepthook import ExcepthookIntegration

    global _active
    sentry_sdk.init(
        dsn=options.sentry_dsn,
        environment=options.environment,
        before_send=scrub,
        before_breadcrumb=lambda crumb, hint: None,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        max_breadcrumbs=0,
        # Only what we choose: no logging capture, no argv, no HTTP client breadcrumbs.
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[AtexitIntegration(), DedupeIntegration(), ExcepthookIntegration()],
        traces_sample_rate=None,
    )
    # On the global scope: workers run in green threads with scopes of their own.
    sentry_sdk.get_global_scope().set_tag("service", service_name)
    _active = True
    log.info("error reports go to Sentry")


def capture(error) -> None:
    """Report an unexpected exception, given as itself or as an ``exc_info`` tuple
    (a no-op unless Sentry is configured)."""
    if _active:
        import sentry_sdk

        sentry_sdk.capture_exception(error)

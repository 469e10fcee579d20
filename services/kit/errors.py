"""Domain errors: raised by services, re-raised as themselves across RPC.

Each error carries a machine-readable ``code``, a human ``message`` and, for
input problems, ``fields`` mapping a field name to its messages. They are
registered with nameko, so a service's ``NotFound`` arrives at the gateway as
``NotFound``, and the gateway maps ``http_status`` onto the response.
"""

from __future__ import annotations

from nameko.exceptions import deserialize_to_instance


class SanctumError(Exception):
    http_status = 500
    code = "internal_error"
    default_message = "Something went wrong on our side."

    def __init__(self, message: str | None = None, fields: dict | None = None, **extra):
        self.message = message or self.default_message
        self.fields = fields or {}
        self.extra = extra
        # args are what nameko serializes and replays on the caller's side.
        super().__init__(self.message, self.fields, *self._extra_args())

    def _extra_args(self) -> tuple:
        return ()

    def to_dict(self) -> dict:
        body = {"error": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body

    def __str__(self) -> str:
        return self.message


@deserialize_to_instance
class ValidationFailed(SanctumError):
    http_status = 400
    code = "validation_failed"
    default_message = "The request has invalid fields."


@deserialize_to_instance
class Unprocessable(SanctumError):
    """Well formed (it matches the API's document) but not usable: a phone number no
    network has, a time in the future, a date range too long."""

    http_status = 422
    code = "unprocessable"
    default_message = "The request is well formed, but some values cannot be used."


class UnsupportedMediaType(SanctumError):
    http_status = 415
    code = "unsupported_media_type"
    default_message = "Send the body as application/json."


@deserialize_to_instance
class Unauthenticated(SanctumError):
    http_status = 401
    code = "unauthenticated"
    default_message = "Missing, invalid or expired credentials."


@deserialize_to_instance
class Forbidden(SanctumError):
    http_status = 403
    code = "forbidden"
    default_message = "You may not do this."


@deserialize_to_instance
class NotFound(SanctumError):
    http_status = 404
    code = "not_found"
    default_message = "Not found."


@deserialize_to_instance
class Conflict(SanctumError):
    http_status = 409
    code = "conflict"
    default_message = "This conflicts with existing data."


@deserialize_to_instance
class RateLimited(SanctumError):
    http_status = 429
    code = "rate_limited"
    default_message = "Too many attempts; try again later."

    def __init__(self, message=None, fields=None, retry_after: int = 60):
        self.retry_after = int(retry_after)
        super().__init__(message, fields, retry_after=self.retry_after)

    def _extra_args(self) -> tuple:
        return (self.retry_after,)


@deserialize_to_instance
class ServiceUnavailable(SanctumError):
    http_status = 503
    code = "service_unavailable"
    default_message = "A part of the system is not answering; try again shortly."


@deserialize_to_instance
class ServiceAuthFailed(SanctumError):
    """An RPC or event arrived without a valid service credential."""

    http_status = 503
    code = "service_auth_failed"
    default_message = "Internal call refused."

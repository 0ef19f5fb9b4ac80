"""One error hierarchy for every endpoint; each error knows its status and whether a retry may succeed."""
from __future__ import annotations


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "details"}}``."""

    status = 500
    code = "internal_error"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, details: list | None = None,
                 retryable: bool | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if retryable is not None:
            self.retryable = retryable
        self.details = details or []

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class Unprocessable(ApiError):
    status, code = 422, "validation_failed"


class UpstreamError(ApiError):
    """A system we depend on (Odoo, n8n) failed; retrying later may succeed."""

    status, code, retryable = 502, "upstream_error", True


class Unavailable(ApiError):
    status, code, retryable = 503, "unavailable", True

"""The three real error body shapes (reference §1.8): gateway, legacy IssueList, regular."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime

from starlette.responses import JSONResponse

from .util import BERLIN, fmt_dt

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


# The sandbox clock of the request being answered (set per request by the app), for `timestamp`.
CLOCK: ContextVar[Callable[[], datetime]] = ContextVar("sandbox_clock", default=lambda: datetime.now(BERLIN))


class ApiError(Exception):
    """Raised by route code; rendered by the app into the right body shape."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def gateway(status: int, message: str | None) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def denial(status: int, path: str) -> JSONResponse:
    """What a key gets for an endpoint outside its reach (--deny; the real bodies are unverified)."""
    if status == 402:
        return regular(402, path, "Action not accessible due to a contract issue")
    if status == 404:
        return regular(404, path, "No handler found for this path")
    return gateway(status, REASONS[status])


def issue(i18n_key: str, source: str | None, type_: str = "validation_failure") -> dict:
    return {"i18nKey": i18n_key, "source": source, "type": type_, "additionalData": None, "args": None}


def legacy(status: int, issues: list[dict]) -> JSONResponse:
    return JSONResponse({"IssueList": issues}, status_code=status)


def regular(
    status: int, path: str, message: str | None = None, details: list[dict] | None = None
) -> JSONResponse:
    body = {
        "timestamp": fmt_dt(CLOCK.get()()),
        "status": status,
        "error": REASONS.get(status, "Error"),
        "path": path,
        "traceId": secrets.token_hex(8),
        "requestId": str(uuid.uuid4()),
    }
    if message is not None:
        body["message"] = message
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status)


def detail(field: str, violation: str, message: str) -> dict:
    return {"violation": violation, "field": field, "message": message}


NOTNULL = "darf nicht leer sein"
VALIDATION_MESSAGE = "Validation failed for request. Please see details list for specific causes."


def validation_406(path: str, details: list[dict]) -> ApiError:
    return ApiError(regular(406, path, VALIDATION_MESSAGE, details))


def bad_param(path: str, name: str, value: str) -> ApiError:
    return ApiError(regular(400, path, f"Invalid value '{value}' received for request parameter '{name}'."))


def not_found(path: str) -> ApiError:
    return ApiError(regular(404, path, "Resource not found."))

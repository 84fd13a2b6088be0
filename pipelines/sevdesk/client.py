"""The sevDesk HTTP client: the Lexware client's pooled connection, per-tenant rate budget and single
retry policy (tenacity: 429/5xx/timeouts/connection errors/malformed bodies), with sevDesk's wire
conventions: the raw token in `Authorization` (no Bearer), the `objects` envelope, limit/offset paging,
and errors that may arrive inside an HTTP 200 body (reference §7.1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from core.config import TenantConfig
from pipelines.lexware.client import _MALFORMED, LexwareClient, _parse, _retry_after, _Transient
from pipelines.lexware.errors import (
    AuthError,
    LexwareError,
    MalformedResponseError,
    NotFoundError,
    NotInPlanError,
    ValidationError,
    VersionConflictError,
)
from pipelines.sevdesk import settings


class SevdeskClient(LexwareClient):
    """Client for one sevDesk tenant; `get` returns the whole body (`objects`, `total`)."""

    def __init__(self, tenant: TenantConfig, **kwargs: Any) -> None:
        super().__init__(tenant, **kwargs)
        self._http.headers["Authorization"] = tenant.api_key  # raw token (reference §1.2)
        self._http.headers["User-Agent"] = settings.USER_AGENT

    def objects(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET and return `objects`."""
        return self.get(path, params)["objects"]

    def pages(  # type: ignore[override]
        self,
        path: str,
        params: dict[str, Any] | None = None,
        size: int = settings.PAGE_SIZE,
    ) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        """The one sevDesk paginator: (rows, total) per page via limit/offset with `countAll`, until a
        short page."""
        offset = 0
        while True:
            body = self.get(
                path, params={**(params or {}), "limit": size, "offset": offset, "countAll": "true"}
            )
            rows = body.get("objects")
            if not isinstance(rows, list):
                raise MalformedResponseError(self.name, f"GET {path}: expected a list in 'objects'")
            total = body.get("total")
            yield rows, int(total) if total is not None else None
            if len(rows) < size:
                return
            offset += size

    def _handle(self, method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status == 429:
            raise _Transient("429 Too Many Requests", 429, _retry_after(response), sent=False)
        if status >= 500:
            raise _Transient(f"HTTP {status}", status)
        body = _parse(response)
        what = f"{method} {path}"
        if body is _MALFORMED or (status < 300 and not isinstance(body, dict)):
            raise _Transient(f"malformed JSON body (HTTP {status})", status, malformed=True)
        error = body.get("error") if isinstance(body, dict) else None
        if status < 300 and not error:
            if "objects" not in body:
                raise _Transient(f"body without 'objects' (HTTP {status})", status, malformed=True)
            return body
        logical = _logical_status(error, status)
        message = f"{what}: {logical} {(error or {}).get('message', '')}".rstrip()
        if logical == 401:
            raise AuthError(
                self.name,
                f"{what}: 401 Unauthorized - the API token is invalid or revoked "
                f"(check {self.tenant.api_key_env})",
                status,
            )
        if logical == 403:
            raise NotInPlanError(self.name, f"{message} - not available to this token", status, body)
        if logical == 404:
            raise NotFoundError(self.name, message, status, body)
        if logical == 409:
            raise VersionConflictError(self.name, message, status, body)
        if logical in (400, 422):
            raise ValidationError(self.name, message, status, body)
        raise LexwareError(self.name, message, status, body)


def _logical_status(error: Any, status: int) -> int:
    """The error's own `responseCode` (errors inside HTTP 200 carry the real one), else the HTTP status."""
    try:
        return int(error["responseCode"])
    except (TypeError, KeyError, ValueError):
        return status if status >= 400 else 400

"""A tiny route table for /v1 so that unknown routes and wrong methods get the real API's answers."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, issue, legacy, regular

if TYPE_CHECKING:
    from .app import Sandbox
    from .store import TenantStore

# Endpoints only a partner-plan key may call (all others are public-API / XL).
PARTNER_ONLY = ("/v1/organization", "/v1/finance/", "/v1/cash-boxes")


@dataclass
class Ctx:
    request: Request
    tenant: TenantStore
    params: dict[str, str]
    sb: Sandbox
    legacy: bool = False

    @property
    def path(self) -> str:
        return self.request.url.path

    def bad_request(self, message: str, source: str | None = None) -> ApiError:
        if self.legacy:
            return ApiError(legacy(400, [issue("bad_request_error", source or message, "bad_request_error")]))
        return ApiError(regular(400, self.path, message))

    async def json(self) -> Any:
        """The JSON body; 415 without a JSON content type, 400 when it does not parse."""
        ctype = self.request.headers.get("content-type", "")
        if not ctype.lower().startswith("application/json"):
            raise ApiError(regular(415, self.path, "Content type '" + (ctype or "") + "' not supported"))
        raw = await self.request.body()
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise self.bad_request("Malformed JSON request body") from None


Handler = Callable[[Ctx], Awaitable[Response]]
ROUTES: list[tuple[str, re.Pattern, Handler, bool]] = []


def route(method: str, pattern: str, *, legacy_errors: bool = False) -> Callable[[Handler], Handler]:
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "/?$")

    def register(fn: Handler) -> Handler:
        ROUTES.append((method, regex, fn, legacy_errors))
        return fn

    return register


def match(method: str, path: str) -> tuple[Handler, dict[str, str], bool] | str | None:
    """(handler, params, legacy) on a match; 'method' when only the method is wrong; None when unknown."""
    path_known = False
    for m, regex, fn, legacy_errors in ROUTES:
        found = regex.match(path)
        if found:
            if m == method or (method == "HEAD" and m == "GET"):
                return fn, found.groupdict(), legacy_errors
            path_known = True
    return "method" if path_known else None

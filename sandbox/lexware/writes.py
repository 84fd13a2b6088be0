"""Shared write helpers: action results, version conflicts."""

from __future__ import annotations

from starlette.responses import JSONResponse

from .errors import ApiError, issue, legacy, regular
from .routing import Ctx

CONFLICT_MESSAGE = "Version conflict. Please reload the resource and retry."


def action_result(
    ctx: Ctx,
    rec: dict,
    resource: str,
    *,
    created: bool = False,
) -> JSONResponse:
    """{id, resourceUri, createdDate, updatedDate, version}; creations answer 201 with a Location header."""
    base = str(ctx.request.base_url).rstrip("/")
    uri = f"{base}/v1/{resource}/{rec['id']}"
    now = ctx.tenant.now()
    body = {
        "id": rec["id"],
        "resourceUri": uri,
        "createdDate": rec.get("createdDate", now),
        "updatedDate": rec.get("updatedDate", now),
        "version": rec["version"],
    }
    headers = {"Location": uri} if created else None
    return JSONResponse(body, status_code=201 if created else 200, headers=headers)


def stale_version(ctx: Ctx, resource: str) -> ApiError:
    """Contacts: 406 IssueList naming `version` (observed live) or 409 (documented); elsewhere 409."""
    if resource == "contacts" and ctx.sb.config.stale_version_status == 406:
        return ApiError(legacy(406, [issue("invalid_value", "version")]))
    return ApiError(regular(409, ctx.path, CONFLICT_MESSAGE))

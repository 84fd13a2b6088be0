"""The Lexware emulator's operator API under /_sandbox/ (never under /v1): the common routes
(sandbox/operator_api.py: health, stats, export, edit, churn, clock, reset) plus bulk edit, bulk create,
the webhook key and deliveries."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from sandbox.operator_api import common_routes, lifespan, tenant_or_404

from .app import Sandbox
from .operations import OperationError, clone, edit
from .util import fmt_dt


def build_operator_app(sb: Sandbox) -> Starlette:
    def do_edit(t, body: dict) -> dict | None:
        return edit(sb, t, body["resource"], body["id"], body.get("changes"), body.get("action"))

    async def do_bulk_edit(request: Request) -> JSONResponse:
        """`{"edits": [{resource, id, changes?, action?}, ...]}` applied in order, like one user's bulk
        action (a status change of a whole year, a migration import): each as `edit` does it, in one
        request. Refused edits are reported by index; the others stay applied."""
        t, err = tenant_or_404(sb, request)
        if err:
            return err
        try:
            edits = json.loads(await request.body())["edits"]
            if not isinstance(edits, list):
                raise TypeError("'edits' must be a list")
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad bulk-edit request: {exc}"}, 400)
        applied, refused = 0, []
        for index, item in enumerate(edits):
            try:
                edit(sb, t, item["resource"], item["id"], item.get("changes"), item.get("action"))
                applied += 1
            except (KeyError, TypeError) as exc:
                refused.append({"index": index, "error": f"bad edit: {exc}"})
            except OperationError as exc:
                refused.append({"index": index, "error": str(exc)})
        return JSONResponse({"applied": applied, "refused": refused})

    async def do_bulk_create(request: Request) -> JSONResponse:
        """`{"resource", "template": id, "count": n, "changes"?}`: n copies of a record, created now."""
        t, err = tenant_or_404(sb, request)
        if err:
            return err
        try:
            body = json.loads(await request.body())
            count = body["count"]
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"count must be an integer >= 0, got {count!r}")
            ids = clone(sb, t, body["resource"], body["template"], count, body.get("changes"))
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad bulk-create request: {exc}"}, 400)
        except OperationError as exc:
            return JSONResponse({"error": str(exc)}, exc.status)
        return JSONResponse({"ids": ids})

    async def public_key(request: Request) -> PlainTextResponse:
        return PlainTextResponse(sb.webhooks.public_key_pem, media_type="application/x-pem-file")

    async def deliveries(request: Request) -> JSONResponse:
        return JSONResponse({"deliveries": sb.webhooks.deliveries})

    routes = common_routes(
        sb,
        system="lexware",
        edit=do_edit,
        refused=(OperationError,),
        error_body=lambda exc: ({"error": str(exc)}, exc.status),
        fmt_time=fmt_dt,
    )
    return Starlette(
        routes=[
            *routes,
            Route("/_sandbox/tenants/{name}/bulk-edit", do_bulk_edit, methods=["POST"]),
            Route("/_sandbox/tenants/{name}/bulk-create", do_bulk_create, methods=["POST"]),
            Route("/_sandbox/webhook-public-key", public_key),
            Route("/_sandbox/webhooks/deliveries", deliveries),
        ],
        lifespan=lifespan(sb, sb.close),
    )

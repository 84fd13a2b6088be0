"""Operator API under /_sandbox/ (never under /v1): health, stats, export, edit, bulk edit, bulk create,
churn, clock, reset, webhook key."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from datetime import datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import state
from .app import Sandbox
from .operations import OperationError, clone, edit
from .util import fmt_dt


def build_operator_app(sb: Sandbox) -> Starlette:
    def tenant_or_404(request: Request):
        t = sb.tenants.get(request.path_params["name"])
        if t is None:
            return None, JSONResponse({"error": f"unknown tenant '{request.path_params['name']}'"}, 404)
        return t, None

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse(sb.stats.snapshot())

    async def stats_reset(request: Request) -> JSONResponse:
        sb.stats.reset()
        return JSONResponse({"status": "ok"})

    async def export(request: Request) -> Response:
        t, err = tenant_or_404(request)
        return err or JSONResponse(t.export())

    async def do_edit(request: Request) -> JSONResponse:
        t, err = tenant_or_404(request)
        if err:
            return err
        try:
            body = json.loads(await request.body())
            rec = edit(sb, t, body["resource"], body["id"], body.get("changes"), body.get("action"))
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad edit request: {exc}"}, 400)
        except OperationError as exc:
            return JSONResponse({"error": str(exc)}, exc.status)
        return JSONResponse({"deleted": True, "id": body["id"]} if rec is None else rec)

    async def do_bulk_edit(request: Request) -> JSONResponse:
        """`{"edits": [{resource, id, changes?, action?}, ...]}` applied in order, like one user's bulk
        action (a status change of a whole year, a migration import): each as `edit` does it, in one
        request. Refused edits are reported by index; the others stay applied."""
        t, err = tenant_or_404(request)
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
        t, err = tenant_or_404(request)
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

    async def churn(request: Request) -> JSONResponse:
        if request.method == "GET":
            return JSONResponse(sb.churn.snapshot())
        try:
            rate = json.loads(await request.body())["rate"]
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate < math.inf:
                raise ValueError(f"rate must be a number >= 0, got {rate!r}")
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad churn request: {exc}"}, 400)
        previous = sb.churn.set_rate(float(rate))
        return JSONResponse({"previous_rate": previous, **sb.churn.snapshot()})

    async def clock(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                moment = datetime.fromisoformat(json.loads(await request.body())["now"])
                if moment.tzinfo is None:
                    raise ValueError("'now' needs a UTC offset, e.g. 2026-11-03T23:59:58+01:00")
                if moment < sb.clock.now():
                    raise ValueError(f"time never runs backwards: it is already {fmt_dt(sb.clock.now())}")
            except (ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": f"bad clock request: {exc}"}, 400)
            sb.clock.advance_to(moment)
        return JSONResponse({"now": fmt_dt(sb.clock.now())})

    async def reset(request: Request) -> JSONResponse:
        sb.reset()
        return JSONResponse({"status": "ok"})

    async def public_key(request: Request) -> PlainTextResponse:
        return PlainTextResponse(sb.webhooks.public_key_pem, media_type="application/x-pem-file")

    async def deliveries(request: Request) -> JSONResponse:
        return JSONResponse({"deliveries": sb.webhooks.deliveries})

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        tasks = [asyncio.create_task(sb.churn.run(sb))]  # idles while the rate is 0
        if sb.config.state_file:
            tasks.append(asyncio.create_task(state.autosave(sb, sb.config.state_file)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await sb.close()
            if sb.config.state_file:
                state.save(sb, sb.config.state_file)

    return Starlette(
        routes=[
            Route("/_sandbox/health", health),
            Route("/_sandbox/stats", stats),
            Route("/_sandbox/stats/reset", stats_reset, methods=["POST"]),
            Route("/_sandbox/tenants/{name}/export", export),
            Route("/_sandbox/tenants/{name}/edit", do_edit, methods=["POST"]),
            Route("/_sandbox/tenants/{name}/bulk-edit", do_bulk_edit, methods=["POST"]),
            Route("/_sandbox/tenants/{name}/bulk-create", do_bulk_create, methods=["POST"]),
            Route("/_sandbox/churn", churn, methods=["GET", "POST"]),
            Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
            Route("/_sandbox/reset", reset, methods=["POST"]),
            Route("/_sandbox/webhook-public-key", public_key),
            Route("/_sandbox/webhooks/deliveries", deliveries),
        ],
        lifespan=lifespan,
    )

"""The operator API every emulator has, under /_sandbox/ (never under the system's API): health, stats and
their reset, a tenant's ground-truth export, an edit "as another user", churn, clock and reset; and the
lifespan that runs the churn loop and the --state autosave. An emulator adds its own routes beside these
(the Lexware one: bulk edits, bulk creates, webhooks)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox import state

EditFn = Callable[[Any, dict], "dict | None"]  # (tenant, request body) -> the changed record, None if deleted
ErrorBody = Callable[[Exception], tuple[dict, int]]  # a refused edit -> (body, status)


def tenant_or_404(sb: Any, request: Request) -> tuple[Any, JSONResponse | None]:
    """The tenant named in the path, or a 404 answer."""
    t = sb.tenants.get(request.path_params["name"])
    if t is None:
        return None, JSONResponse({"error": f"unknown tenant '{request.path_params['name']}'"}, 404)
    return t, None


def common_routes(
    sb: Any,
    *,
    system: str,
    edit: EditFn,
    refused: tuple[type[Exception], ...],
    error_body: ErrorBody,
    fmt_time: Callable[[datetime], str],
) -> list[Route]:
    """The routes every emulator shares. `edit` applies one edit request body; `refused` are the errors
    with which its books refuse one (answered by `error_body`); `fmt_time` renders the clock."""

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "system": system})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse(sb.stats.snapshot())

    async def stats_reset(request: Request) -> JSONResponse:
        sb.stats.reset()
        return JSONResponse({"status": "ok"})

    async def export(request: Request) -> JSONResponse:
        t, err = tenant_or_404(sb, request)
        return err or JSONResponse(t.export())

    async def do_edit(request: Request) -> JSONResponse:
        t, err = tenant_or_404(sb, request)
        if err:
            return err
        try:
            body = json.loads(await request.body())
            rec = edit(t, body)
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad edit request: {exc}"}, 400)
        except refused as exc:
            return JSONResponse(*error_body(exc))
        return JSONResponse({"deleted": True, "id": body["id"]} if rec is None else rec)

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
                    raise ValueError(f"time never runs backwards: it is already {fmt_time(sb.clock.now())}")
            except (ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": f"bad clock request: {exc}"}, 400)
            sb.clock.advance_to(moment)
        return JSONResponse({"now": fmt_time(sb.clock.now())})

    async def reset(request: Request) -> JSONResponse:
        sb.reset()
        return JSONResponse({"status": "ok"})

    return [
        Route("/_sandbox/health", health),
        Route("/_sandbox/stats", stats),
        Route("/_sandbox/stats/reset", stats_reset, methods=["POST"]),
        Route("/_sandbox/tenants/{name}/export", export),
        Route("/_sandbox/tenants/{name}/edit", do_edit, methods=["POST"]),
        Route("/_sandbox/churn", churn, methods=["GET", "POST"]),
        Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
    ]


def lifespan(sb: Any, close: Callable[[], Awaitable[None]] | None = None):
    """Run the churn loop (it idles while the rate is 0) and the --state autosave while serving; on
    shutdown stop them, `close()` what the emulator holds open, and save the state once more."""

    @contextlib.asynccontextmanager
    async def span(_app):
        tasks = [asyncio.create_task(sb.churn.run(sb))]
        if sb.config.state_file:
            tasks.append(asyncio.create_task(state.autosave(sb, sb.config.state_file)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            if close:
                await close()
            if sb.config.state_file:
                state.save(sb, sb.config.state_file)

    return span

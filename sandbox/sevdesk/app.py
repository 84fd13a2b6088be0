"""The sevDesk emulator: tenants, the /api/v1 gateway (token auth, optional rate limit, faults, latency)
and the operator API under /_sandbox/. Clock, faults, rate limiter, churn loop and --state persistence
are the Lexware sandbox's shared pieces."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import state
from sandbox.churn import Churn
from sandbox.faults import NOT_PERFORMED, FaultInjector
from sandbox.ratelimit import RateLimiter
from sandbox.stats import Stats
from sandbox.util import DEFAULT_ANCHOR, Clock

from . import api
from .books import SevError
from .operations import ACTIONS, edit, step
from .seed import SIZES, Counts, seed_tenant
from .store import TenantStore

UNAUTHORIZED = "_unauthorized"


@dataclass
class SevdeskConfig:
    tenants: dict[str, str] = field(default_factory=lambda: {"demo": "sandbox-demo-key"})
    seed: int = 42
    counts: Counts = field(default_factory=lambda: Counts(**SIZES["small"]))
    rate_limit: float = 0.0  # no published or observed limit (reference §7.4): off unless switched on
    burst: int = 10
    retry_after: bool = False
    latency_ms: float = 0.0
    latency_jitter: float = 0.5
    faults: str = ""
    fault_seed: int = 0
    slow_seconds: float = 35.0
    churn: float = 0.0
    state_file: str | None = None


class SevStats(Stats):
    """Request counters with ids normalised away: `GET /api/v1/Invoice/{id}/getPositions`."""

    def record(self, tenant: str, method: str, path: str, status: int) -> None:
        entry = self._data.setdefault(tenant, {"requests": 0, "status": Counter(), "by_endpoint": Counter()})
        entry["requests"] += 1
        entry["status"][str(status)] += 1
        entry["by_endpoint"][f"{method} {re.sub(r'/[0-9]+(?=/|$)', '/{id}', path.rstrip('/'))}"] += 1


class Sandbox:
    def __init__(self, config: SevdeskConfig) -> None:
        self.config = config
        self.clock = Clock(DEFAULT_ANCHOR)
        self.stats = SevStats()
        self.limiter = RateLimiter(config.rate_limit, config.burst)
        self.faults = {name: FaultInjector(config.faults, config.fault_seed, name) for name in config.tenants}
        self.churn = Churn(config.churn, config.seed, ACTIONS, step, (SevError,))
        self._latency_rng = random.Random(f"latency:{config.seed}")
        self.tenants: dict[str, TenantStore] = {}
        self.dirty = False
        self.seed_all()

    def seed_all(self, states: dict | None = None) -> None:
        self.tenants = {}
        for name, key in self.config.tenants.items():
            data = (states or {}).get(name) or seed_tenant(
                self.config.seed, name, self.config.counts, DEFAULT_ANCHOR
            )
            self.tenants[name] = TenantStore(name, key, data, self.clock)
        self.by_key = {t.api_key: t for t in self.tenants.values()}

    def reset(self) -> None:
        self.clock = Clock(DEFAULT_ANCHOR)
        self.seed_all()
        self.dirty = True

    def changed(self) -> None:
        self.dirty = True

    # ---- /api/v1 ---------------------------------------------------------------------------------
    def _tenant(self, request: Request) -> TenantStore | None:
        """The raw token in `Authorization` (no Bearer prefix); the legacy `?token=` still works."""
        token = request.headers.get("authorization", "").strip() or request.query_params.get("token", "")
        return self.by_key.get(token)

    async def handle(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        method, path = request.method, request.url.path
        tenant = self._tenant(request)
        if tenant is None:
            self.stats.record(UNAUTHORIZED, method, path, 401)
            await api.error_body(SevError(401, "Authentication required"))(scope, receive, send)
            return
        bucket = self.limiter.bucket(tenant.api_key)
        if bucket is not None and not bucket.try_acquire():
            await self._send(scope, receive, send, tenant, self._too_many(bucket))
            return
        if self.config.latency_ms > 0:
            jitter = self.config.latency_jitter
            await asyncio.sleep(
                self.config.latency_ms / 1000 * self._latency_rng.uniform(1 - jitter, 1 + jitter)
            )
        fault = self.faults[tenant.name].draw()
        if fault in NOT_PERFORMED:
            if fault == "reset":
                self.stats.record(tenant.name, method, path, "reset")  # type: ignore[arg-type]
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")],
                    }
                )
                return  # uvicorn closes the connection mid-response
            response = (
                self._too_many(bucket)
                if fault == "429"
                else api.error_body(
                    SevError(int(fault), "Internal server error" if fault == "500" else "Service unavailable")
                )
            )
            await self._send(scope, receive, send, tenant, response)
            return
        response = await self.dispatch(request, tenant)
        if fault == "504":
            response = Response("<html><body>504 Gateway Time-out</body></html>", 504, media_type="text/html")
        elif fault == "slow":
            await asyncio.sleep(self.config.slow_seconds)
        elif fault == "malformed":
            body = bytes(response.body or b'{"objects":[]}')
            response = Response(
                body[: max(1, len(body) // 2)], response.status_code, media_type="application/json"
            )
        await self._send(scope, receive, send, tenant, response)

    def _too_many(self, bucket) -> Response:
        headers = (
            {"Retry-After": str(bucket.retry_after() if bucket else 1)} if self.config.retry_after else None
        )
        body = api.error_body(SevError(429, "Too many requests"))
        return JSONResponse(json.loads(body.body), status_code=429, headers=headers)

    async def _send(self, scope, receive, send, tenant: TenantStore, response: Response) -> None:
        self.stats.record(tenant.name, scope["method"], scope["path"], response.status_code)
        await response(scope, receive, send)

    async def dispatch(self, request: Request, tenant: TenantStore) -> Response:
        found = api.match(request.method, request.url.path)
        if found is None:
            return api.error_body(SevError(404, f"Not found: {request.method} {request.url.path}"))
        handler, params = found
        try:
            body = await _body(request)
            return handler(
                api.Req(
                    request.method, request.url.path, dict(request.query_params), body, tenant, self, params
                )
            )
        except SevError as exc:
            return api.error_body(exc)


async def _body(request: Request):
    """JSON, or form-urlencoded with bracket keys (`category[id]=3`) as nested objects (reference §1.3)."""
    raw = await request.body()
    if not raw:
        return None
    ctype = request.headers.get("content-type", "")
    if "x-www-form-urlencoded" in ctype:
        out: dict = {}
        for key, value in parse_qsl(raw.decode(), keep_blank_values=True):
            parts = re.findall(r"[^\[\]]+", key)
            node = out
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
        return out
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise SevError(400, "Malformed JSON body") from None


def build_operator_app(sb: Sandbox) -> Starlette:
    def tenant_or_404(request: Request) -> tuple[TenantStore | None, JSONResponse | None]:
        t = sb.tenants.get(request.path_params["name"])
        if t is None:
            return None, JSONResponse({"error": f"unknown tenant '{request.path_params['name']}'"}, 404)
        return t, None

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "system": "sevdesk"})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse(sb.stats.snapshot())

    async def stats_reset(request: Request) -> JSONResponse:
        sb.stats.reset()
        return JSONResponse({"status": "ok"})

    async def export(request: Request) -> JSONResponse:
        t, err = tenant_or_404(request)
        return err or JSONResponse(t.export())

    async def do_edit(request: Request) -> JSONResponse:
        t, err = tenant_or_404(request)
        if err:
            return err
        try:
            body = json.loads(await request.body())
            rec = edit(sb, t, body["resource"], str(body["id"]), body.get("changes"), body.get("action"))
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad edit request: {exc}"}, 400)
        except SevError as exc:
            return JSONResponse({"error": exc.message, "code": exc.code}, exc.status)
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
                if moment.tzinfo is None or moment < sb.clock.now():
                    raise ValueError("'now' needs a UTC offset and time never runs backwards")
            except (ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": f"bad clock request: {exc}"}, 400)
            sb.clock.advance_to(moment)
        return JSONResponse({"now": sb.clock.now().isoformat()})

    async def reset(request: Request) -> JSONResponse:
        sb.reset()
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        tasks = [asyncio.create_task(sb.churn.run(sb))]
        if sb.config.state_file:
            tasks.append(asyncio.create_task(state.autosave(sb, sb.config.state_file)))  # type: ignore[arg-type]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            if sb.config.state_file:
                state.save(sb, sb.config.state_file)  # type: ignore[arg-type]

    return Starlette(
        routes=[
            Route("/_sandbox/health", health),
            Route("/_sandbox/stats", stats),
            Route("/_sandbox/stats/reset", stats_reset, methods=["POST"]),
            Route("/_sandbox/tenants/{name}/export", export),
            Route("/_sandbox/tenants/{name}/edit", do_edit, methods=["POST"]),
            Route("/_sandbox/churn", churn, methods=["GET", "POST"]),
            Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
            Route("/_sandbox/reset", reset, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def build_asgi(sb: Sandbox, operator_app):
    async def app(scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/api/v1"):
            await sb.handle(scope, receive, send)
        else:
            await operator_app(scope, receive, send)

    return app

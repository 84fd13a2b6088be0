"""The sevDesk emulator: tenants, the /api/v1 gateway (token auth, optional rate limit, faults, latency)
and the operator API under /_sandbox/. Clock, faults, rate limiter, churn loop and --state persistence
are the Lexware sandbox's shared pieces."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from sandbox.churn import Churn
from sandbox.clock import DEFAULT_ANCHOR, Clock
from sandbox.faults import FaultInjector
from sandbox.gateway import Gateway
from sandbox.operator_api import common_routes, lifespan
from sandbox.ratelimit import RateLimiter
from sandbox.stats import Stats

from . import api
from .books import SevError
from .operations import ACTIONS, edit, step
from .seed import SIZES, Counts, seed_tenant
from .store import TenantStore


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


class Sandbox(Gateway):
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

    # ---- /api/v1 (sandbox/gateway.py) -----------------------------------------------------------
    EMPTY_BODY = b'{"objects":[]}'

    def authenticate(self, request: Request) -> TenantStore | None:
        """The raw token in `Authorization` (no Bearer prefix); the legacy `?token=` still works."""
        token = request.headers.get("authorization", "").strip() or request.query_params.get("token", "")
        return self.by_key.get(token)

    def unauthorized(self) -> Response:
        return api.error_body(SevError(401, "Authentication required"))

    def too_many_body(self) -> dict:
        body: dict = json.loads(api.error_body(SevError(429, "Too many requests")).body)
        return body

    def failed(self, status: int) -> Response:
        return api.error_body(
            SevError(status, "Internal server error" if status == 500 else "Service unavailable")
        )

    def timed_out(self) -> Response:
        return Response("<html><body>504 Gateway Time-out</body></html>", 504, media_type="text/html")

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
    """The operator API: the common routes of every emulator (sandbox/operator_api.py)."""

    def do_edit(t: TenantStore, body: dict) -> dict | None:
        return edit(sb, t, body["resource"], str(body["id"]), body.get("changes"), body.get("action"))

    routes = common_routes(
        sb,
        system="sevdesk",
        edit=do_edit,
        refused=(SevError,),
        error_body=lambda exc: ({"error": exc.message, "code": exc.code}, exc.status),
        fmt_time=datetime.isoformat,
    )
    return Starlette(routes=routes, lifespan=lifespan(sb))


def build_asgi(sb: Sandbox, operator_app):
    async def app(scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/api/v1"):
            await sb.handle(scope, receive, send)
        else:
            await operator_app(scope, receive, send)

    return app

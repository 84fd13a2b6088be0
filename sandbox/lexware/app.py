"""The sandbox application: tenants, the /v1 gateway pipeline (auth, rate limit, faults, plan) and routes."""

from __future__ import annotations

import asyncio
import random
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.churn import Churn
from sandbox.faults import NOT_PERFORMED, FaultInjector
from sandbox.ratelimit import RateLimiter
from sandbox.stats import Stats

from . import churn as churn_actions
from . import (  # noqa: F401  (route modules register themselves)
    routes_articles,
    routes_contacts,
    routes_events,
    routes_misc,
    routes_sales,
    routes_voucherlist,
    routes_vouchers,
)
from .config import SandboxConfig
from .errors import CLOCK, ApiError, denial, gateway, regular
from .operations import EVENT_PREFIX
from .routing import PARTNER_ONLY, Ctx, match
from .seed import seed_tenant
from .store import TenantStore
from .util import DEFAULT_ANCHOR, Clock
from .webhooks import Webhooks

UNAUTHORIZED = "_unauthorized"


class Sandbox:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock = Clock(DEFAULT_ANCHOR)
        self.denied = {spec.name: spec.denied for spec in config.tenants}  # --deny, per tenant
        self.stats = Stats()
        self.limiter = RateLimiter(config.rate_limit, config.burst)
        self.faults = {
            t.name: FaultInjector(config.faults_for(t), config.fault_seed, t.name) for t in config.tenants
        }
        self.webhooks = Webhooks(config)
        self.churn = Churn(
            config.churn, config.seed, churn_actions.ACTIONS, churn_actions.step, churn_actions.SKIPPED
        )
        self._latency_rng = random.Random(f"latency:{config.seed}")
        self.tenants: dict[str, TenantStore] = {}
        self.dirty = False
        self.seed_all()

    # ---- tenants ---------------------------------------------------------------------------------
    def seed_all(self, states: dict | None = None) -> None:
        self.tenants = {}
        for spec in self.config.tenants:
            data = (states or {}).get(spec.name) or seed_tenant(
                self.config.seed, spec.name, self.config.counts_for(spec), DEFAULT_ANCHOR
            )
            self.tenants[spec.name] = TenantStore(spec.name, spec.api_key, spec.plan, data, self.clock)
        self.by_key = {t.api_key: t for t in self.tenants.values()}

    def reset(self) -> None:
        self.seed_all()
        self.clock = Clock(DEFAULT_ANCHOR)
        for t in self.tenants.values():
            t.clock = self.clock
        self.dirty = True

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def changed(
        self,
        t: TenantStore,
        kind: str,
        rec_id: str,
        event: str | None,
        *,
        status_changed: bool = False,
        payment: bool = False,
    ) -> None:
        """Re-index a changed record and fire its webhooks."""
        t.changed(rec_id)
        self.dirty = True
        now = self.clock.now()
        events = [event] if event else []
        if status_changed and kind != "contacts":
            events.append(f"{EVENT_PREFIX[kind]}.status.changed")
        if payment:
            events.append("payment.changed")
        for ev in events:
            self.webhooks.emit(t, ev, rec_id, now)

    def after_ocr(self, t: TenantStore, voucher_id: str) -> None:
        """An uploaded file's blank voucher becomes `unchecked` after (simulated) OCR."""

        def finish() -> None:
            rec = t.vouchers.get(voucher_id)
            if rec is not None and rec["voucherStatus"] == "blank":
                rec["voucherStatus"] = "unchecked"
                t.touch(rec)
                self.changed(t, "vouchers", voucher_id, "voucher.created")

        asyncio.get_running_loop().call_later(self.config.ocr_seconds, finish)

    # ---- /v1 pipeline ----------------------------------------------------------------------------
    async def handle(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        CLOCK.set(self.clock.now)  # error bodies' `timestamp` in sandbox time
        method, path = request.method, request.url.path
        auth = request.headers.get("authorization", "")
        tenant = self.by_key.get(auth[7:].strip()) if auth[:7].lower() == "bearer " else None
        if tenant is None:
            self.stats.record(UNAUTHORIZED, method, path, 401)
            await gateway(401, "Unauthorized")(scope, receive, send)
            return
        bucket = self.limiter.bucket(tenant.api_key)
        if bucket is not None and not bucket.try_acquire():
            await self._send(scope, receive, send, tenant, self._too_many(bucket))
            return
        if self.config.latency_ms > 0:
            jitter = self.config.latency_jitter
            factor = self._latency_rng.uniform(1 - jitter, 1 + jitter)
            await asyncio.sleep(self.config.latency_ms / 1000 * factor)
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
            response = self._too_many(bucket) if fault == "429" else gateway(int(fault), None)
            await self._send(scope, receive, send, tenant, response)
            return
        response = await self.dispatch(request, tenant)
        if fault == "504":
            response = gateway(504, "Endpoint request timed out")
        elif fault == "slow":
            await asyncio.sleep(self.config.slow_seconds)
        elif fault == "malformed":
            body = response.body or b'{"content":[]}'
            response = Response(
                body[: max(1, len(body) // 2)],
                status_code=response.status_code,
                media_type="application/json",
            )
        await self._send(scope, receive, send, tenant, response)

    def _too_many(self, bucket) -> JSONResponse:
        headers = (
            {"Retry-After": str(bucket.retry_after() if bucket else 1)} if self.config.retry_after else None
        )
        return JSONResponse({"message": "Too Many Requests"}, status_code=429, headers=headers)

    async def _send(self, scope, receive, send, tenant: TenantStore, response: Response) -> None:
        self.stats.record(tenant.name, scope["method"], scope["path"], response.status_code)
        await response(scope, receive, send)

    async def dispatch(self, request: Request, tenant: TenantStore) -> Response:
        path = request.url.path
        if tenant.plan == "none" or (tenant.plan != "partner" and path.startswith(PARTNER_ONLY)):
            return gateway(403, "Forbidden")
        for prefix, status in self.denied[tenant.name]:  # --deny: one endpoint outside this key's reach
            if path == prefix or path.startswith(prefix + "/"):
                return denial(status, path)
        found = match(request.method, path)
        if found is None:
            return regular(404, path, "No handler found for " + request.method + " " + path)
        if found == "method":
            return regular(self.config.unknown_method_status, path, "Request method not supported")
        handler, params, legacy_errors = found
        accept = request.headers.get("accept", "*/*")
        if "/file" not in path and not any(a in accept for a in ("*/*", "application/json", "application/*")):
            return regular(406, path, "Could not find acceptable representation")
        try:
            return await handler(Ctx(request, tenant, params, self, legacy_errors))
        except ApiError as exc:
            return exc.response

    async def close(self) -> None:
        await self.webhooks.close()


def build_asgi(sb: Sandbox, operator_app):
    """Route /v1 through the gateway pipeline, everything else (and lifespan) to the operator app."""

    async def app(scope, receive, send):
        if scope["type"] == "http" and (scope["path"] == "/v1" or scope["path"].startswith("/v1/")):
            await sb.handle(scope, receive, send)
        else:
            await operator_app(scope, receive, send)

    return app

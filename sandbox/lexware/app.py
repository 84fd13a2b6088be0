"""The sandbox application: tenants, the /v1 gateway pipeline (auth, rate limit, faults, plan) and routes."""

from __future__ import annotations

import asyncio
import random
import uuid

from starlette.requests import Request
from starlette.responses import Response

from sandbox.churn import Churn
from sandbox.faults import FaultInjector
from sandbox.gateway import Gateway
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


class Sandbox(Gateway):
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

    # ---- /v1 pipeline (sandbox/gateway.py) -------------------------------------------------------
    EMPTY_BODY = b'{"content":[]}'

    def authenticate(self, request: Request) -> TenantStore | None:
        CLOCK.set(self.clock.now)  # error bodies' `timestamp` in sandbox time
        auth = request.headers.get("authorization", "")
        return self.by_key.get(auth[7:].strip()) if auth[:7].lower() == "bearer " else None

    def unauthorized(self) -> Response:
        return gateway(401, "Unauthorized")

    def too_many_body(self) -> dict:
        return {"message": "Too Many Requests"}

    def failed(self, status: int) -> Response:
        return gateway(status, None)

    def timed_out(self) -> Response:
        return gateway(504, "Endpoint request timed out")

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

"""The request pipeline every emulator puts in front of its API: authenticate, rate limit, latency,
faults (drawn per tenant; some replace the request, some the response), dispatch, count. Each emulator
subclasses `Gateway` with its own authentication, error bodies and routes."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.faults import NOT_PERFORMED, FaultInjector
from sandbox.ratelimit import RateLimiter
from sandbox.stats import Stats

UNAUTHORIZED = "_unauthorized"  # the stats bucket of requests without a known key


class Gateway:
    """`handle` is the ASGI entry for the API paths; subclasses fill in the hooks below."""

    config: Any  # latency_ms, latency_jitter, slow_seconds, retry_after, seed
    stats: Stats
    limiter: RateLimiter
    faults: dict[str, FaultInjector]
    by_key: dict[str, Any]
    _latency_rng: random.Random
    EMPTY_BODY = b"{}"  # what a 'malformed' fault truncates when the response has no body

    # ---- hooks -----------------------------------------------------------------------------------
    def authenticate(self, request: Request) -> Any | None:
        """The tenant whose key the request carries, or None."""
        raise NotImplementedError

    def unauthorized(self) -> Response:
        raise NotImplementedError

    def too_many_body(self) -> dict:
        raise NotImplementedError

    def failed(self, status: int) -> Response:
        """The answer to a 500/502/503 fault (the request was not performed)."""
        raise NotImplementedError

    def timed_out(self) -> Response:
        """The answer to a 504 fault (the request was performed)."""
        raise NotImplementedError

    async def dispatch(self, request: Request, tenant: Any) -> Response:
        raise NotImplementedError

    # ---- the pipeline ----------------------------------------------------------------------------
    async def handle(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        method, path = request.method, request.url.path
        tenant = self.authenticate(request)
        if tenant is None:
            self.stats.record(UNAUTHORIZED, method, path, 401)
            await self.unauthorized()(scope, receive, send)
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
            response = self._too_many(bucket) if fault == "429" else self.failed(int(fault))
            await self._send(scope, receive, send, tenant, response)
            return
        response = await self.dispatch(request, tenant)
        if fault == "504":
            response = self.timed_out()
        elif fault == "slow":
            await asyncio.sleep(self.config.slow_seconds)
        elif fault == "malformed":
            body = bytes(response.body or self.EMPTY_BODY)
            response = Response(
                body[: max(1, len(body) // 2)],
                status_code=response.status_code,
                media_type="application/json",
            )
        await self._send(scope, receive, send, tenant, response)

    def _too_many(self, bucket) -> Response:
        headers = (
            {"Retry-After": str(bucket.retry_after() if bucket else 1)} if self.config.retry_after else None
        )
        return JSONResponse(self.too_many_body(), status_code=429, headers=headers)

    async def _send(self, scope, receive, send, tenant: Any, response: Response) -> None:
        self.stats.record(tenant.name, scope["method"], scope["path"], response.status_code)
        await response(scope, receive, send)

"""Signed webhook delivery (reference §4.13): compact JSON body, X-Lxo-Signature = base64 RSA-SHA512."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import TYPE_CHECKING

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .util import fmt_dt

if TYPE_CHECKING:
    from .config import SandboxConfig
    from .store import TenantStore

SUCCESS = {200, 201, 202, 204}
MAX_LOG = 2000


class Webhooks:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key_pem = (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        self.deliveries: list[dict] = []
        self._tasks: set[asyncio.Task] = set()
        self._client: httpx.AsyncClient | None = None

    def sign(self, body: bytes) -> str:
        return base64.b64encode(self._key.sign(body, padding.PKCS1v15(), hashes.SHA512())).decode()

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.config.webhook_timeout, follow_redirects=True, max_redirects=3
            )
        return self._client

    async def head_check(self, url: str) -> bool:
        """The real API probes the callback URL with HEAD; any HTTP answer counts as reachable."""
        if not self.config.webhook_head_check:
            return True
        try:
            await self.client().head(url)
            return True
        except httpx.HTTPError:
            return False

    def emit(self, tenant: TenantStore, event_type: str, resource_id: str, now) -> None:
        for sub in list(tenant.subscriptions.values()):
            if sub["eventType"] != event_type:
                continue
            payload = {
                "organizationId": tenant.organization_id,
                "eventType": event_type,
                "resourceId": resource_id,
                "eventDate": fmt_dt(now),
            }
            body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
            task = asyncio.get_running_loop().create_task(self._deliver(tenant, sub, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, tenant: TenantStore, sub: dict, body: bytes) -> None:
        headers = {"Content-Type": "application/json", "X-Lxo-Signature": self.sign(body)}
        delays = [0.0, *self.config.webhook_retry_seconds]
        unreachable = False
        for attempt, delay in enumerate(delays):
            if delay:
                await asyncio.sleep(delay)
            if sub["subscriptionId"] not in tenant.subscriptions:
                return
            try:
                resp = await self.client().post(sub["callbackUrl"], content=body, headers=headers)
                status: int | str = resp.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
                unreachable = isinstance(exc, httpx.ConnectError)  # DNS failure / refused, not a timeout
            self._log(tenant, sub, body, attempt, status)
            if status in SUCCESS:
                return
            if status == 410:
                tenant.subscriptions.pop(sub["subscriptionId"], None)
                return
            if isinstance(status, int) and 400 <= status < 500 and status not in (401, 403, 404, 429):
                return
        if status == 404 or unreachable:  # persistent 404 / DNS failure -> deleted (a timeout is not)
            tenant.subscriptions.pop(sub["subscriptionId"], None)

    def _log(self, tenant: TenantStore, sub: dict, body: bytes, attempt: int, status: int | str) -> None:
        self.deliveries.append(
            {
                "tenant": tenant.name,
                "subscriptionId": sub["subscriptionId"],
                "callbackUrl": sub["callbackUrl"],
                "attempt": attempt,
                "status": status,
                "body": body.decode(),
            }
        )
        del self.deliveries[:-MAX_LOG]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

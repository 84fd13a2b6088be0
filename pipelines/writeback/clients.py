"""One Lexware client per tenant for a write-back run, each checked against the tenant's binding.

The first use of a tenant reads `GET /v1/profile`: a key answering for another organisation than the
tenant is bound to raises `TenantBindingError` (remembered, so the tenant costs that one request per
run) and none of that tenant's corrections is read or written. A sevDesk tenant (`system: sevdesk`)
gets a `SevdeskClient` (sevDesk has no profile binding to check).
"""

from __future__ import annotations

from typing import Any

from core.config import KontorConfig
from pipelines.lexware import binding
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import TenantBindingError
from pipelines.sevdesk.client import SevdeskClient


class TenantClients:
    """`clients(name)` -> the tenant's bound client; use as a context manager (closes them all)."""

    def __init__(self, config: KontorConfig) -> None:
        self.config = config
        self._clients: dict[str, LexwareClient] = {}
        self._refused: dict[str, TenantBindingError] = {}

    def __call__(self, name: str) -> LexwareClient:
        if name in self._refused:
            raise self._refused[name]
        if name not in self._clients and self.config.tenant(name).system == "sevdesk":
            self._clients[name] = SevdeskClient(self.config.tenant(name))
        if name not in self._clients:
            client = LexwareClient(self.config.tenant(name))
            try:
                binding.check(self.config, self.config.tenant(name), client)
            except TenantBindingError as exc:
                self._refused[name] = exc
                client.close()
                raise
            except BaseException:
                client.close()
                raise
            self._clients[name] = client
        return self._clients[name]

    @property
    def systems(self) -> dict[str, str]:
        """tenant -> source system, for the executor to pick each tenant's write-back strategy."""
        return {t.name: t.system for t in self.config.tenants}

    @property
    def stats(self) -> list[dict[str, Any]]:
        return [c.stats.as_dict() for c in self._clients.values()]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    def __enter__(self) -> TenantClients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

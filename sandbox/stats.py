"""Request counters per tenant (API key), by status and by normalised endpoint."""

from __future__ import annotations

from collections import Counter

_SUBROUTES = {"files", "file", "document"}


def normalise(method: str, path: str) -> str:
    """`GET /v1/invoices/0c6f...` -> `GET /v1/invoices/{id}`."""
    parts = path.rstrip("/").split("/")
    for i in range(3, len(parts)):
        if parts[i] not in _SUBROUTES:
            parts[i] = "{id}"
    return f"{method} {'/'.join(parts)}"


class Stats:
    def __init__(self) -> None:
        self._data: dict[str, dict] = {}

    def record(self, tenant: str, method: str, path: str, status: int) -> None:
        entry = self._data.setdefault(tenant, {"requests": 0, "status": Counter(), "by_endpoint": Counter()})
        entry["requests"] += 1
        entry["status"][str(status)] += 1
        entry["by_endpoint"][normalise(method, path)] += 1

    def snapshot(self) -> dict:
        return {
            "tenants": {
                name: {
                    "requests": e["requests"],
                    "status": dict(e["status"]),
                    "by_endpoint": dict(e["by_endpoint"]),
                }
                for name, e in self._data.items()
            }
        }

    def reset(self) -> None:
        self._data.clear()

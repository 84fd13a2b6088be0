"""Helpers of the sevDesk source: row shape, timestamps, complete offset listings, fingerprints."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pipelines.sevdesk import settings
from pipelines.sevdesk.client import SevdeskClient

log = logging.getLogger(__name__)


def row(tenant: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A raw-layer row: the payload's fields for dlt to flatten, plus the contract columns (`tenant_id`,
    `source_system`, `id`, `version` = null (sevDesk has none), `raw` = the payload exactly, `is_deleted`)."""
    return {
        **payload,
        "tenant_id": tenant,
        "source_system": settings.SOURCE_SYSTEM,
        "id": str(payload["id"]),
        "version": None,
        "raw": payload,
        "is_deleted": False,
    }


def parse_ts(value: str) -> datetime:
    """sevDesk's `2026-09-28T20:17:21+02:00` as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def fingerprint(payload: Any) -> str:
    """A short digest of the whole payload: a full scan emits a row only when it differs from the last run
    (catches every change, with or without a moved `update`)."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


def complete_listing(
    client: SevdeskClient, path: str, query: dict[str, Any]
) -> Iterator[list[dict[str, Any]]]:
    """Yield the pages of a list (as lists of rows not yet yielded), complete even if it changes meanwhile.

    Offset paging over a list that changes while it is read can skip a row (a deletion on an earlier page
    shifts the rest up). A pass is complete when every page reported the same `total` and the pass
    returned that many distinct rows; otherwise the list is read again (rows already yielded are not
    repeated). Counting rows across passes is not enough: a row deleted after it was read still counts,
    and hides the row its deletion pushed onto an earlier page. Vanished rows are confirmed one by one
    later (deletes.py).
    """
    seen: set[str] = set()
    for _ in range(settings.RELIST_ATTEMPTS):
        listed: set[str] = set()
        totals: set[int] = set()
        for rows, count in client.pages(path, query):
            listed.update(str(r["id"]) for r in rows)
            if count is not None:  # without `total`, a pass is taken as complete
                totals.add(count)
            fresh = [r for r in rows if str(r["id"]) not in seen]
            seen.update(str(r["id"]) for r in fresh)
            if fresh:
                yield fresh
        total = max(totals, default=len(listed))
        if len(totals) <= 1 and len(listed) >= total:
            return
        log.info(
            "tenant %s: %s changed while paging (%d of %d rows); listing again",
            client.name,
            path,
            len(listed),
            total,
        )

"""Helpers of the Lexware source: row shape, Berlin days, complete listings, run report (slicing.py
splits listings that reach the search window)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.lexware import settings
from pipelines.lexware.client import LexwareClient

log = logging.getLogger(__name__)
BERLIN = ZoneInfo(settings.BERLIN)


def row(tenant: str, payload: dict[str, Any], id_: str | None = None, **extra: Any) -> dict[str, Any]:
    """A raw-layer row: the payload's fields for dlt to flatten, plus the contract columns
    (`tenant_id`, `source_system`, `id`, `version`, `raw` = the payload exactly, `is_deleted`)."""
    return {
        **payload,
        **extra,
        "tenant_id": tenant,
        "source_system": settings.SOURCE_SYSTEM,
        "id": id_ or payload["id"],
        "version": payload.get("version"),
        "raw": payload,
        "is_deleted": False,
    }


def unpaid_payments(entry: dict[str, Any], sepadebit: set[str] | None = None) -> dict[str, Any] | None:
    """The `/v1/payments` answer a voucherlist entry already tells, or None when only the call can tell.

    Told only for an open document with `openAmount` equal to `totalAmount` (> 0): nothing was paid, so
    the answer is the open total, the type's open status and no payment items. `overdue` stands for
    `open` or `sepadebit` past the due date (and the answer names which): it counts as open when
    `sepadebit` (the ids listed with that status) is given and lacks it. Every other entry keeps its
    call: a part payment, cash discount or credit-note offset lowers `openAmount`; `paid`, `paidoff`,
    `voided`, `transferred`, `sepadebit` carry items or a `paidDate` the list does not show.
    """
    status = entry.get("voucherStatus")
    if status == "overdue" and sepadebit is not None and entry.get("id") not in sepadebit:
        status = "open"
    side = settings.OPEN_PAYMENT_STATUS.get(entry.get("voucherType", ""))
    if status != "open" or side is None or not entry.get("currency"):
        return None
    try:
        total, open_amount = Decimal(str(entry["totalAmount"])), Decimal(str(entry["openAmount"]))
    except (KeyError, InvalidOperation):
        return None
    if total <= 0 or open_amount != total:
        return None
    return {
        "openAmount": entry["openAmount"],
        "currency": entry["currency"],
        "paymentStatus": side,
        "voucherType": entry["voucherType"],
        "voucherStatus": "open",
        "paymentItems": [],
    }


def parse_ts(value: str) -> datetime:
    """Lexware's `yyyy-MM-ddTHH:mm:ss.SSSXXX` as an aware datetime (comparable across DST offsets)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def berlin_day(value: datetime) -> date:
    return value.astimezone(BERLIN).date()


def calendar_day(value: str) -> str:
    """The Berlin calendar day (yyyy-MM-dd) of a Lexware date or dateTime in any offset; a text that is
    neither is returned unchanged (so it compares unequal to any day)."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return berlin_day(parse_ts(value)).isoformat()
    except ValueError:
        return value


def berlin_today() -> date:
    return datetime.now(BERLIN).date()


def backfill_window(
    mode: str, start: str | date | None, end: str | date | None
) -> tuple[date | None, date | None]:
    """Check a run's voucher-date window: a backfill needs both dates (yyyy-MM-dd, first <= last), other
    modes none. Raises ValueError with a message meant for the operator."""
    if mode != "backfill":
        if start or end:
            raise ValueError(f"voucher dates are for a backfill only, not for mode '{mode}'")
        return None, None
    if not (start and end):
        raise ValueError("a backfill needs both voucher dates: from and to (yyyy-MM-dd)")
    days = []
    for name, value in (("from", start), ("to", end)):
        try:
            days.append(value if isinstance(value, date) else date.fromisoformat(value))
        except ValueError:
            raise ValueError(f"backfill date '{name}' is not a date in yyyy-MM-dd: {value!r}") from None
    if days[0] > days[1]:
        raise ValueError(f"backfill window is empty: from {days[0]} is after to {days[1]}")
    return days[0], days[1]


def complete_listing(
    client: LexwareClient,
    path: str,
    query: dict[str, Any],
    first: dict[str, Any] | None = None,
    seen: set[str] | None = None,
    listed: set[str] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield the pages of a list (as lists of items not in `seen`), complete even if the list changes
    meanwhile. `listed` collects the ids this listing returned, `seen` every id yielded so far (shared
    by the disjoint slices of one listing, so a row that moved between slices is yielded once).

    Page-number paging over a list that changes while it is read can skip a row (a row on an earlier
    page moves, the rest shift up): if fewer distinct rows arrived than the last page reports, the
    list is read again (rows already yielded are not repeated). `first`: page 0, already fetched.
    """
    seen = set() if seen is None else seen
    listed = set() if listed is None else listed
    for _ in range(settings.RELIST_ATTEMPTS):
        total = 0
        pages = client.pages(path, query, start_page=1 if first else 0)
        for page in itertools.chain([first] if first else [], pages):
            total = page.get("totalElements") or 0
            listed.update(e["id"] for e in page["content"])
            fresh = [e for e in page["content"] if e["id"] not in seen]
            seen.update(e["id"] for e in fresh)
            if fresh:
                yield fresh
            if page.get("last", True):
                break
        if len(listed) >= min(total, settings.SEARCH_WINDOW):
            return
        log.info(
            "tenant %s: %s changed while paging (%d of %d rows); listing again",
            client.name,
            path,
            len(listed),
            total,
        )
        first = None


@dataclass
class RunReport:
    """What one extraction saw, beyond the rows: used for deletes, metadata and logs."""

    tenant: str
    complete_scans: dict[str, set[str]] = field(default_factory=dict)  # table -> every id at the source
    not_in_plan: dict[str, str] = field(default_factory=dict)  # table -> reason
    skipped_details: dict[str, int] = field(default_factory=dict)  # table -> 404/406 detail calls
    # table -> slices still at the search window when no filter could split them further: rows beyond
    # their first 10,000 were not reachable (how many, the API does not say: totalElements is capped)
    incomplete: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    event_deletions: dict[str, list[str]] = field(default_factory=dict)  # table -> ids an event run saw 404

    def skip(self, table: str, reason: str) -> None:
        log.warning("tenant %s: %s skipped - %s", self.tenant, table, reason)
        self.not_in_plan[table] = reason

    def window_exceeded(self, table: str, filters: dict[str, Any], listed: int) -> None:
        log.error(
            "tenant %s: %s cannot be listed completely: %s holds %d rows or more and no filter "
            "splits it further; %d listed, the rest is beyond the search window",
            self.tenant,
            table,
            filters,
            settings.SEARCH_WINDOW,
            listed,
        )
        self.incomplete.setdefault(table, []).append(
            {
                "filters": filters,
                "listed": listed,
                "reported_total": settings.SEARCH_WINDOW,
                "unreachable": f"every row beyond the first {settings.SEARCH_WINDOW} (count unknown: "
                "totalElements is capped at the window)",
            }
        )

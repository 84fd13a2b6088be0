"""Listings that stay complete beyond the 10,000-row search window (reference §3.1).

A filter combination returns at most `SEARCH_WINDOW` rows and reports `totalElements` capped there.
`sliced_pages` reads a query's first page; if it reports fewer rows, the query is read as it is (the
first page is the only request beyond the plain listing). Otherwise the query is split into disjoint
filter combinations whose union is exactly the query's rows, along the first dimension that can still
be split, and each part is handled the same way. Voucherlist dimensions, in order:

1. the query's own date range (`updatedDate` for syncs, `voucherDate` for backfills), halved down to
   single Berlin days (the filters take whole days, both bounds inclusive: [a, m] and [m+1, b]);
2. `voucherType`, then `voucherStatus` (the known values, halved as comma lists; `overdue` is left
   out: it is derived from open/sepadebit, which return those rows);
3. `voucherDate` inside the day (halved between the slice's first and last voucher date; only for
   statuses that always carry one), then `createdDate`, then `updatedDate` (if not the query's own),
   then `archived` true/false.

Contacts (no date fields) split by role: customer only, vendor only, both (every contact has one).

A part that still reports the full window when no dimension is left cannot be proven complete: its
10,000 reachable rows are read and the part is recorded in `RunReport.incomplete`, which keeps the
low-water mark at its day, withholds the deletion scan and fails the run's completeness check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

from pipelines.lexware import settings
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.helpers import RunReport, berlin_day, berlin_today, complete_listing, parse_ts

log = logging.getLogger(__name__)

Splitter = Callable[[LexwareClient, dict[str, Any], dict[str, Any]], list[dict[str, Any]] | None]
VOUCHERLIST = "/v1/voucherlist"
CONTACTS = "/v1/contacts"


def sliced_pages(
    client: LexwareClient,
    path: str,
    query: dict[str, Any],
    splitters: list[Splitter],
    report: RunReport,
    table: str,
    seen: set[str] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield the pages (new rows only) of `query`, split while a part reaches the search window."""
    seen = set() if seen is None else seen
    first = next(client.pages(path, query))
    total = first.get("totalElements") or 0
    if total >= settings.SEARCH_WINDOW:
        for split in splitters:
            parts = split(client, query, first)
            if parts:
                log.info(
                    "tenant %s: %s %s reaches the search window (%d rows); slicing into %d",
                    client.name,
                    path,
                    _filters(query),
                    total,
                    len(parts),
                )
                for part in parts:
                    yield from sliced_pages(client, path, part, splitters, report, table, seen)
                return
    listed: set[str] = set()
    yield from complete_listing(client, path, query, first, seen=seen, listed=listed)
    if total >= settings.SEARCH_WINDOW:
        report.window_exceeded(table, _filters(query), len(listed))


def windowed_pages(
    client: LexwareClient,
    params: dict[str, Any],
    field_prefix: str,
    start: date,
    end: date | None,
    report: RunReport,
) -> Iterator[list[dict[str, Any]]]:
    """Voucherlist pages for `<prefix>DateFrom=start` (and `<prefix>DateTo=end`, inclusive), complete
    whatever the distribution of the rows (see the module doc)."""
    query = {**params, f"{field_prefix}DateFrom": start.isoformat()}
    if end is not None:
        query[f"{field_prefix}DateTo"] = end.isoformat()
    others = [f for f in ("voucher", "created", "updated") if f != field_prefix]
    splitters = [
        halve_dates(field_prefix),
        split_values("voucherType", settings.VOUCHER_TYPES),
        split_values("voucherStatus", settings.SLICE_STATUSES),
        *[halve_dates(f) for f in others],
        split_archived,
    ]
    yield from sliced_pages(client, VOUCHERLIST, query, splitters, report, "voucherlist")


def contact_pages(client: LexwareClient, report: RunReport) -> Iterator[list[dict[str, Any]]]:
    """Every contact page (new rows only), split by role when the list reaches the window."""
    yield from sliced_pages(client, CONTACTS, {}, [split_roles], report, "contacts")


# -- splitters: each returns disjoint queries covering exactly the query's rows, or None ----------------
def halve_dates(prefix: str) -> Splitter:
    """Halve the `<prefix>Date` range of a query: [lo, mid] and [mid+1, hi] (whole Berlin days)."""
    lo_key, hi_key = f"{prefix}DateFrom", f"{prefix}DateTo"

    def split(
        client: LexwareClient, query: dict[str, Any], first: dict[str, Any]
    ) -> list[dict[str, Any]] | None:
        if prefix == "voucher" and not ({lo_key, hi_key} & query.keys() or _always_dated(query)):
            return None  # rows without a voucher date would fall out of every voucher-date range
        lo = _day(query.get(lo_key)) or _lowest(prefix, query, first)
        hi = _day(query.get(hi_key)) or _highest(client, prefix, query)
        if lo is None or hi is None or lo >= hi:
            return None
        mid = lo + (hi - lo) // 2
        lower = {**query, hi_key: mid.isoformat()}
        upper = {**query, lo_key: (mid + timedelta(days=1)).isoformat()}
        if prefix == "voucher":  # bounds read from the rows themselves: the parts need not ask again
            lower[lo_key], upper[hi_key] = lo.isoformat(), hi.isoformat()
        return [lower, upper]

    return split


def split_values(name: str, values: tuple[str, ...]) -> Splitter:
    """Halve a comma-list filter (`any` = every known value)."""

    def split(
        client: LexwareClient, query: dict[str, Any], first: dict[str, Any]
    ) -> list[dict[str, Any]] | None:
        current = values if query.get(name, "any") == "any" else tuple(query[name].split(","))
        if len(current) < 2:
            return None
        half = len(current) // 2
        return [{**query, name: ",".join(current[:half])}, {**query, name: ",".join(current[half:])}]

    return split


def split_archived(
    client: LexwareClient, query: dict[str, Any], first: dict[str, Any]
) -> list[dict[str, Any]] | None:
    if "archived" in query:
        return None
    return [{**query, "archived": "false"}, {**query, "archived": "true"}]


def split_roles(
    client: LexwareClient, query: dict[str, Any], first: dict[str, Any]
) -> list[dict[str, Any]] | None:
    if "customer" in query:
        return None
    return [
        {**query, "customer": "true", "vendor": "false"},
        {**query, "customer": "false", "vendor": "true"},
        {**query, "customer": "true", "vendor": "true"},
    ]


# -- helpers ----------------------------------------------------------------------------------------------
def _always_dated(query: dict[str, Any]) -> bool:
    statuses = query.get("voucherStatus", "any")
    return statuses != "any" and not set(statuses.split(",")) & settings.UNDATED_STATUSES


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _lowest(prefix: str, query: dict[str, Any], first: dict[str, Any]) -> date | None:
    """The lowest possible day: the first row's voucher date when sorted by it, else the floor."""
    if prefix == "voucher":
        if query.get("sort", "").lower() == "voucherdate,asc" and first["content"]:
            value = first["content"][0].get("voucherDate")
            return berlin_day(parse_ts(value)) if value else None
        return settings.DATE_FLOOR
    return settings.DATE_FLOOR


def _highest(client: LexwareClient, prefix: str, query: dict[str, Any]) -> date | None:
    """The highest possible day: the last voucher date (one row sorted descending) or today."""
    if prefix != "voucher":
        return berlin_today()  # only picks the middle: the upper part stays open-ended
    body = client.get(VOUCHERLIST, params={**query, "sort": "voucherDate,DESC", "page": 0, "size": 1})
    content = body.get("content") if isinstance(body, dict) else None
    value = content[0].get("voucherDate") if content else None
    return berlin_day(parse_ts(value)) if value else None


def _filters(query: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in query.items() if k not in ("sort", "page", "size")}

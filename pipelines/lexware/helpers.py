"""Helpers of the Lexware source: row shape, Berlin days, windowed voucherlist paging, run report."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.lexware import settings
from pipelines.lexware.client import LexwareClient

log = logging.getLogger(__name__)
BERLIN = ZoneInfo(settings.BERLIN)


def row(tenant: str, payload: dict, id_: str | None = None, **extra: Any) -> dict:
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


def backfill_window(mode: str, start: str | date | None,
                    end: str | date | None) -> tuple[date | None, date | None]:
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


def complete_listing(client: LexwareClient, path: str, query: dict,
                     first: dict | None = None) -> Iterator[list[dict]]:
    """Yield the pages of a list (as lists of new items), complete even if the list changes meanwhile.

    Page-number paging over a list that changes while it is read can skip a row (a row on an earlier
    page moves, the rest shift up): if fewer distinct rows arrived than the last page reports, the
    list is read again (rows already yielded are not repeated). `first`: page 0, already fetched.
    """
    seen: set[str] = set()
    for _ in range(settings.RELIST_ATTEMPTS):
        total = 0
        pages = client.pages(path, query, start_page=1 if first else 0)
        for page in itertools.chain([first] if first else [], pages):
            total = page.get("totalElements") or 0
            fresh = [e for e in page["content"] if e["id"] not in seen]
            seen.update(e["id"] for e in fresh)
            if fresh:
                yield fresh
            if page.get("last", True):
                break
        if len(seen) >= min(total, settings.SEARCH_WINDOW):
            return
        log.info("tenant %s: %s changed while paging (%d of %d rows); listing again",
                 client.name, path, len(seen), total)
        first = None


def windowed_pages(client: LexwareClient, params: dict, field_prefix: str, start: date,
                   end: date | None = None) -> Iterator[list[dict]]:
    """Yield voucherlist pages for `<prefix>DateFrom=start` (and `<prefix>DateTo=end`, inclusive).

    A filter combination returns at most 10,000 rows: if the first page reports that many, the day
    range is halved and each half listed on its own (the first page's request is the only cost).
    """
    query = {**params, f"{field_prefix}DateFrom": start.isoformat()}
    if end is not None:
        query[f"{field_prefix}DateTo"] = end.isoformat()
    first = next(client.pages("/v1/voucherlist", query))
    total = first.get("totalElements") or 0
    end = end or berlin_today()
    if total >= settings.SEARCH_WINDOW and end > start:
        middle = start + (end - start) // 2
        log.info("tenant %s: %s rows from %s to %s exceed the search window; slicing",
                 client.name, total, start, end)
        yield from windowed_pages(client, params, field_prefix, start, middle)
        yield from windowed_pages(client, params, field_prefix, middle + timedelta(days=1), end)
        return
    yield from complete_listing(client, "/v1/voucherlist", query, first)


@dataclass
class RunReport:
    """What one extraction saw, beyond the rows: used for deletes, metadata and logs."""

    tenant: str
    complete_scans: dict[str, set[str]] = field(default_factory=dict)  # table -> every id at the source
    not_in_plan: dict[str, str] = field(default_factory=dict)  # table -> reason
    skipped_details: dict[str, int] = field(default_factory=dict)  # table -> 404/406 detail calls

    def skip(self, table: str, reason: str) -> None:
        log.warning("tenant %s: %s skipped - %s", self.tenant, table, reason)
        self.not_in_plan[table] = reason

"""List semantics of /api/v1 (reference §3, §4): filters (unknown ones ignored, timestamps only as unix
seconds), limit/offset paging (default 100, silently capped at 1000), `countAll`, and `embed`."""

from __future__ import annotations

import copy
from datetime import datetime

from .store import TenantStore

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
TIME_FILTERS = {"Contact", "Invoice", "Voucher"}  # create/update Before/After, documented per resource
REF_FILTERS = {
    "Contact": {"parent": "parent", "category": "category", "country": None},
    "ContactAddress": {"contact": "contact"},
    "CommunicationWay": {"contact": "contact"},
    "Invoice": {"contact": "contact", "origin": "origin"},
    "InvoicePos": {"invoice": "invoice", "part": "part"},
    "CreditNote": {"contact": "contact", "origin": "origin"},
    "CreditNotePos": {"creditNote": "creditNote"},
    "Voucher": {"contact": "supplier", "costCentre": "costCentre"},
    "VoucherPos": {"voucher": "voucher"},
    "CheckAccountTransaction": {"checkAccount": "checkAccount"},
    "CheckAccountTransactionLog": {"checkAccountTransaction": "checkAccountTransaction"},
}
EXACT_FILTERS = {
    "Contact": ("customerNumber",),
    "Invoice": ("status", "invoiceNumber", "invoiceType", "customerInternalNote"),
    "CreditNote": ("status", "creditNoteNumber", "customerInternalNote"),
    "Voucher": ("status", "creditDebit", "voucherType"),
    "CheckAccountTransaction": ("status",),
    "CommunicationWay": ("type", "main"),
    "Part": ("partNumber",),
    "InvoicePos": ("id",),
}
DATE_FILTERS = {
    "Invoice": "invoiceDate",
    "CreditNote": "creditNoteDate",
    "Voucher": "voucherDate",
    "CheckAccountTransaction": "entryDate",
}
NO_FILTERS = {"AccountDatev"}  # ignores every filter except limit/offset (reference §4)


def _unix(value: str) -> int | None:
    """Timestamp filters work as unix seconds only; other formats silently match nothing (as live)."""
    try:
        return int(value)
    except ValueError:
        return None


def _epoch(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


def _time_filter(rows: list[dict], field: str, bound: str, value: str) -> list[dict]:
    limit = _unix(value)
    if limit is None:
        return []
    if bound == "After":
        return [r for r in rows if (_epoch(r.get(field)) or 0) >= limit]
    return [r for r in rows if (_epoch(r.get(field)) or 0) < limit]


def apply_filters(model: str, rows: list[dict], query: dict[str, str]) -> list[dict]:
    """The filters this resource knows; every other parameter is ignored."""
    if model in NO_FILTERS:
        return rows
    if model in TIME_FILTERS:
        for field in ("create", "update"):
            for bound in ("Before", "After"):
                if f"{field}{bound}" in query:
                    rows = _time_filter(rows, field, bound, query[f"{field}{bound}"])
    for param, field in REF_FILTERS.get(model, {}).items():
        wanted, kind = query.get(f"{param}[id]"), query.get(f"{param}[objectName]")
        if wanted is not None and kind and field:  # both halves are required
            rows = [r for r in rows if (r.get(field) or {}).get("id") == str(wanted)]
    for field in EXACT_FILTERS.get(model, ()):
        if field in query:
            rows = [r for r in rows if str(r.get(field)) == query[field]]
    if model in DATE_FILTERS:
        field = DATE_FILTERS[model]
        if "startDate" in query:
            rows = _time_filter(rows, field, "After", query["startDate"])
        if "endDate" in query:
            end = _unix(query["endDate"])
            rows = [] if end is None else [r for r in rows if (_epoch(r.get(field)) or 0) <= end]
    if model == "Contact":
        if query.get("depth", "0") not in ("1", "true"):
            rows = [r for r in rows if r.get("name")]  # depth=0 (default): organisations only
        if "name" in query:
            needle = query["name"].casefold()
            rows = [
                r
                for r in rows
                if any(needle in (r.get(f) or "").casefold() for f in ("name", "surename", "familyname"))
            ]
    elif model == "Voucher" and "descriptionLike" in query:
        rows = [
            r for r in rows if query["descriptionLike"].casefold() in (r.get("description") or "").casefold()
        ]
    elif model == "CheckAccountTransaction" and query.get("isBooked") == "true":  # isBooked=false: ignored
        rows = [r for r in rows if r["status"] in ("200", "350", "400")]
    elif model == "Part" and "name" in query:
        rows = [r for r in rows if query["name"].casefold() in r["name"].casefold()]
    return rows


def page(rows: list, query: dict[str, str]) -> tuple[list, dict]:
    """(the page, extra envelope keys): limit 1..1000 (default 100, larger silently capped), offset."""
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
    except ValueError:
        limit = DEFAULT_LIMIT
    limit = DEFAULT_LIMIT if limit < 1 else min(limit, MAX_LIMIT)
    try:
        offset = max(0, int(query.get("offset", 0)))
    except ValueError:
        offset = 0
    extra = {"total": str(len(rows))} if query.get("countAll") in ("true", "1") else {}
    return rows[offset : offset + limit], extra


def embed(t: TenantStore, rec: dict, names: str | None) -> dict:
    """Expand references named in `embed` (comma-separated, dotted paths); unknown names are ignored."""
    if not names:
        return rec
    rec = copy.deepcopy(rec)
    for name in filter(None, (n.strip() for n in names.split(","))):
        _expand(t, rec, name.split("."))
    return rec


def _expand(t: TenantStore, rec: dict, path: list[str]) -> None:
    value = rec.get(path[0])
    if not isinstance(value, dict) or "objectName" not in value:
        return
    target = t.tables.get(value["objectName"], {}).get(str(value.get("id")))
    if target is None:
        return
    if len(value) <= 2:  # still a bare reference
        rec[path[0]] = value = copy.deepcopy(target)
    if len(path) > 1:
        _expand(t, value, path[1:])

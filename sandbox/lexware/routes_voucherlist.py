"""/v1/voucherlist: required type/status filters, Berlin-day date ranges, sorting, paging, 10k window."""

from __future__ import annotations

import html
import re
from datetime import date

from starlette.responses import JSONResponse

from .errors import ApiError, bad_param, regular
from .paging import WINDOW_MESSAGE, beyond_window, envelope, parse_int, sort_echo
from .routing import Ctx, route

TYPES = {
    "salesinvoice",
    "salescreditnote",
    "purchaseinvoice",
    "purchasecreditnote",
    "invoice",
    "downpaymentinvoice",
    "creditnote",
    "orderconfirmation",
    "quotation",
    "deliverynote",
}
STATUSES = {
    "draft",
    "open",
    "paid",
    "paidoff",
    "voided",
    "transferred",
    "sepadebit",
    "overdue",
    "accepted",
    "rejected",
    "unchecked",
    "blank",
}
SORTS = {
    "voucherdate": "voucherDate",
    "vouchernumber": "voucherNumber",
    "createddate": "createdDate",
    "updateddate": "updatedDate",
}
DATE_PARAMS = {"voucherDate": "voucherDate", "createdDate": "createdDate", "updatedDate": "updatedDate"}
MAX_SIZE = 250
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _enum_list(ctx: Ctx, name: str, allowed: set[str]) -> set[str] | None:
    raw = ctx.request.query_params.get(name)
    values = [v.strip() for v in raw.split(",")]
    if "any" in values:
        return None
    for v in values:
        if v not in allowed:
            raise bad_param(ctx.path, name, v)
    return set(values)


def _day(ctx: Ctx, name: str) -> str | None:
    value = ctx.request.query_params.get(name)
    if value is None:
        return None
    if not _DAY.match(value):
        raise bad_param(ctx.path, name, value)
    try:
        date.fromisoformat(value)  # the shape alone lets 2025-02-30 through
    except ValueError:
        raise bad_param(ctx.path, name, value) from None
    return value


@route("GET", "/v1/voucherlist")
async def voucherlist(ctx: Ctx) -> JSONResponse:
    q = ctx.request.query_params
    if not q.get("voucherType") or not q.get("voucherStatus"):
        raise ApiError(regular(400, ctx.path, "Missing required request parameters"))
    types = _enum_list(ctx, "voucherType", TYPES)
    statuses = _enum_list(ctx, "voucherStatus", STATUSES)
    if statuses and "overdue" in statuses and len(statuses) > 1:
        raise bad_param(ctx.path, "voucherStatus", q["voucherStatus"])
    page, size = parse_int(q.get("page"), 0), parse_int(q.get("size"), 25)
    if page is None or page < 0:
        raise bad_param(ctx.path, "page", q.get("page", ""))
    if size is None or size < 1:
        raise bad_param(ctx.path, "size", q.get("size", ""))
    if size > MAX_SIZE:
        raise ApiError(regular(400, ctx.path, f"parameter 'size' must be equal or lower than {MAX_SIZE}"))
    prop, descending = "voucherdate", True
    if q.get("sort"):
        field, _, direction = q["sort"].partition(",")
        if field.lower() not in SORTS or direction.upper() not in ("", "ASC", "DESC"):
            raise ApiError(regular(400, ctx.path, "parameter 'sort' is invalid"))
        prop, descending = field.lower(), direction.upper() == "DESC"
    ranges = {f: (_day(ctx, f + "From"), _day(ctx, f + "To")) for f in DATE_PARAMS}
    ranges = {f: r for f, r in ranges.items() if r != (None, None)}
    archived = q.get("archived")
    if archived is not None and archived.lower() not in ("true", "false"):
        raise bad_param(ctx.path, "archived", archived)
    contact_id = q.get("contactId")
    number = html.unescape(q["voucherNumber"]) if q.get("voucherNumber") else None
    t = ctx.tenant
    today = t.clock.today().isoformat()
    want_overdue = statuses == {"overdue"}
    rows = []
    for e in t.entries_sorted(prop, descending):
        row = e.row
        if types is not None and row["voucherType"] not in types:
            continue
        if want_overdue:
            if not t.is_overdue(e, today):
                continue
        elif statuses is not None and e.status not in statuses:
            continue
        if contact_id is not None and row["contactId"] != contact_id:
            continue
        if number is not None and row["voucherNumber"] != number:
            continue
        if archived is not None and row["archived"] != (archived.lower() == "true"):
            continue
        if ranges and not all(
            (lo is None or e.days.get(f, "") >= lo) and (hi is None or e.days.get(f, "9999") <= hi)
            for f, (lo, hi) in ranges.items()
        ):
            continue
        rows.append(e)
    window = ctx.sb.config.search_window
    if beyond_window(page, size, len(rows), window):
        raise ApiError(regular(400, ctx.path, WINDOW_MESSAGE))
    content = [t.render_entry(e, today) for e in rows[page * size : (page + 1) * size]]
    return JSONResponse(envelope(content, len(rows), page, size, sort_echo(prop, descending), window))

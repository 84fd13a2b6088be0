"""/v1/contacts: list with filters (name-sorted paging), get, create, full-replace update with version."""

from __future__ import annotations

import html
import re

from starlette.responses import JSONResponse

from .documents import contact_name
from .errors import ApiError, issue, legacy, not_found
from .paging import WINDOW_MESSAGE, beyond_window, envelope, parse_int, sort_echo
from .routing import Ctx, route
from .validate_contact import multi_entry_issues, normalise_contact, validate_contact
from .writes import action_result, stale_version

MAX_SIZE = 250


def like(pattern: str) -> re.Pattern:
    """SQL-LIKE substring match: `%` any run, `_` one char, `\\` escapes; case-insensitive."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 1
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _emails(c: dict) -> list[str]:
    found = [e for entries in (c.get("emailAddresses") or {}).values() for e in entries]
    found += [
        p["emailAddress"] for p in c.get("company", {}).get("contactPersons") or [] if p.get("emailAddress")
    ]
    return found


def _names(c: dict) -> list[str]:
    if "company" in c:
        return [c["company"]["name"]]
    p = c["person"]
    return [contact_name(c), f"{p['lastName']}, {p.get('firstName', '')}"]


def _bool(ctx: Ctx, name: str) -> bool | None:
    value = ctx.request.query_params.get(name)
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise ApiError(legacy(400, [issue("invalid_value", name)]))
    return value.lower() == "true"


def _text_filter(ctx: Ctx, name: str) -> re.Pattern | None:
    value = ctx.request.query_params.get(name)
    if value is None:
        return None
    value = html.unescape(value)
    if not 3 <= len(value) <= 128:
        raise ApiError(
            legacy(400, [issue("bad_request_error", "size must be between 3 and 128", "bad_request_error")])
        )
    return like(value)


@route("GET", "/v1/contacts", legacy_errors=True)
async def list_contacts(ctx: Ctx) -> JSONResponse:
    q = ctx.request.query_params
    page, size = parse_int(q.get("page"), 0), parse_int(q.get("size"), 25)
    if page is None or page < 0:
        page = 0
    if size is None or size < 1:
        size = 25
    if size > MAX_SIZE:
        raise ctx.bad_request("parameter 'size' exceeds the limit")
    name, email = _text_filter(ctx, "name"), _text_filter(ctx, "email")
    number = None
    if q.get("number") is not None:
        if not q["number"].strip().lstrip("-").isdigit():
            raise ApiError(legacy(400, [issue("invalid_value", "number")]))
        number = int(q["number"])
    customer, vendor = _bool(ctx, "customer"), _bool(ctx, "vendor")
    rows = ctx.tenant.sorted_contacts()
    if name or email or number is not None or customer is not None or vendor is not None:
        rows = [
            c
            for c in rows
            if (name is None or any(name.search(n) for n in _names(c)))
            and (email is None or any(email.search(e) for e in _emails(c)))
            and (number is None or number in [r["number"] for r in c["roles"].values()])
            and (customer is None or ("customer" in c["roles"]) == customer)
            and (vendor is None or ("vendor" in c["roles"]) == vendor)
        ]
    window = ctx.sb.config.search_window  # applies to every paged list (reference §3.1)
    if beyond_window(page, size, len(rows), window):
        raise ctx.bad_request(WINDOW_MESSAGE)
    content = rows[page * size : (page + 1) * size]
    return JSONResponse(envelope(content, len(rows), page, size, sort_echo("name", False), window))


@route("GET", "/v1/contacts/{id}", legacy_errors=True)
async def get_contact(ctx: Ctx) -> JSONResponse:
    rec = ctx.tenant.contacts.get(ctx.params["id"])
    if rec is None:
        raise not_found(ctx.path)
    return JSONResponse(rec)


@route("POST", "/v1/contacts", legacy_errors=True)
async def create_contact(ctx: Ctx) -> JSONResponse:
    body = await ctx.json()
    issues = validate_contact(body)
    if isinstance(body, dict) and body.get("version") not in (0, None):
        issues.append(issue("invalid_value", "version"))
    if issues:
        raise ApiError(legacy(406, issues))
    t = ctx.tenant
    numbers = {"customer": t.next_number("customer"), "vendor": t.next_number("vendor")}
    rec = {
        "id": ctx.sb.new_id(),
        "organizationId": t.organization_id,
        "version": 1,
        **normalise_contact(body, None, numbers),
    }
    t.contacts[rec["id"]] = rec
    ctx.sb.changed(t, "contacts", rec["id"], "contact.created")
    return action_result(ctx, rec, "contacts", created=True)


@route("PUT", "/v1/contacts/{id}", legacy_errors=True)
async def update_contact(ctx: Ctx) -> JSONResponse:
    t = ctx.tenant
    rec = t.contacts.get(ctx.params["id"])
    if rec is None:
        raise not_found(ctx.path)
    body = await ctx.json()
    if not isinstance(body, dict) or body.get("version") != rec["version"]:
        raise stale_version(ctx, "contacts")
    issues = multi_entry_issues(rec) or validate_contact(body)
    if issues:
        raise ApiError(legacy(406, issues))
    numbers = {"customer": t.next_number("customer"), "vendor": t.next_number("vendor")}
    new = {
        "id": rec["id"],
        "organizationId": rec["organizationId"],
        "version": rec["version"],
        **normalise_contact(body, rec, numbers),
    }
    rec.clear()
    rec.update(new)
    t.touch(rec)
    ctx.sb.changed(t, "contacts", rec["id"], "contact.changed")
    return action_result(ctx, rec, "contacts")

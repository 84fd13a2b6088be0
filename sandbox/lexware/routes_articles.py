"""/v1/articles (reference §4.11, regular error format): list with exact filters, get."""

from __future__ import annotations

from starlette.responses import JSONResponse

from .errors import bad_param, not_found
from .paging import envelope, parse_int, sort_echo
from .routing import Ctx, route

MAX_SIZE = 250
TYPES = ("PRODUCT", "SERVICE")
FILTERS = ("articleNumber", "gtin", "type")  # exact match (reference §4.11)


@route("GET", "/v1/articles")
async def list_articles(ctx: Ctx) -> JSONResponse:
    q = ctx.request.query_params
    page, size = parse_int(q.get("page"), 0), parse_int(q.get("size"), 25)
    if page is None or page < 0:
        raise bad_param(ctx.path, "page", q.get("page", ""))
    if size is None or not 1 <= size <= MAX_SIZE:
        raise ctx.bad_request(f"parameter 'size' must be equal or lower than {MAX_SIZE}")
    if q.get("type") is not None and q["type"] not in TYPES:  # upper-case only, as observed live
        raise bad_param(ctx.path, "type", q["type"])
    wanted = {name: q[name] for name in FILTERS if q.get(name) is not None}
    rows = [a for a in ctx.tenant.sorted_articles() if all(a.get(k) == v for k, v in wanted.items())]
    content = rows[page * size : (page + 1) * size]
    return JSONResponse(envelope(content, len(rows), page, size, sort_echo("title", False)))


@route("GET", "/v1/articles/{id}")
async def get_article(ctx: Ctx) -> JSONResponse:
    rec = ctx.tenant.articles.get(ctx.params["id"])
    if rec is None:
        raise not_found(ctx.path)
    return JSONResponse(rec)

"""/v1/event-subscriptions: create (HEAD check, 409 duplicate), list, get, delete."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from .errors import NOTNULL, ApiError, detail, not_found, regular, validation_406
from .routing import Ctx, route
from .writes import action_result

_RESOURCES = {
    "article": False,
    "contact": False,
    "credit-note": True,
    "delivery-note": True,
    "down-payment-invoice": True,
    "dunning": False,
    "invoice": True,
    "order-confirmation": True,
    "quotation": True,
    "recurring-template": False,
    "voucher": True,
}
EVENT_TYPES = {
    f"{r}.{e}"
    for r, status in _RESOURCES.items()
    for e in ("created", "changed", "deleted") + (("status.changed",) if status else ())
}
EVENT_TYPES |= {"payment.changed", "token.revoked"}


def _public(sub: dict) -> dict:
    return {
        k: sub[k] for k in ("subscriptionId", "organizationId", "createdDate", "eventType", "callbackUrl")
    }


@route("POST", "/v1/event-subscriptions")
async def create_subscription(ctx: Ctx) -> JSONResponse:
    t = ctx.tenant
    body = await ctx.json()
    body = body if isinstance(body, dict) else {}
    details = []
    if body.get("eventType") not in EVENT_TYPES:
        details.append(
            detail(
                "eventType",
                "NOTNULL" if body.get("eventType") is None else "INVALID",
                NOTNULL if body.get("eventType") is None else "ungültiger Event-Typ",
            )
        )
    url = body.get("callbackUrl")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        details.append(detail("callbackUrl", "NOTNULL", NOTNULL))
    if details:
        raise validation_406(ctx.path, details)
    if any(s["eventType"] == body["eventType"] and s["callbackUrl"] == url for s in t.subscriptions.values()):
        raise ApiError(
            regular(409, ctx.path, "Subscription for this event type and callback URL already exists")
        )
    if not await ctx.sb.webhooks.head_check(url):
        raise ApiError(regular(406, ctx.path, "The callback URL is not reachable"))
    now = t.now()
    sub = {
        "subscriptionId": ctx.sb.new_id(),
        "organizationId": t.organization_id,
        "createdDate": now,
        "eventType": body["eventType"],
        "callbackUrl": url,
        "apiKey": t.api_key,
    }
    t.subscriptions[sub["subscriptionId"]] = sub
    ctx.sb.dirty = True
    rec = {"id": sub["subscriptionId"], "createdDate": now, "updatedDate": now, "version": 0}
    return action_result(ctx, rec, "event-subscriptions", created=True)


@route("GET", "/v1/event-subscriptions")
async def list_subscriptions(ctx: Ctx) -> JSONResponse:
    return JSONResponse({"content": [_public(s) for s in ctx.tenant.subscriptions.values()]})


@route("GET", "/v1/event-subscriptions/{id}")
async def get_subscription(ctx: Ctx) -> JSONResponse:
    sub = ctx.tenant.subscriptions.get(ctx.params["id"])
    if sub is None:
        raise not_found(ctx.path)
    return JSONResponse(_public(sub))


@route("DELETE", "/v1/event-subscriptions/{id}")
async def delete_subscription(ctx: Ctx) -> Response:
    if ctx.tenant.subscriptions.pop(ctx.params["id"], None) is None:
        raise not_found(ctx.path)
    ctx.sb.dirty = True
    return Response(status_code=204)

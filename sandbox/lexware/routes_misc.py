"""Profile, payments, master data (bare arrays) and the partner-only organization endpoint."""

from __future__ import annotations

from starlette.responses import JSONResponse

from .errors import ApiError, not_found, regular
from .masterdata import COUNTRIES, PAYMENT_CONDITIONS, POSTING_CATEGORIES, PRINT_LAYOUT_ID
from .routing import Ctx, route


@route("GET", "/v1/profile")
async def profile(ctx: Ctx) -> JSONResponse:
    return JSONResponse(ctx.tenant.profile)


@route("GET", "/v1/payments/{id}")
async def payments(ctx: Ctx) -> JSONResponse:
    view = ctx.tenant.payment_view(ctx.params["id"])
    if view is None:
        raise not_found(ctx.path)
    if isinstance(view, str):
        raise ApiError(regular(406, ctx.path, view))
    return JSONResponse(view)


@route("GET", "/v1/posting-categories")
async def posting_categories(ctx: Ctx) -> JSONResponse:
    return JSONResponse(POSTING_CATEGORIES)


@route("GET", "/v1/countries")
async def countries(ctx: Ctx) -> JSONResponse:
    return JSONResponse(COUNTRIES)


@route("GET", "/v1/payment-conditions")
async def payment_conditions(ctx: Ctx) -> JSONResponse:
    return JSONResponse(PAYMENT_CONDITIONS)


@route("GET", "/v1/print-layouts")
async def print_layouts(ctx: Ctx) -> JSONResponse:
    return JSONResponse([{"id": PRINT_LAYOUT_ID, "name": "Standard", "default": True}])


@route("GET", "/v1/organization")
async def organization(ctx: Ctx) -> JSONResponse:
    """Partner API only (the plan check answers 403 for XL keys)."""
    p = ctx.tenant.profile
    return JSONResponse(
        {
            "companyName": p["companyName"],
            "organizationTypeKey": "LIMITED_LIABILITY_COMPANY",
            "address": {"street": "Hauptstraße 1", "zip": "10115", "city": "Berlin", "countryCode": "DE"},
        }
    )


@route("GET", "/v1/finance/accounts")
async def finance_accounts(ctx: Ctx) -> JSONResponse:
    """Partner API only; the sandbox models no financial accounts."""
    return JSONResponse([])

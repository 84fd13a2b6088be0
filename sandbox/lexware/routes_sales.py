"""/v1/invoices and /v1/credit-notes: get, create (draft or finalized), file/document downloads."""

from __future__ import annotations

from decimal import Decimal

from starlette.responses import JSONResponse, Response

from .documents import address_from_contact, day_of, document_pdf, in_berlin, render_sales
from .errors import ApiError, not_found, regular, validation_406
from .routing import Ctx, route
from .util import fmt_day, num
from .validate_sales import validate_sales
from .writes import action_result

RESOURCES = {
    "invoices": ("invoice", "invoices", "invoice"),
    "credit-notes": ("creditnote", "credit_notes", "credit-note"),
}


def _get(ctx: Ctx, resource: str) -> dict:
    _, coll, _ = RESOURCES[resource]
    rec = getattr(ctx.tenant, coll).get(ctx.params["id"])
    if rec is None:
        raise not_found(ctx.path)
    return rec


def _make_get(resource: str):
    async def get(ctx: Ctx) -> JSONResponse:
        return JSONResponse(_get(ctx, resource))

    async def file(ctx: Ctx) -> Response:
        rec = _get(ctx, resource)
        if rec["voucherStatus"] == "draft":
            raise ApiError(
                regular(
                    409,
                    ctx.path,
                    f"Voucher {rec['id']} is in status 'draft' and therefore cannot be downloaded",
                )
            )
        accept = ctx.request.headers.get("accept", "*/*")
        if "application/xml" in accept and "pdf" not in accept and "*/*" not in accept:
            raise not_found(ctx.path)
        if not any(a in accept for a in ("*/*", "application/pdf", "application/*")):
            raise ApiError(regular(406, ctx.path, "Not Acceptable"))
        name = f"{'Rechnung' if resource == 'invoices' else 'Gutschrift'}_{rec['voucherNumber']}.pdf"
        return Response(
            document_pdf(rec),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def document(ctx: Ctx) -> JSONResponse:
        rec = _get(ctx, resource)
        if rec["voucherStatus"] == "draft":
            raise ApiError(regular(406, ctx.path, "Requesting PDF document is not possible in state draft"))
        return JSONResponse({"documentFileId": rec["files"]["documentFileId"]})

    route("GET", f"/v1/{resource}/{{id}}")(get)
    route("GET", f"/v1/{resource}/{{id}}/file")(file)
    route("GET", f"/v1/{resource}/{{id}}/document")(document)


for _res in RESOURCES:
    _make_get(_res)


def _resolve_address(ctx: Ctx, body: dict) -> dict:
    addr = body["address"]
    if addr.get("contactId") is None:
        return {k: v for k, v in addr.items() if k != "contactPerson"}
    base = address_from_contact(ctx.tenant.contacts[addr["contactId"]])
    base.update(
        {k: v for k, v in addr.items() if k in ("name", "supplement", "street", "city", "zip", "countryCode")}
    )
    return base


def _berlin_dates(body: dict) -> dict:
    """voucherDate and shipping dates as stored and returned: the sent instant in Berlin time, so its
    Berlin day (the document's day) is kept whatever offset the client wrote (reference §1.4)."""
    dates: dict = {"voucherDate": in_berlin(body["voucherDate"])}
    shipping = body.get("shippingConditions")
    if isinstance(shipping, dict):
        dates["shippingConditions"] = {
            k: in_berlin(v) if k in ("shippingDate", "shippingEndDate") and isinstance(v, str) else v
            for k, v in shipping.items()
        }
    return dates


async def _create(ctx: Ctx, resource: str) -> JSONResponse:
    kind, coll, event = RESOURCES[resource]
    t = ctx.tenant
    body = await ctx.json()
    details = validate_sales(body, kind, t.contacts.get)
    if details:
        raise validation_406(ctx.path, details)
    finalize = ctx.request.query_params.get("finalize", "false").lower() == "true"
    preceding_id = ctx.request.query_params.get("precedingSalesVoucherId")
    invoice = None
    if preceding_id is not None:
        invoice = t.invoices.get(preceding_id) if kind == "creditnote" else None
        if (
            invoice is None
            or invoice["voucherStatus"] == "draft"
            or any(r["voucherType"] == "creditnote" for r in invoice["relatedVouchers"])
        ):
            raise ApiError(regular(406, ctx.path, "Invalid pursue action for preceding sales voucher"))
    body = {**body, "address": _resolve_address(ctx, body), **_berlin_dates(body)}
    status = "draft" if not finalize else ("paidoff" if invoice else "open")
    now = t.now()
    related = (
        [{"id": invoice["id"], "voucherNumber": invoice["voucherNumber"], "voucherType": "invoice"}]
        if invoice
        else []
    )
    rec = render_sales(
        kind,
        body,
        rec_id=ctx.sb.new_id(),
        org_id=t.organization_id,
        number=t.next_voucher_number(kind),
        status=status,
        created=now,
        updated=now,
        version=1,
        voucher_day=day_of(body["voucherDate"]),
        related=related,
    )
    getattr(t, coll)[rec["id"]] = rec
    if status != "draft":
        t.payments[rec["id"]] = {"items": [], "paidDate": None}
    ctx.sb.changed(t, coll, rec["id"], f"{event}.created")
    if invoice and finalize:
        _settle_invoice(ctx, invoice, rec)
    return action_result(ctx, rec, resource, created=True)


def _settle_invoice(ctx: Ctx, invoice: dict, note: dict) -> None:
    """A finalized credit note pursued from an invoice is paid off at once and reduces the invoice."""
    t = ctx.tenant
    day = fmt_day(day_of(note["voucherDate"]))
    amount = Decimal(str(note["totalPrice"]["totalGrossAmount"]))
    t.payments[note["id"]] = {
        "items": [
            {
                "paymentItemType": "partPaymentCreditNote",
                "postingDate": day,
                "amount": num(amount),
                "currency": "EUR",
            }
        ],
        "paidDate": day,
    }
    invoice["relatedVouchers"].append(
        {"id": note["id"], "voucherNumber": note["voucherNumber"], "voucherType": "creditnote"}
    )
    old_status = invoice["voucherStatus"]
    open_amt = t.open_amount(invoice, "invoices") or Decimal(0)
    if old_status == "open" and open_amt > 0:
        pay = t.payments.setdefault(invoice["id"], {"items": [], "paidDate": None})
        pay["items"].append(
            {
                "paymentItemType": "partPaymentCreditNote",
                "postingDate": day,
                "amount": num(min(amount, open_amt)),
                "currency": "EUR",
            }
        )
        if amount >= open_amt:
            invoice["voucherStatus"], pay["paidDate"] = "paid", day
    t.touch(invoice)
    ctx.sb.changed(
        t,
        "invoices",
        invoice["id"],
        "invoice.changed",
        status_changed=invoice["voucherStatus"] != old_status,
        payment=True,
    )


@route("POST", "/v1/invoices")
async def create_invoice(ctx: Ctx) -> JSONResponse:
    return await _create(ctx, "invoices")


@route("POST", "/v1/credit-notes")
async def create_credit_note(ctx: Ctx) -> JSONResponse:
    return await _create(ctx, "credit-notes")

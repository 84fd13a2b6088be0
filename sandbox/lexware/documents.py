"""Build records exactly as the real GET endpoints render them (shared by the seed and the write routes)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from .masterdata import PRINT_LAYOUT_ID
from .pdf import render_pdf
from .pricing import price_lines
from .util import BERLIN, fmt_day, fmt_dt, money, num

_FILE_NS = uuid.UUID("0b7d6c5e-1a2f-4e3d-9c8b-7a6f5e4d3c2b")


def contact_name(contact: dict) -> str:
    if "company" in contact:
        return contact["company"]["name"]
    person = contact["person"]
    return f"{person.get('firstName', '')} {person['lastName']}".strip()


def address_from_contact(contact: dict) -> dict:
    """The `address` object of a sales voucher referencing a contact (billing address copied)."""
    addr: dict = {"contactId": contact["id"], "name": contact_name(contact)}
    billing = (contact.get("addresses", {}).get("billing") or [{}])[0]
    for key in ("supplement", "street", "city", "zip", "countryCode"):
        if key in billing:
            addr[key] = billing[key]
    persons = contact.get("company", {}).get("contactPersons") or []
    if persons:
        addr["contactPerson"] = f"{persons[0].get('firstName', '')} {persons[0]['lastName']}".strip()
    return addr


def render_sales(
    kind: str,
    body: dict,
    *,
    rec_id: str,
    org_id: str,
    number: str,
    status: str,
    created: str,
    updated: str,
    version: int,
    voucher_day: date,
    related: list[dict] | None = None,
) -> dict:
    """kind: 'invoice' or 'creditnote'. `body` is a validated create payload (address already resolved)."""
    tax_type = body["taxConditions"]["taxType"]
    discount = Decimal(str(body.get("totalPrice", {}).get("totalDiscountPercentage", 0) or 0))
    priced = price_lines(body["lineItems"], tax_type, discount if kind == "invoice" else Decimal(0))
    if kind == "creditnote":
        for item in priced["lineItems"]:
            item.pop("discountPercentage", None)
    rec: dict = {
        "id": rec_id,
        "organizationId": org_id,
        "createdDate": created,
        "updatedDate": updated,
        "version": version,
        "language": body.get("language", "de"),
        "archived": False,
        "voucherStatus": status,
        "voucherNumber": number,
        "voucherDate": body["voucherDate"],
    }
    if kind == "invoice" and status != "draft":
        term = body.get("paymentConditions", {}).get("paymentTermDuration", 14)
        rec["dueDate"] = fmt_day(voucher_day + timedelta(days=int(term)))
    rec["address"] = body["address"]
    if body.get("xRechnung"):
        rec["xRechnung"] = body["xRechnung"]
    rec["electronicDocumentProfile"] = "NONE"
    rec["lineItems"] = priced["lineItems"]
    rec["totalPrice"] = priced["totalPrice"]
    rec["taxAmounts"] = priced["taxAmounts"]
    rec["taxConditions"] = body["taxConditions"]
    if kind == "invoice":
        pc = dict(
            body.get("paymentConditions")
            or {"paymentTermLabel": "Zahlbar in 14 Tagen", "paymentTermDuration": 14}
        )
        pc.setdefault("paymentTermLabelTemplate", pc.get("paymentTermLabel", ""))
        rec["paymentConditions"] = pc
        rec["shippingConditions"] = body["shippingConditions"]
        rec["closingInvoice"] = False
    rec["relatedVouchers"] = related or []
    if status != "draft":
        rec["printLayoutId"] = PRINT_LAYOUT_ID
    for key in ("title", "introduction", "remark"):
        if body.get(key):
            rec[key] = body[key]
    if status != "draft":
        rec["files"] = {"documentFileId": str(uuid.uuid5(_FILE_NS, rec_id))}
    return rec


def voucher_item_tax(amount: Decimal, rate: Decimal, tax_type: str) -> Decimal:
    if tax_type == "gross":
        return amount - money(amount / (1 + rate / 100))
    return money(amount * rate / 100)


def render_voucher(
    body: dict,
    *,
    rec_id: str,
    org_id: str,
    status: str,
    created: str,
    updated: str,
    version: int,
    contact: dict | None,
) -> dict:
    """A bookkeeping voucher as GET /v1/vouchers/{id} returns it (dates as Berlin-midnight datetimes)."""
    rec: dict = {"id": rec_id, "organizationId": org_id, "type": body["type"], "voucherStatus": status}
    if body.get("voucherNumber"):
        rec["voucherNumber"] = body["voucherNumber"]
    for key in ("voucherDate", "shippingDate", "dueDate"):
        if body.get(key):
            rec[key] = fmt_day(voucher_day(body[key]))
    rec["totalGrossAmount"] = num(Decimal(str(body["totalGrossAmount"])))
    rec["totalTaxAmount"] = num(Decimal(str(body["totalTaxAmount"])))
    rec["taxType"] = body["taxType"]
    collective = bool(body.get("useCollectiveContact"))
    rec["useCollectiveContact"] = collective
    if collective or contact is None:
        sales = body["type"].startswith("sales")
        rec["contactName"] = body.get("contactName") or ("Sammelkunde" if sales else "Sammellieferant")
    else:
        rec["contactId"] = contact["id"]
        rec["contactName"] = contact_name(contact)
    if body.get("remark"):
        rec["remark"] = body["remark"]
    rec["voucherItems"] = [
        {
            "amount": num(Decimal(str(it["amount"]))),
            "taxAmount": num(Decimal(str(it["taxAmount"]))),
            "taxRatePercent": num(Decimal(str(it["taxRatePercent"]))),
            "categoryId": it["categoryId"],
        }
        for it in body.get("voucherItems") or []
    ]
    rec["files"] = list(body.get("files") or [])
    rec["createdDate"], rec["updatedDate"], rec["version"] = created, updated, version
    return rec


def voucher_day(value: str) -> date:
    """A bookkeeping-voucher date as written: yyyy-MM-dd, or (--voucher-write-dates datetime) a dateTime."""
    return date.fromisoformat(value) if len(value) == 10 else day_of(value)


def day_of(value: str) -> date:
    """The Berlin calendar day of a dateTime, whatever offset it was written with."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(BERLIN).date()


def in_berlin(value: str) -> str:
    """A client's dateTime (`Z` or any offset) as the API renders it: the same instant in Berlin time."""
    return fmt_dt(datetime.fromisoformat(value.replace("Z", "+00:00")))


def document_pdf(rec: dict) -> bytes:
    """The PDF of a finalized invoice or credit note (what `/file` and `/v1/files/{documentFileId}` serve)."""
    title = rec.get("title") or ("Gutschrift" if "dueDate" not in rec else "Rechnung")
    addr = rec["address"]
    lines = [
        f"{title} {rec['voucherNumber']}",
        f"Datum: {day_of(rec['voucherDate']).strftime('%d.%m.%Y')}",
        addr.get("name", ""),
        " ".join(p for p in (addr.get("zip"), addr.get("city")) if p),
        "",
    ]
    for item in rec["lineItems"]:
        if item["type"] == "text":
            lines.append(item.get("description") or item["name"])
            continue
        amount = f"{item.get('lineItemAmount', 0):.2f}"
        lines.append(f"{item.get('quantity', '')} {item.get('unitName', '')} {item['name']}  {amount} EUR")
    total = rec["totalPrice"]
    lines += [
        "",
        f"Netto: {total['totalNetAmount']:.2f} EUR",
        f"Umsatzsteuer: {total['totalTaxAmount']:.2f} EUR",
        f"Gesamt: {total['totalGrossAmount']:.2f} EUR",
    ]
    return render_pdf(lines)

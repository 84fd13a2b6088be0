"""Seeded documents: invoices with payments, credit notes referencing invoices, bookkeeping vouchers."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from sandbox import names as N

from .documents import address_from_contact, render_sales, render_voucher, voucher_item_tax
from .masterdata import INCOME_IDS, OUTGO_IDS
from .util import BERLIN, fmt_day, fmt_dt, money, num, rng_uuid, whole

SPAN_DAYS = 3 * 365


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime(
        day.year,
        day.month,
        day.day,
        rng.randint(7, 18),
        rng.randint(0, 59),
        rng.randint(0, 59),
        rng.randint(0, 999) * 1000,
        tzinfo=BERLIN,
    )


def _days(rng: random.Random, n: int, anchor: datetime) -> list[date]:
    start = anchor.date() - timedelta(days=SPAN_DAYS)
    return sorted(start + timedelta(days=rng.randint(0, SPAN_DAYS - 1)) for _ in range(n))


def _clamp(moment: datetime, anchor: datetime) -> str:
    return fmt_dt(min(moment, anchor - timedelta(minutes=1)))


def _pay_item(kind: str, day: date, amount: Decimal) -> dict:
    return {"paymentItemType": kind, "postingDate": fmt_day(day), "amount": num(amount), "currency": "EUR"}


def _line_items(rng: random.Random, tax_type: str, zero: bool) -> list[dict]:
    items = []
    for _ in range(rng.choice([1, 1, 2, 2, 3, 4, 5])):
        name, unit, rate = rng.choice(N.SERVICES if rng.random() < 0.5 else N.GOODS)
        if tax_type not in ("net", "gross"):
            rate = 0
        price = Decimal(rng.randint(150, 250000)) / 100
        key = "grossAmount" if tax_type == "gross" else "netAmount"
        qty = Decimal(rng.choice([1, 1, 2, 3, 5, 8, 10, "1.5", "0.25"]))
        items.append(
            {
                "type": "custom",
                "name": name,
                "quantity": whole(qty) if zero is False else 0,
                "unitName": unit,
                "unitPrice": {"currency": "EUR", key: num(price), "taxRatePercentage": rate},
                "discountPercentage": rng.choice([0] * 8 + [5, 10]),
            }
        )
    if rng.random() < 0.15:
        items.append({"type": "text", "name": "Hinweis", "description": "Leistung gemäß Rahmenvertrag"})
    return items


def seed_invoices(rng: random.Random, org_id: str, contacts: list[dict], n: int, anchor: datetime):
    customers = [c for c in contacts if "customer" in c["roles"]]
    today = anchor.date()
    invoices, payments = [], {}
    for i, day in enumerate(_days(rng, n, anchor)):
        contact = rng.choice(customers)
        address = (
            address_from_contact(contact)
            if rng.random() > 0.04
            else {
                "name": "Laufkundschaft Öztürk & Weiß",
                "street": "Marktplatz 1",
                "zip": "24103",
                "city": "Kiel",
                "countryCode": "DE",
            }
        )
        country = address.get("countryCode", "DE")
        tax_type = (
            "intraCommunitySupply"
            if country in ("AT", "NL", "FR", "PL")
            else "thirdPartyCountryService"
            if country == "CH"
            else "gross"
            if "person" in contact and rng.random() < 0.5
            else "net"
        )
        if "contactId" not in address and tax_type not in ("net", "gross"):
            tax_type = "net"
        term = rng.choice([14, 14, 14, 30, 30, 0])
        body = {
            "voucherDate": fmt_day(day),
            "address": address,
            "lineItems": _line_items(rng, tax_type, zero=rng.random() < 0.01 or i == n // 2),
            "totalPrice": {
                "currency": "EUR",
                **({"totalDiscountPercentage": 3} if rng.random() < 0.05 else {}),
            },
            "taxConditions": {"taxType": tax_type},
            "paymentConditions": {
                "paymentTermLabel": f"Zahlbar in {term} Tagen" if term else "Zahlbar sofort",
                "paymentTermLabelTemplate": "Zahlbar in {paymentRange} Tagen",
                "paymentTermDuration": term,
            },
            "shippingConditions": {
                "shippingDate": fmt_day(day - timedelta(days=rng.randint(0, 5))),
                "shippingType": rng.choice(["service", "delivery"]),
            },
            "title": "Rechnung",
            "introduction": "Für unsere Leistungen berechnen wir Ihnen:",
            "remark": "Vielen Dank für Ihren Auftrag.",
        }
        age = (today - day).days
        roll = rng.random()
        status = (
            "draft"
            if (age < 30 and roll < 0.1) or i >= n - max(2, n // 100)
            else "voided"
            if roll < 0.02
            else "open"
            if (age < 45 and roll < 0.75) or roll < 0.08
            else "paid"
        )
        created = min(_moment(day, rng), anchor - timedelta(minutes=2))
        rec = render_sales(
            "invoice",
            body,
            rec_id=rng_uuid(rng),
            org_id=org_id,
            number=f"RE{i + 1:05d}",
            status=status,
            created=fmt_dt(created),
            updated=fmt_dt(created),
            version=1,
            voucher_day=day,
        )
        total = Decimal(str(rec["totalPrice"]["totalGrossAmount"]))
        if status == "draft":
            pass  # a draft has no payment information (GET /v1/payments refuses drafts with 406)
        elif total == 0:
            rec["voucherStatus"], status = "paid", "paid"
            payments[rec["id"]] = {"items": [], "paidDate": fmt_day(day)}
        elif status == "paid":
            pay_day = min(day + timedelta(days=rng.randint(0, term + 20)), today - timedelta(days=1))
            items = [_pay_item("partPaymentFinancialTransaction", pay_day, total)]
            payments[rec["id"]] = {"items": items, "paidDate": fmt_day(pay_day)}
            rec["updatedDate"], rec["version"] = (
                _clamp(_moment(pay_day, rng) + timedelta(hours=20), anchor),
                2,
            )
        elif status == "open" and rng.random() < 0.15:
            part = money(total * Decimal(rng.randint(20, 80)) / 100)
            pay_day = day + timedelta(days=rng.randint(0, max(age - 1, 0)))
            payments[rec["id"]] = {
                "items": [_pay_item("partPaymentFinancialTransaction", pay_day, part)],
                "paidDate": None,
            }
            rec["updatedDate"], rec["version"] = (
                _clamp(_moment(pay_day, rng) + timedelta(hours=20), anchor),
                2,
            )
        else:
            payments[rec["id"]] = {"items": [], "paidDate": None}
        invoices.append(rec)
    return invoices, payments


def seed_credit_notes(rng, org_id, invoices, payments, n, anchor):
    today = anchor.date()
    candidates = [
        inv
        for inv in invoices
        if inv["voucherStatus"] in ("open", "paid")
        and Decimal(str(inv["totalPrice"]["totalGrossAmount"])) > 0
    ]
    picked = sorted(rng.sample(candidates, min(n, len(candidates))), key=lambda r: r["voucherNumber"])
    notes = []
    for i, inv in enumerate(picked):
        inv_day = datetime.fromisoformat(inv["voucherDate"]).date()
        day = min(inv_day + timedelta(days=rng.randint(1, 40)), today)
        first = next(it for it in inv["lineItems"] if it["type"] != "text")
        tax_type = inv["taxConditions"]["taxType"]
        key = "grossAmount" if tax_type == "gross" else "netAmount"
        line = {
            "type": "custom",
            "name": f"Gutschrift: {first['name']}",
            "quantity": 1,
            "unitName": "Pauschal",
            "unitPrice": {
                "currency": "EUR",
                key: first["unitPrice"][key],
                "taxRatePercentage": first["unitPrice"]["taxRatePercentage"],
            },
        }
        related = [{"id": inv["id"], "voucherNumber": inv["voucherNumber"], "voucherType": "invoice"}]
        body = {
            "voucherDate": fmt_day(day),
            "address": inv["address"],
            "lineItems": [line],
            "totalPrice": {"currency": "EUR"},
            "taxConditions": inv["taxConditions"],
            "title": "Rechnungskorrektur",
            "introduction": f"Korrektur zu Rechnung {inv['voucherNumber']}",
        }
        created = min(_moment(day, rng), anchor - timedelta(minutes=2))
        status = "draft" if (today - day).days < 20 and rng.random() < 0.3 else "paidoff"
        note = render_sales(
            "creditnote",
            body,
            rec_id=rng_uuid(rng),
            org_id=org_id,
            number=f"GS{i + 1:05d}",
            status=status,
            created=fmt_dt(created),
            updated=fmt_dt(created),
            version=1,
            voucher_day=day,
            related=related,
        )
        if status == "paidoff":
            amount = min(
                Decimal(str(note["totalPrice"]["totalGrossAmount"])),
                Decimal(str(inv["totalPrice"]["totalGrossAmount"])),
            )
            payments[note["id"]] = {
                "items": [_pay_item("partPaymentCreditNote", day, amount)],
                "paidDate": fmt_day(day),
            }
            inv["relatedVouchers"].append(
                {"id": note["id"], "voucherNumber": note["voucherNumber"], "voucherType": "creditnote"}
            )
            inv["version"] += 1
            inv["updatedDate"] = max(inv["updatedDate"], note["createdDate"])
            if inv["voucherStatus"] == "open":
                pay = payments[inv["id"]]
                open_amt = Decimal(str(inv["totalPrice"]["totalGrossAmount"])) - sum(
                    (Decimal(str(p["amount"])) for p in pay["items"]), Decimal(0)
                )
                pay["items"].append(_pay_item("partPaymentCreditNote", day, min(amount, open_amt)))
                if amount >= open_amt:
                    inv["voucherStatus"], pay["paidDate"] = "paid", fmt_day(day)
        notes.append(note)
    return notes


_VOUCHER_TYPES = ["purchaseinvoice"] * 14 + ["salesinvoice"] * 3 + ["purchasecreditnote", "salescreditnote"]


def seed_vouchers(rng, org_id, contacts, n, anchor, payments):
    today = anchor.date()
    vendors = [c for c in contacts if "vendor" in c["roles"]]
    customers = [c for c in contacts if "customer" in c["roles"]]
    out = []
    for _i, day in enumerate(_days(rng, n, anchor)):
        vtype = rng.choice(_VOUCHER_TYPES)
        sales = vtype.startswith("sales")
        tax_type = "gross" if rng.random() < 0.7 else "net"
        items, total, tax_total = [], Decimal(0), Decimal(0)
        for rate in rng.sample([19, 7, 0], rng.choice([1, 1, 1, 2])):
            amount = Decimal(rng.randint(200, 400000)) / 100
            tax = voucher_item_tax(amount, Decimal(rate), tax_type)
            items.append(
                {
                    "amount": amount,
                    "taxAmount": tax,
                    "taxRatePercent": rate,
                    "categoryId": rng.choice(INCOME_IDS if sales else OUTGO_IDS),
                }
            )
            total += amount + (tax if tax_type == "net" else 0)
            tax_total += tax
        pool = customers if sales else vendors
        collective = rng.random() < 0.2 or not pool
        contact = None if collective else rng.choice(pool)
        age = (today - day).days
        roll = rng.random()
        status = (
            "unchecked"
            if age < 20 and roll < 0.15
            else "voided"
            if roll < 0.02
            else "open"
            if (age < 40 and roll < 0.7) or roll < 0.06
            else "paidoff"
            if vtype.endswith("creditnote")
            else "paid"
        )
        if status == "unchecked":
            tax_type = "gross"
        body = {
            "type": vtype,
            "voucherNumber": f"{'AR' if sales else 'ER'}-{day.year}-{rng.randint(1000, 99999)}",
            "voucherDate": day.isoformat(),
            "dueDate": (day + timedelta(days=rng.choice([0, 14, 30]))).isoformat(),
            "totalGrossAmount": total,
            "totalTaxAmount": tax_total,
            "taxType": tax_type,
            "useCollectiveContact": collective,
            "remark": rng.choice(N.PURCHASE_TEXT) if not sales else None,
            "voucherItems": items,
            "files": [],
        }
        if sales and rng.random() < 0.5:
            body["shippingDate"] = day.isoformat()
        created = _moment(day + timedelta(days=rng.randint(0, 3)), rng)
        created = min(created, anchor - timedelta(hours=1))
        rec = render_voucher(
            body,
            rec_id=rng_uuid(rng),
            org_id=org_id,
            status=status,
            created=fmt_dt(created),
            updated=fmt_dt(created),
            version=1,
            contact=contact,
        )
        if status in ("paid", "paidoff"):
            pay_day = min(day + timedelta(days=rng.randint(0, 35)), today - timedelta(days=1))
            kind = rng.choice(["partPaymentFinancialTransaction", "manualPayment"])
            payments[rec["id"]] = {"items": [_pay_item(kind, pay_day, total)], "paidDate": fmt_day(pay_day)}
            moment = max(_moment(pay_day, rng), created + timedelta(minutes=5))
            rec["updatedDate"], rec["version"] = _clamp(moment, anchor), 2
        elif status in ("open", "voided"):
            payments[rec["id"]] = {"items": [], "paidDate": None}
        out.append(rec)
    return out

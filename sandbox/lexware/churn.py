"""The Lexware emulator's churn: what the background "other user" does (the loop is sandbox/churn.py)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING

from .documents import address_from_contact, render_sales
from .operations import OperationError, edit
from .util import fmt_day

if TYPE_CHECKING:
    from .app import Sandbox
    from .store import TenantStore

ACTIONS = [
    ("contact", 30),
    ("voucher", 15),
    ("pay_invoice", 25),
    ("pay_voucher", 8),
    ("void", 4),
    ("new_contact", 4),
    ("new_invoice", 8),
    ("delete_draft", 6),
]
SKIPPED = (OperationError,)  # an edit the books refuse is skipped, not an error


def _pick(rng: random.Random, records, predicate) -> dict | None:
    candidates = [r for r in records if predicate(r)]
    return rng.choice(candidates) if candidates else None


def step(sb: Sandbox, t: TenantStore, action: str, rng: random.Random) -> bool:
    """Perform one churn action on tenant `t`; False when there was nothing to act on."""
    if action == "contact":
        rec = _pick(rng, t.contacts.values(), lambda c: not c["archived"])
        if rec:
            edit(sb, t, "contacts", rec["id"], {"note": f"Geändert von Kollegin ({rng.randint(1, 9999)})"})
    elif action == "voucher":
        rec = _pick(rng, t.vouchers.values(), lambda v: v["voucherStatus"] in ("open", "paid"))
        if rec:
            edit(sb, t, "vouchers", rec["id"], {"remark": f"Nachträglich geprüft #{rng.randint(1, 9999)}"})
    elif action in ("pay_invoice", "pay_voucher", "void"):
        resource = "vouchers" if action == "pay_voucher" else "invoices"
        rec = _pick(rng, t.collection(resource).values(), lambda r: r["voucherStatus"] == "open")
        if rec:
            if action == "void":
                edit(sb, t, resource, rec["id"], action="void")
            else:
                partial = rng.random() < 0.3
                amount = (
                    {"amount": round(rec.get("totalGrossAmount", 0) / 3, 2)}
                    if partial and resource == "vouchers"
                    else None
                )
                edit(sb, t, resource, rec["id"], amount, action="pay")
    elif action == "new_contact":
        rec = {
            "id": sb.new_id(),
            "organizationId": t.organization_id,
            "version": 1,
            "roles": {"customer": {"number": t.next_number("customer")}},
            "company": {"name": f"Neukunde {rng.randint(100, 999)} GmbH"},
            "addresses": {
                "billing": [
                    {"street": "Neue Straße 1", "zip": "10115", "city": "Berlin", "countryCode": "DE"}
                ]
            },
            "archived": False,
        }
        t.contacts[rec["id"]] = rec
        sb.changed(t, "contacts", rec["id"], "contact.created")
    elif action == "new_invoice":
        rec = _new_invoice(sb, t, rng)
    elif action == "delete_draft":
        rec = _pick(rng, t.invoices.values(), lambda r: r["voucherStatus"] == "draft")
        if rec:
            edit(sb, t, "invoices", rec["id"], action="delete")
    else:
        raise ValueError(f"unknown churn action {action!r}")
    return rec is not None


def _new_invoice(sb: Sandbox, t: TenantStore, rng: random.Random) -> dict | None:
    contact = _pick(rng, t.contacts.values(), lambda c: "customer" in c["roles"])
    if contact is None:
        return None
    today = t.clock.today()
    body = {
        "voucherDate": fmt_day(today),
        "address": address_from_contact(contact),
        "lineItems": [
            {
                "type": "custom",
                "name": "Beratung",
                "quantity": rng.randint(1, 8),
                "unitName": "Stunde",
                "unitPrice": {"currency": "EUR", "netAmount": 95, "taxRatePercentage": 19},
                "discountPercentage": 0,
            }
        ],
        "totalPrice": {"currency": "EUR"},
        "taxConditions": {"taxType": "net"},
        "paymentConditions": {"paymentTermLabel": "Zahlbar in 14 Tagen", "paymentTermDuration": 14},
        "shippingConditions": {"shippingType": "service", "shippingDate": fmt_day(today - timedelta(days=1))},
    }
    status = "open" if rng.random() < 0.6 else "draft"
    now = t.now()
    rec = render_sales(
        "invoice",
        body,
        rec_id=sb.new_id(),
        org_id=t.organization_id,
        number=t.next_voucher_number("invoice"),
        status=status,
        created=now,
        updated=now,
        version=1,
        voucher_day=today,
    )
    t.invoices[rec["id"]] = rec
    if status == "open":
        t.payments[rec["id"]] = {"items": [], "paidDate": None}
    sb.changed(t, "invoices", rec["id"], "invoice.created")
    return rec

"""Edits "by another user" (operator API `/_sandbox/tenants/NAME/edit`) and the background churn: both go
through the same bookkeeping rules as the API (books.py), so every change bumps `update` like live."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sandbox import names as N

from . import books
from .books import SevError
from .model import DOCUMENTS, PARENT_FIELD, RESOURCES, dec, fmt_date, fmt_ts, ref

if TYPE_CHECKING:
    from .app import Sandbox
    from .store import TenantStore

MODELS = {**{m: m for m in RESOURCES}, **{table: m for m, table in RESOURCES.items()}}
PROTECTED = {"id", "objectName", "create", "update", "sevClient", "enshrined"}
ACTIONS = [
    ("contact", 25),
    ("address", 6),
    ("new_contact", 4),
    ("new_invoice", 8),
    ("send_invoice", 8),
    ("pay_invoice", 18),
    ("pay_voucher", 8),
    ("cancel_invoice", 3),
    ("voucher_position", 6),
    ("new_voucher", 6),
    ("delete_draft", 4),
    ("bank_line", 4),
    ("delete_bank_line", 2),
    ("unbook", 2),
]


def edit(
    sb: Sandbox,
    t: TenantStore,
    resource: str,
    rec_id: str,
    changes: dict | None = None,
    action: str | None = None,
) -> dict | None:
    """One edit; returns the changed record (None after a delete). `resource`: model or table name."""
    model = MODELS.get(resource)
    if model is None:
        raise SevError(400, f"unknown resource '{resource}'")
    rec = books.get(t, model, rec_id)
    now = sb.clock.now()
    result: dict | None = rec
    if action is None:
        _check_unlocked(t, model, rec)
        for key, value in (changes or {}).items():
            if key not in PROTECTED:
                rec[key] = value
        t.touch(rec)
        if model in PARENT_FIELD and model.endswith("Pos"):
            _reprice(t, model, rec)
    elif action == "delete":
        books.delete(t, model, rec_id)
        result = None
    elif action == "pay":
        value = (changes or {}).get("amount")
        books.book(t, model, rec, None if value is None else Decimal(str(value)), now, _bank(t))
    elif action == "cancel":
        result = books.cancel_invoice(t, rec, now)
    elif action == "send":
        books.send(t, model, rec, now)
    elif action == "enshrine":
        books.enshrine(t, model, rec)
    elif action == "unbook":
        books.unbook(t, model, rec)
    else:
        raise SevError(400, f"unknown action '{action}'")
    sb.changed()
    return result


def _check_unlocked(t: TenantStore, model: str, rec: dict) -> None:
    """An enshrined document (or a position of one) is locked for good, for every user."""
    if model in DOCUMENTS:
        books.check_lock(model, rec)
    elif model in PARENT_FIELD and model.endswith("Pos"):
        parent_model = next(m for m, p in DOCUMENTS.items() if p == model)
        books.check_lock(parent_model, t.coll(parent_model)[rec[PARENT_FIELD[model]]["id"]])


def _reprice(t: TenantStore, model: str, pos: dict) -> None:
    """A changed position: its sums follow its quantity/price (or sumNet), and so do the document's."""
    rate = Decimal(pos["taxRate"])
    net = (
        Decimal(pos["sumNet"]) if model == "VoucherPos" else Decimal(pos["price"]) * Decimal(pos["quantity"])
    )
    net, tax, gross = books.line_sums(net, rate)
    pos.update(sumNet=dec(net), sumTax=dec(tax), sumGross=dec(gross))
    if "sumNetAccounting" in pos:
        pos.update(sumNetAccounting=dec(net), sumTaxAccounting=dec(tax), sumGrossAccounting=dec(gross))
    parent_model = next(m for m, p in DOCUMENTS.items() if p == model)
    parent = t.coll(parent_model)[pos[PARENT_FIELD[model]]["id"]]
    books.recompute(t, parent_model, parent)
    t.touch(parent)


def _bank(t: TenantStore) -> str:
    return next(a["id"] for a in t.listed("CheckAccount") if a["type"] == "online")


def _pick(rng: random.Random, rows, predicate) -> dict | None:
    found = [r for r in rows if predicate(r)]
    return rng.choice(found) if found else None


def step(sb: Sandbox, t: TenantStore, action: str, rng: random.Random) -> bool:
    """One churn edit on tenant `t`; False when there was nothing to act on."""
    invoices, vouchers = t.coll("Invoice").values(), t.coll("Voucher").values()
    rec: dict | None = None
    if action == "contact":
        rec = _pick(rng, t.coll("Contact").values(), lambda c: True)
        if rec:
            edit(
                sb,
                t,
                "Contact",
                rec["id"],
                {"description": f"Geändert von Kollegin ({rng.randint(1, 9999)})"},
            )
    elif action == "address":
        rec = _pick(rng, t.coll("ContactAddress").values(), lambda a: True)
        if rec:
            edit(
                sb,
                t,
                "ContactAddress",
                rec["id"],
                {"street": f"{rng.choice(N.STREETS)} {rng.randint(1, 99)}"},
            )
    elif action == "new_contact":
        rec = t.header("Contact")
        rec.update(
            name=f"Neukunde {rng.randint(100, 999)} GmbH",
            status="1000",
            customerNumber=str(2000 + t.seq % 1000),
            category=ref("Category", 3),
            exemptVat="0",
            defaultDiscountPercentage="1",
            buyerReference="-",
            governmentAgency="0",
            defaultShowVat="1",
        )
        t.add(rec)
        sb.changed()
    elif action == "new_invoice":
        rec = _new_invoice(sb, t, rng)
    elif action in ("send_invoice", "delete_draft"):
        model = "Invoice" if action == "send_invoice" or rng.random() < 0.5 else "Voucher"
        rec = _pick(rng, t.coll(model).values(), lambda r: books.is_draft(model, r))
        if rec:
            edit(sb, t, model, rec["id"], action="send" if action == "send_invoice" else "delete")
    elif action in ("pay_invoice", "pay_voucher"):
        model = "Invoice" if action == "pay_invoice" else "Voucher"
        rec = _pick(rng, t.coll(model).values(), lambda r: r["status"] in books.open_statuses(model))
        if rec:
            part = books.total(rec) / 3 if rng.random() < 0.3 else None
            edit(sb, t, model, rec["id"], None if part is None else {"amount": str(books.money(part))}, "pay")
    elif action == "cancel_invoice":
        rec = _pick(rng, invoices, lambda r: r["status"] == "200" and r["invoiceType"] == "RE")
        if rec:
            edit(sb, t, "Invoice", rec["id"], action="cancel")
    elif action == "voucher_position":
        voucher = _pick(rng, vouchers, lambda r: r["status"] == "50")
        rec = voucher and next(iter(t.positions("Voucher", voucher["id"])), None)
        if rec:
            edit(sb, t, "VoucherPos", rec["id"], {"sumNet": dec(Decimal(rng.randint(500, 50000)) / 100)})
    elif action == "new_voucher":
        rec = _new_voucher(sb, t, rng)
    elif action == "bank_line":
        rec = _bank_line(t, rng)
        sb.changed()
    elif action == "delete_bank_line":
        rec = _pick(rng, t.listed("CheckAccountTransaction"), lambda x: x["status"] == "100")
        if rec:
            edit(sb, t, "CheckAccountTransaction", rec["id"], action="delete")
    elif action == "unbook":
        rec = _pick(rng, vouchers, lambda r: r["status"] == "1000" and not r.get("enshrined"))
        if rec:
            edit(sb, t, "Voucher", rec["id"], action="unbook")
    else:
        raise ValueError(f"unknown churn action {action!r}")
    return rec is not None


def _new_invoice(sb: Sandbox, t: TenantStore, rng: random.Random) -> dict | None:
    contact = _pick(rng, t.coll("Contact").values(), lambda c: c["category"]["id"] == "3" and c.get("name"))
    if contact is None:
        return None
    today = t.clock.now().date()
    stamp = t.now()
    inv = {**t.header("Invoice"), "invoiceNumber": None, "contact": ref("Contact", contact["id"])}
    template = next(iter(t.coll("Invoice").values()))
    for key, value in template.items():
        inv.setdefault(key, value)
    inv.pop("origin", None)
    inv.update(
        invoiceDate=fmt_date(today),
        deliveryDate=fmt_date(today),
        status="100",
        invoiceType="RE",
        payDate=None,
        sendDate=None,
        enshrined=None,
        sendType="0",
        paidAmount=0,
        taxType=None,
        taxRule=ref("TaxRule", 1),
        addressName=contact["name"],
        header="Rechnung",
    )
    inv.pop("taxSet", None)
    t.add(inv)
    books.sales_position(
        t,
        "Invoice",
        inv,
        0,
        name="Beratung",
        quantity=Decimal(rng.randint(1, 8)),
        price=Decimal(95),
        rate=19,
        unity=9,
        when=stamp,
    )
    books.recompute(t, "Invoice", inv)
    sb.changed()
    return inv


def _new_voucher(sb: Sandbox, t: TenantStore, rng: random.Random) -> dict | None:
    template = next((v for v in t.coll("Voucher").values() if v["creditDebit"] == "C"), None)
    if template is None:
        return None
    today = t.clock.now().date()
    rec = {**template, **t.header("Voucher")}
    rec.update(
        voucherDate=fmt_date(today),
        status="50",
        payDate=None,
        paidAmount=0,
        enshrined=None,
        description=f"ER-{today.year}-N{rng.randint(1000, 9999)}",
        taxType=None,
        taxRule=ref("TaxRule", 9),
        supplierName="Bürobedarf Nord KG",
        supplierNameAtSave="Bürobedarf Nord KG",
        paymentDeadline=fmt_date(today + timedelta(days=14)),
        deliveryDate=fmt_date(today),
    )
    rec.pop("taxSet", None)
    rec.pop("supplier", None)
    t.add(rec)
    books.voucher_position(
        t,
        rec,
        account=5012,
        rate=19,
        net=Decimal(rng.randint(1000, 30000)) / 100,
        comment="Büromaterial",
        legacy=False,
    )
    books.recompute(t, "Voucher", rec)
    sb.changed()
    return rec


def _bank_line(t: TenantStore, rng: random.Random) -> dict:
    stamp = fmt_ts(t.clock.now())
    amount = Decimal(rng.randint(-20000, 20000) or 7) / 100
    tx = books.new_bank_line(t, stamp, amount, "Überweisung", rng.choice(N.LAST), _bank(t), "100")
    return t.add(tx)

"""Edits "by another user": merge changes, pay, void, delete. Used by the operator API and by churn."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import TYPE_CHECKING

from .store import COLLECTIONS, TenantStore
from .util import fmt_day, money, num

if TYPE_CHECKING:
    from .app import Sandbox

PROTECTED = {"id", "organizationId", "version", "createdDate", "updatedDate"}
EVENT_PREFIX = {
    "contacts": "contact",
    "articles": "article",
    "invoices": "invoice",
    "credit_notes": "credit-note",
    "vouchers": "voucher",
}


class OperationError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def merge_patch(target: dict, patch: dict) -> None:
    """RFC 7386 JSON merge patch (null removes a key)."""
    for key, value in patch.items():
        if key in PROTECTED:
            continue
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_patch(target[key], value)
        else:
            target[key] = value


def _record(t: TenantStore, resource: str, rec_id: str) -> tuple[str, dict]:
    if resource not in COLLECTIONS:
        raise OperationError(400, f"unknown resource '{resource}'")
    kind = COLLECTIONS[resource]
    rec = getattr(t, kind).get(rec_id)
    if rec is None:
        raise OperationError(404, f"{resource} {rec_id} not found")
    return kind, rec


def edit(
    sb: Sandbox,
    t: TenantStore,
    resource: str,
    rec_id: str,
    changes: dict | None = None,
    action: str | None = None,
) -> dict | None:
    """Apply one edit; returns the new record (None after a delete)."""
    kind, rec = _record(t, resource, rec_id)
    event = EVENT_PREFIX[kind]
    if action is None:
        merge_patch(rec, changes or {})
        t.touch(rec)
        sb.changed(t, kind, rec_id, f"{event}.changed")
        return rec
    if action == "delete":
        undeletable = rec.get("voucherStatus") not in (None, "draft", "unchecked", "blank")
        if undeletable:  # master data (contacts, articles) has no status and can be deleted
            raise OperationError(409, f"only drafts can be deleted ({rec['voucherStatus']})")
        t.delete(kind, rec_id)
        sb.changed(t, kind, rec_id, f"{event}.deleted")
        return None
    if action == "pay":
        return pay(sb, t, kind, rec, (changes or {}).get("amount"))
    if action == "void":
        if kind == "contacts" or rec["voucherStatus"] not in ("open", "draft"):
            raise OperationError(409, "only open documents can be voided")
        rec["voucherStatus"] = "voided"
        t.touch(rec)
        sb.changed(t, kind, rec_id, f"{event}.changed", status_changed=True)
        return rec
    raise OperationError(400, f"unknown action '{action}'")


def pay(sb: Sandbox, t: TenantStore, kind: str, rec: dict, amount: object = None) -> dict:
    """Record a bank payment (full open amount unless `amount`); open -> paid/paidoff when settled."""
    if kind == "contacts" or rec["voucherStatus"] != "open":
        raise OperationError(409, "only open documents can be paid")
    open_amt = t.open_amount(rec, kind) or Decimal(0)
    paid = min(money(amount), open_amt) if amount is not None else open_amt
    if paid <= 0:
        raise OperationError(400, "nothing to pay")
    today = fmt_day(t.clock.today())
    entry = t.payments.setdefault(rec["id"], {"items": [], "paidDate": None})
    entry["items"].append(
        {
            "paymentItemType": "partPaymentFinancialTransaction",
            "postingDate": today,
            "amount": num(paid),
            "currency": "EUR",
        }
    )
    settled = paid >= open_amt
    if settled:
        credit = kind == "credit_notes" or rec.get("type", "").endswith("creditnote")
        rec["voucherStatus"], entry["paidDate"] = ("paidoff" if credit else "paid"), today
    t.touch(rec)
    sb.changed(t, kind, rec["id"], f"{EVENT_PREFIX[kind]}.changed", status_changed=settled, payment=True)
    return rec


def clone(
    sb: Sandbox, t: TenantStore, resource: str, template_id: str, count: int, changes: dict | None = None
) -> list[str]:
    """`count` copies of a record, created now like a migration import would: new ids, version 1, the
    next customer/vendor or RE/GS numbers, no linked vouchers, the template's payments; `changes` merged
    into each. Fires the `created` webhooks. Returns the new ids."""
    kind, template = _record(t, resource, template_id)
    numbers = {role: t.next_number(role) for role in ("customer", "vendor")}
    sequence = int(t.next_voucher_number("invoice" if kind == "invoices" else "creditnote")[2:])
    ids = []
    for _ in range(count):
        rec = copy.deepcopy(template)
        rec.update(id=sb.new_id(), version=1)
        if kind == "contacts":
            for role in rec["roles"]:
                rec["roles"][role] = {"number": numbers[role]}
                numbers[role] += 1
        else:
            rec["createdDate"] = rec["updatedDate"] = t.now()
        if kind in ("invoices", "credit_notes"):
            rec["voucherNumber"] = f"{'RE' if kind == 'invoices' else 'GS'}{sequence:05d}"
            rec["relatedVouchers"] = []
            sequence += 1
        merge_patch(rec, changes or {})
        getattr(t, kind)[rec["id"]] = rec
        if template_id in t.payments:
            t.payments[rec["id"]] = copy.deepcopy(t.payments[template_id])
        sb.changed(t, kind, rec["id"], f"{EVENT_PREFIX[kind]}.created")
        ids.append(rec["id"])
    return ids

"""In-memory books of one tenant: records as the API renders them, the voucherlist index, payments."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .masterdata import COUNTRIES, PAYMENT_CONDITIONS, POSTING_CATEGORIES
from .util import BERLIN, Clock, fmt_dt, num

COLLECTIONS = {
    "contacts": "contacts",
    "articles": "articles",
    "invoices": "invoices",
    "credit-notes": "credit_notes",
    "credit_notes": "credit_notes",
    "vouchers": "vouchers",
}
REVENUE_TYPES = {"invoice", "creditnote", "salesinvoice", "salescreditnote", "downpaymentinvoice"}
NO_PAYMENT_INFO = "No payment information for this voucher/voucher type"


@dataclass(slots=True)
class Entry:
    """One voucherlist row plus pre-computed filter and sort keys."""

    row: dict
    status: str
    due_day: str | None
    days: dict[str, str]  # voucherDate/createdDate/updatedDate -> Berlin yyyy-MM-dd
    keys: dict[str, object]  # sort property -> key


def _ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


class TenantStore:
    def __init__(self, name: str, api_key: str, plan: str, data: dict, clock: Clock) -> None:
        self.name, self.api_key, self.plan, self.clock = name, api_key, plan, clock
        self.organization_id: str = data["organizationId"]
        self.profile: dict = data["profile"]
        self.contacts: dict[str, dict] = {c["id"]: c for c in data["contacts"]}
        self.articles: dict[str, dict] = {a["id"]: a for a in data.get("articles", [])}
        self.invoices: dict[str, dict] = {r["id"]: r for r in data["invoices"]}
        self.credit_notes: dict[str, dict] = {r["id"]: r for r in data["credit_notes"]}
        self.vouchers: dict[str, dict] = {r["id"]: r for r in data["vouchers"]}
        self.payments: dict[str, dict] = data["payments"]
        self.files: dict[str, dict] = {
            k: {**v, "content": base64.b64decode(v["content"])} for k, v in data.get("files", {}).items()
        }
        self.subscriptions: dict[str, dict] = data.get("subscriptions", {})
        self._entries: dict[str, Entry] = {}
        self._sorted: dict[str, list[Entry]] = {}
        self._contacts_sorted: list[dict] | None = None
        for kind in ("invoices", "credit_notes", "vouchers"):
            for rec in getattr(self, kind).values():
                self._index(rec, kind)

    # ---- lookups -------------------------------------------------------------------------------
    def collection(self, resource: str) -> dict[str, dict]:
        return getattr(self, COLLECTIONS[resource])

    def kind_of(self, rec_id: str) -> str | None:
        for kind in ("invoices", "credit_notes", "vouchers", "contacts"):
            if rec_id in getattr(self, kind):
                return kind
        return None

    def document_by_file_id(self, file_id: str) -> dict | None:
        """The finalized invoice or credit note whose `files.documentFileId` is `file_id`."""
        for coll in (self.invoices, self.credit_notes):
            for rec in coll.values():
                if rec.get("files", {}).get("documentFileId") == file_id:
                    return rec
        return None

    def sorted_articles(self) -> list[dict]:
        """Articles by title (the order of the documented samples), ties by id."""
        return sorted(self.articles.values(), key=lambda a: (a["title"].casefold(), a["id"]))

    def sorted_contacts(self) -> list[dict]:
        if self._contacts_sorted is None:
            self._contacts_sorted = sorted(self.contacts.values(), key=_contact_sort_key)
        return self._contacts_sorted

    def next_number(self, role: str) -> int:
        base = 10000 if role == "customer" else 70000
        nums = [c["roles"][role]["number"] for c in self.contacts.values() if role in c["roles"]]
        return max(nums, default=base) + 1

    def next_voucher_number(self, kind: str) -> str:
        prefix, coll = ("RE", self.invoices) if kind == "invoice" else ("GS", self.credit_notes)
        nums = [int(r["voucherNumber"][2:]) for r in coll.values() if r["voucherNumber"][2:].isdigit()]
        return f"{prefix}{max(nums, default=0) + 1:05d}"

    # ---- mutation bookkeeping ------------------------------------------------------------------
    def now(self) -> str:
        return fmt_dt(self.clock.now())

    def touch(self, rec: dict) -> None:
        """Every change: version++ and updatedDate (contacts carry no dates)."""
        rec["version"] += 1
        if "updatedDate" in rec:
            rec["updatedDate"] = self.now()

    def changed(self, rec_id: str) -> None:
        kind = self.kind_of(rec_id)
        if kind == "contacts":
            self._contacts_sorted = None
            return
        self._entries.pop(rec_id, None)
        self._sorted.clear()
        if kind:
            self._index(getattr(self, kind)[rec_id], kind)

    def delete(self, kind: str, rec_id: str) -> None:
        getattr(self, kind).pop(rec_id)
        self.payments.pop(rec_id, None)
        self._entries.pop(rec_id, None)
        self._sorted.clear()
        self._contacts_sorted = None

    # ---- payments ------------------------------------------------------------------------------
    def open_amount(self, rec: dict, kind: str) -> Decimal | None:
        status = rec["voucherStatus"]
        if status in ("draft", "unchecked", "blank"):
            return None
        if status in ("paid", "paidoff", "voided"):
            return Decimal(0)
        total = _total(rec, kind)
        paid = sum(
            (Decimal(str(p["amount"])) for p in self.payments.get(rec["id"], {}).get("items", [])), Decimal(0)
        )
        return max(total - paid, Decimal(0))

    def payment_view(self, rec_id: str) -> dict | str | None:
        """GET /v1/payments/{id}: the body, an error text (406) or None (unknown id, 404)."""
        kind = self.kind_of(rec_id)
        if kind in (None, "contacts"):
            return None
        rec = getattr(self, kind)[rec_id]
        vtype = _voucher_type(rec, kind)
        if rec["voucherStatus"] in ("draft", "unchecked", "blank") or (
            kind == "credit_notes" and rec["relatedVouchers"]
        ):
            return NO_PAYMENT_INFO
        open_amt = self.open_amount(rec, kind)
        pay = self.payments.get(rec_id, {"items": [], "paidDate": None})
        body = {
            "openAmount": num(open_amt),
            "currency": "EUR",
            "paymentStatus": "balanced"
            if open_amt == 0
            else ("openRevenue" if vtype in REVENUE_TYPES else "openExpense"),
            "voucherType": vtype,
            "voucherStatus": rec["voucherStatus"],
        }
        if rec["voucherStatus"] in ("paid", "paidoff") and pay.get("paidDate"):
            body["paidDate"] = pay["paidDate"]
        body["paymentItems"] = pay["items"]
        return body

    # ---- voucherlist ---------------------------------------------------------------------------
    def _index(self, rec: dict, kind: str) -> None:
        vtype = _voucher_type(rec, kind)
        if kind == "vouchers":
            contact_id, name = rec.get("contactId"), rec.get("contactName")
        else:
            contact_id, name = rec["address"].get("contactId"), rec["address"].get("name")
        open_amt = self.open_amount(rec, kind)
        row = {
            "id": rec["id"],
            "voucherType": vtype,
            "voucherStatus": rec["voucherStatus"],
            "voucherNumber": rec.get("voucherNumber"),
            "voucherDate": rec.get("voucherDate"),
            "createdDate": rec["createdDate"],
            "updatedDate": rec["updatedDate"],
        }
        if rec.get("dueDate"):
            row["dueDate"] = rec["dueDate"]
        row.update(
            contactId=contact_id,
            contactName=name,
            totalAmount=num(_total(rec, kind)),
            openAmount=None if open_amt is None else num(open_amt),
            currency="EUR",
            archived=rec.get("archived", False),
        )
        days = {
            f: datetime.fromisoformat(row[f]).astimezone(BERLIN).strftime("%Y-%m-%d")
            for f in ("voucherDate", "createdDate", "updatedDate")
            if row.get(f)
        }
        keys = {
            "voucherdate": _ts(row["voucherDate"]) if row.get("voucherDate") else 0.0,
            "vouchernumber": row.get("voucherNumber") or "",
            "createddate": _ts(row["createdDate"]),
            "updateddate": _ts(row["updatedDate"]),
        }
        due = datetime.fromisoformat(row["dueDate"]).strftime("%Y-%m-%d") if row.get("dueDate") else None
        self._entries[rec["id"]] = Entry(row, rec["voucherStatus"], due, days, keys)

    def entries_sorted(self, prop: str, descending: bool) -> list[Entry]:
        cache_key = f"{prop}:{descending}"
        if cache_key not in self._sorted:
            self._sorted[cache_key] = sorted(
                self._entries.values(), key=lambda e: (e.keys[prop], e.row["id"]), reverse=descending
            )
        return self._sorted[cache_key]

    def render_entry(self, entry: Entry, today: str) -> dict:
        if entry.status in ("open", "sepadebit") and entry.due_day and entry.due_day < today:
            return {**entry.row, "voucherStatus": "overdue"}
        return entry.row

    def is_overdue(self, entry: Entry, today: str) -> bool:
        return entry.status in ("open", "sepadebit") and bool(entry.due_day) and entry.due_day < today

    # ---- export / persistence ------------------------------------------------------------------
    def export(self) -> dict:
        today = self.clock.today().isoformat()
        payments = {}
        for rec_id in list(self.invoices) + list(self.credit_notes) + list(self.vouchers):
            view = self.payment_view(rec_id)
            if isinstance(view, dict):
                payments[rec_id] = view
        return {
            "organizationId": self.organization_id,
            "profile": self.profile,
            "contacts": self.sorted_contacts(),
            "articles": self.sorted_articles(),
            "invoices": list(self.invoices.values()),
            "credit_notes": list(self.credit_notes.values()),
            "vouchers": list(self.vouchers.values()),
            "voucherlist": [self.render_entry(e, today) for e in self.entries_sorted("voucherdate", True)],
            "payments": payments,
            "posting_categories": POSTING_CATEGORIES,
            "countries": COUNTRIES,
            "payment_conditions": PAYMENT_CONDITIONS,
        }

    def dump(self) -> dict:
        return {
            "organizationId": self.organization_id,
            "profile": self.profile,
            "contacts": list(self.contacts.values()),
            "articles": list(self.articles.values()),
            "invoices": list(self.invoices.values()),
            "credit_notes": list(self.credit_notes.values()),
            "vouchers": list(self.vouchers.values()),
            "payments": self.payments,
            "subscriptions": self.subscriptions,
            "files": {
                k: {**v, "content": base64.b64encode(v["content"]).decode()} for k, v in self.files.items()
            },
        }


def _contact_sort_key(contact: dict) -> tuple[str, str]:
    if "company" in contact:
        name = contact["company"]["name"]
    else:
        name = f"{contact['person']['lastName']} {contact['person'].get('firstName', '')}"
    return (name.casefold(), contact["id"])


def _voucher_type(rec: dict, kind: str) -> str:
    return {"invoices": "invoice", "credit_notes": "creditnote"}.get(kind) or rec["type"]


def _total(rec: dict, kind: str) -> Decimal:
    if kind == "vouchers":
        return Decimal(str(rec["totalGrossAmount"]))
    return Decimal(str(rec["totalPrice"]["totalGrossAmount"]))

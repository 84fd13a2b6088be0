"""The /api/v1 routes: lists and records of every resource, and the writes the reference documents
(contacts, saveVoucher, drafts-only edits and deletes, bookAmount, sendBy, cancelInvoice, enshrine)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from sandbox.clock import BERLIN

from . import books
from .books import SevError, get
from .model import DOCUMENTS, RESOURCES, dec, fmt_date, ref
from .query import apply_filters, embed, page
from .seed import new_invoice
from .store import TenantStore

if TYPE_CHECKING:
    from .app import Sandbox

LISTED = [m for m in RESOURCES if m != "TaxRule"]  # tax rules: only the factory endpoint (reference §5.12)
PROTECTED = {"id", "objectName", "create", "update", "sevClient", "additionalInformation", "enshrined"}


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    tenant: TenantStore
    sb: Sandbox
    params: dict[str, str]


Handler = Callable[[Req], JSONResponse]
ROUTES: list[tuple[str, re.Pattern, Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    models = "|".join(LISTED)
    regex = pattern.replace("{model}", f"(?P<model>{models})").replace(
        "{doc}", "(?P<doc>Invoice|CreditNote|Voucher)"
    )
    regex = re.compile("^/api/v1" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex) + "/?$")

    def register(fn: Handler) -> Handler:
        ROUTES.append((method, regex, fn))
        return fn

    return register


def match(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    """The handler for a request; a route naming a resource wins over the generic `/{model}` ones."""
    for m, regex, fn in sorted(ROUTES, key=lambda route: "model" in route[1].groupindex):
        found = regex.match(path)
        if found and m == method:
            return fn, found.groupdict()
    return None


def ok(objects: Any, status: int = 200, **extra: Any) -> JSONResponse:
    return JSONResponse({**extra, "objects": objects}, status_code=status)


def error_body(err: SevError) -> JSONResponse:
    """The live error envelope (reference §7.1); `responseCode` is the logical status even in HTTP 200."""
    body = {
        "error": {
            "exceptionUUID": str(uuid.uuid4()),
            "message": err.message,
            "errorCode": 0,
            "code": err.code,
            "data": [],
            "responseCode": err.status,
        },
        "objects": None,
    }
    return JSONResponse(body, status_code=err.http)


# ---- reads ------------------------------------------------------------------------------------------
@route("GET", "/{model}")
def list_records(r: Req) -> JSONResponse:
    model = r.params["model"]
    rows, extra = page(apply_filters(model, r.tenant.listed(model), r.query), r.query)
    return ok([embed(r.tenant, row, r.query.get("embed")) for row in rows], **extra)


@route("GET", "/{model}/{id}")
def get_record(r: Req) -> JSONResponse:
    """An array of one, even for a single record; deleted transactions stay readable with `deletedAt`."""
    rec = get(r.tenant, r.params["model"], r.params["id"])
    return ok([embed(r.tenant, rec, r.query.get("embed"))])


@route("GET", "/Invoice/{id}/getPositions")
def invoice_positions(r: Req) -> JSONResponse:
    get(r.tenant, "Invoice", r.params["id"])
    rows, extra = page(r.tenant.positions("Invoice", r.params["id"]), r.query)
    return ok([embed(r.tenant, p, r.query.get("embed")) for p in rows], **extra)


@route("GET", "/Invoice/{id}/getIsPartiallyPaid")
def is_partially_paid(r: Req) -> JSONResponse:
    return ok(get(r.tenant, "Invoice", r.params["id"])["status"] == "750")


@route("GET", "/{doc}/{id}/getCheckAccountTransactionLogs")
def document_logs(r: Req) -> JSONResponse:
    get(r.tenant, r.params["doc"], r.params["id"])
    logs = [
        g
        for g in r.tenant.children("CheckAccountTransactionLog", r.params["id"])
        if g["object"]["objectName"] == r.params["doc"]
    ]
    return ok([embed(r.tenant, g, r.query.get("embed")) for g in logs])


@route("GET", "/Tools/bookkeepingSystemVersion")
def bookkeeping_version(r: Req) -> JSONResponse:
    return ok({"version": "2.0"})


@route("GET", "/TaxRule/Factory/getTaxRulesForCountry")
def tax_rules(r: Req) -> JSONResponse:
    return ok(r.tenant.listed("TaxRule"))


@route("GET", "/Contact/Factory/getNextCustomerNumber")
def next_customer_number(r: Req) -> JSONResponse:
    numbers = [
        int(c["customerNumber"])
        for c in r.tenant.coll("Contact").values()
        if (c.get("customerNumber") or "").isdigit()
    ]
    return ok(str(max(numbers, default=1000) + 1))


@route("GET", "/Contact/Mapper/checkCustomerNumberAvailability")
def customer_number_available(r: Req) -> JSONResponse:
    if "customerNumber" not in r.query:
        raise SevError(500, "Internal server error")  # as observed without the parameter
    taken = any(
        c.get("customerNumber") == r.query["customerNumber"] for c in r.tenant.coll("Contact").values()
    )
    return ok(not taken)


# ---- writes: contacts and their children -----------------------------------------------------------
def normalise(value: Any) -> Any:
    """Request values as the API stores them: references with string ids, numbers and booleans as strings."""
    if isinstance(value, dict) and "id" in value and "objectName" in value:
        return ref(value["objectName"], value["id"])
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return dec(value) if isinstance(value, float) else str(value)
    return value


def _merge(t: TenantStore, rec: dict, body: Any) -> None:
    if not isinstance(body, dict):
        raise SevError(400, "Request body must be an object")
    for key, value in body.items():
        if key in PROTECTED or key == "mapAll":
            continue
        if value is None and isinstance(rec.get(key), dict):
            rec.pop(key)
        else:
            rec[key] = normalise(value)
    t.touch(rec)


CONTACT_DEFAULTS = dict.fromkeys(
    (
        "name",
        "customerNumber",
        "surename",
        "familyname",
        "titel",
        "description",
        "academicTitle",
        "gender",
        "name2",
        "birthday",
        "vatNumber",
        "bankAccount",
        "bankNumber",
        "mandateReference",
        "defaultCashbackTime",
        "defaultCashbackPercent",
        "defaultTimeToPay",
        "taxNumber",
        "taxOffice",
        "taxType",
        "defaultDiscountAmount",
    )
)
CHILD_REQUIRED = {
    "Contact": ("category",),
    "ContactAddress": ("contact", "country", "category"),
    "CommunicationWay": ("contact", "type", "value", "key"),
}


@route("POST", "/{model}")
def create(r: Req) -> JSONResponse:
    model = r.params["model"]
    if model not in CHILD_REQUIRED:
        raise SevError(405, f"{model} cannot be created with POST /{model}")
    body = r.body if isinstance(r.body, dict) else {}
    missing = [f for f in CHILD_REQUIRED[model] if f not in body]
    if missing:
        raise SevError(400, f"Missing required field(s) for Model_{model}: {', '.join(missing)}")
    if model != "Contact":
        get(r.tenant, "Contact", str(body["contact"]["id"]))
    rec = r.tenant.header(model)
    if model == "Contact":
        rec.update(
            CONTACT_DEFAULTS,
            status="100",
            exemptVat="0",
            defaultDiscountPercentage="1",
            buyerReference=None,
            governmentAgency="0",
            defaultShowVat="1",
        )
    elif model == "CommunicationWay":
        rec["main"] = "0"
    _merge(r.tenant, rec, body)
    r.tenant.add(rec)
    r.sb.changed()
    return ok(rec, 201)


@route("PUT", "/{model}/{id}")
def update(r: Req) -> JSONResponse:
    """Partial update: only the fields sent change; documents only as drafts (reference §6.2)."""
    model, t = r.params["model"], r.tenant
    rec = get(t, model, r.params["id"])
    if model in DOCUMENTS:
        books.check_lock(model, rec)
        if not books.is_draft(model, rec):
            raise SevError(400, f"Only draft {model.lower()}s can be updated; use resetToDraft first", 90400)
        if isinstance(r.body, dict) and "status" in r.body:
            raise SevError(400, "You can not change the status using this endpoint")
    elif model not in CHILD_REQUIRED and model != "Part":
        raise SevError(405, f"{model} cannot be changed with PUT")
    _merge(t, rec, r.body)
    r.sb.changed()
    return ok(rec, 201 if model == "ContactAddress" else 200)


@route("DELETE", "/{model}/{id}")
def remove(r: Req) -> JSONResponse:
    model = r.params["model"]
    if model not in (*DOCUMENTS, "Contact", "ContactAddress", "CommunicationWay", "CheckAccountTransaction"):
        raise SevError(405, f"{model} cannot be deleted")
    books.delete(r.tenant, model, r.params["id"])
    r.sb.changed()
    return ok([None])


# ---- writes: documents ------------------------------------------------------------------------------
def parse_day(value: Any) -> date:
    """Document dates come as dd.mm.yyyy, unix seconds or ISO (reference §2.3)."""
    text = str(value)
    try:
        if re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", text):
            d, m, y = text.split(".")
            return date(int(y), int(m), int(d))
        if re.fullmatch(r"-?\d+", text):
            return datetime.fromtimestamp(int(text), UTC).astimezone(BERLIN).date()
        return (
            datetime.fromisoformat(text).astimezone(BERLIN).date()
            if "T" in text
            else date.fromisoformat(text)
        )
    except ValueError:
        raise SevError(400, f"Invalid date: {text}") from None


def amount(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise SevError(400, f"Invalid amount in {field}: {value!r}") from None


@route("POST", "/Voucher/Factory/saveVoucher")
def save_voucher(r: Req) -> JSONResponse:
    t, body = r.tenant, r.body if isinstance(r.body, dict) else {}
    data = body.get("voucher")
    if not isinstance(data, dict):
        raise SevError(400, "Missing voucher")
    status = str(data.get("status", "50"))
    if data.get("id"):
        voucher = get(t, "Voucher", str(data["id"]))
        books.check_lock("Voucher", voucher)
        if voucher["status"] != "50":
            raise SevError(400, "Voucher is not a draft. Use resetToDraft first", 90400)
    else:
        for field in ("creditDebit", "voucherType"):
            if field not in data:
                raise SevError(400, f"Missing required field voucher.{field}")
        if "taxRule" not in data:
            raise SevError(422, "A taxRule is required with sevdesk-Update 2.0")
        voucher = books.new_voucher(t)
    if status not in ("50", "100"):
        raise SevError(422, "New vouchers can only be saved with status 50 or 100")
    for key in ("voucherDate", "deliveryDate", "paymentDeadline"):
        if data.get(key) is not None:
            data = {**data, key: fmt_date(parse_day(data[key]))}
    _merge(t, voucher, {k: v for k, v in data.items() if k != "status"})
    voucher["status"] = status
    if "supplier" in voucher and "supplierName" not in data:
        contact = t.coll("Contact").get(voucher["supplier"]["id"])
        voucher["supplierName"] = voucher["supplierNameAtSave"] = contact and contact.get("name")
    t.add(voucher)
    for gone in body.get("voucherPosDelete") or []:
        pos = t.coll("VoucherPos").get(str(gone.get("id")))
        if pos and pos["voucher"]["id"] == voucher["id"]:
            t.remove("VoucherPos", pos["id"])
    saved = [_save_position(t, voucher, p) for p in body.get("voucherPosSave") or []]
    if saved:  # the total is recomputed from the positions of this call only (reference §6.2)
        net = sum((Decimal(p["sumNet"]) for p in saved), Decimal(0))
        tax = sum((Decimal(p["sumTax"]) for p in saved), Decimal(0))
        voucher.update(
            sumNet=dec(net),
            sumTax=dec(tax),
            sumGross=dec(net + tax),
            sumNetAccounting=dec(net),
            sumTaxAccounting=dec(tax),
            sumGrossAccounting=dec(net + tax),
        )
    r.sb.changed()
    return ok({"voucher": voucher, "voucherPos": t.positions("Voucher", voucher["id"])}, 201)


def _save_position(t: TenantStore, voucher: dict, data: dict) -> dict:
    if "taxRate" not in data or not ({"sumNet", "sumGross"} & data.keys()):
        raise SevError(400, "A voucher position needs taxRate and sumNet or sumGross")
    if "accountDatev" not in data and "accountingType" not in data:
        raise SevError(400, "A voucher position needs accountDatev")
    rate = amount(data["taxRate"], "taxRate")
    net_given = str(data.get("net", "1")) in ("1", "True", "true")
    if net_given or "sumGross" not in data:
        net = amount(data.get("sumNet", 0), "sumNet")
    else:
        net = amount(data["sumGross"], "sumGross") / (1 + rate / 100)
    if data.get("id"):
        pos = get(t, "VoucherPos", str(data["id"]))
        t.remove("VoucherPos", pos["id"])
    account = int(data.get("accountDatev", {}).get("id", 0)) if "accountDatev" in data else 0
    fresh = books.voucher_position(
        t,
        voucher,
        account=account,
        rate=int(rate),
        net=net,
        comment=data.get("comment"),
        legacy="accountDatev" not in data,
    )
    if data.get("id"):  # keep the position's identity and creation time
        t.remove("VoucherPos", fresh["id"])
        fresh.update(id=pos["id"], create=pos["create"])
        t.add(fresh)
    return fresh


@route("POST", "/Invoice/Factory/saveInvoice")
def save_invoice(r: Req) -> JSONResponse:
    """Invoices are created only as drafts (100); an update (with `invoice.id`) only of a draft."""
    t, body = r.tenant, r.body if isinstance(r.body, dict) else {}
    data = body.get("invoice")
    if not isinstance(data, dict):
        raise SevError(400, "Missing invoice")
    if str(data.get("status", "100")) != "100":
        raise SevError(422, "Invoices can only be created as draft (status 100)")
    day = parse_day(data["invoiceDate"]) if data.get("invoiceDate") else t.clock.now().date()
    if data.get("id"):
        inv = get(t, "Invoice", str(data["id"]))
        books.check_lock("Invoice", inv)
        if not books.is_draft("Invoice", inv):
            raise SevError(400, "Only draft invoices can be saved; use resetToDraft first")
    else:
        contact = get(t, "Contact", str((data.get("contact") or {}).get("id")))
        inv = new_invoice(t, contact, day, t.clock.now(), int((data.get("taxRule") or {}).get("id", 1)))
        inv["createUser"] = ref("SevUser", 700001)
    dates = {
        k: fmt_date(parse_day(data[k]))
        for k in ("invoiceDate", "deliveryDate", "deliveryDateUntil")
        if data.get(k) is not None
    }
    _merge(t, inv, {k: v for k, v in {**data, **dates}.items() if k not in ("status", "invoiceNumber")})
    t.add(inv)
    for gone in body.get("invoicePosDelete") or []:
        pos = t.coll("InvoicePos").get(str(gone.get("id")))
        if pos and pos["invoice"]["id"] == inv["id"]:
            t.remove("InvoicePos", pos["id"])
    for n, item in enumerate(body.get("invoicePosSave") or []):
        if item.get("id"):
            t.remove("InvoicePos", get(t, "InvoicePos", str(item["id"]))["id"])
        rate = int(amount(item.get("taxRate", 0), "taxRate"))
        price = amount(item.get("price", 0), "price")
        if inv["showNet"] == "0":  # gross prices: sevDesk derives the net
            price = price / (1 + Decimal(rate) / 100)
        books.sales_position(
            t,
            "Invoice",
            inv,
            int(item.get("positionNumber", n)),
            name=item.get("name") or "",
            quantity=amount(item.get("quantity", 1), "quantity"),
            price=price,
            rate=rate,
            unity=int((item.get("unity") or {}).get("id", 1)),
            text=item.get("text"),
            part=(item.get("part") or {}).get("id"),
        )
    books.recompute(t, "Invoice", inv)
    r.sb.changed()
    return ok({"invoice": inv, "invoicePos": t.positions("Invoice", inv["id"])}, 201)


@route("POST", "/CheckAccountTransaction")
def create_transaction(r: Req) -> JSONResponse:
    """Only online accounts take new bank lines (reference §5.9, live error fixture)."""
    t, body = r.tenant, r.body if isinstance(r.body, dict) else {}
    account = t.coll("CheckAccount").get(str((body.get("checkAccount") or {}).get("id")))
    if account is None:
        raise SevError(400, "A valid checkAccount is required")
    if account["type"] != "online":
        raise SevError(
            422,
            "You can only create transactions on online checkaccounts. Use document "
            "bookAmount to create transactions on other types.",
        )
    stamp = t.now()
    tx = t.header("CheckAccountTransaction", stamp, stamp)
    tx.update(
        valueDate=str(body.get("valueDate") or stamp),
        entryDate=str(body.get("entryDate") or body.get("valueDate") or stamp),
        amount=dec(amount(body.get("amount"), "amount")),
        feeAmount=None,
        gvCode=None,
        entryText=body.get("entryText"),
        primaNotaNo=None,
        paymtPurpose=body.get("paymtPurpose"),
        payeePayerBankCode=None,
        payeePayerAcctNo=body.get("payeePayerAcctNo"),
        payeePayerName=body.get("payeePayerName"),
        checkAccount=ref("CheckAccount", account["id"]),
        status=str(body.get("status", 100)),
        score=None,
        compareHash=None,
        enshrined=None,
        obonoReceiptUuid=None,
        externalId=body.get("externalId"),
        deletedAt=None,
        restoredAt=None,
    )
    t.add(tx)
    r.sb.changed()
    return ok(tx, 201)


@route("PUT", "/{doc}/{id}/enshrine")
def do_enshrine(r: Req) -> JSONResponse:
    books.enshrine(r.tenant, r.params["doc"], get(r.tenant, r.params["doc"], r.params["id"]))
    r.sb.changed()
    return ok(None)


@route("PUT", "/{doc}/{id}/resetToOpen")
def reset_to_open(r: Req) -> JSONResponse:
    doc = get(r.tenant, r.params["doc"], r.params["id"])
    books.unbook(r.tenant, r.params["doc"], doc)
    r.sb.changed()
    return ok(doc)


@route("PUT", "/{doc}/{id}/resetToDraft")
def reset_to_draft(r: Req) -> JSONResponse:
    model = r.params["doc"]
    doc = get(r.tenant, model, r.params["id"])
    books.check_lock(model, doc)
    if (model == "Voucher" and doc["status"] != "100") or (model != "Voucher" and doc["status"] != "200"):
        raise SevError(422, f"{model} {doc['id']} cannot be reset to draft in status {doc['status']}")
    doc["status"] = "50" if model == "Voucher" else "100"
    r.tenant.touch(doc)
    r.sb.changed()
    return ok(doc)


@route("PUT", "/{doc}/{id}/bookAmount")
def book_amount(r: Req) -> JSONResponse:
    model, t = r.params["doc"], r.tenant
    doc = get(t, model, r.params["id"])
    body = r.body if isinstance(r.body, dict) else {}
    account = (body.get("checkAccount") or {}).get("id")
    if account is None or str(account) not in t.coll("CheckAccount"):
        raise SevError(400, "A valid checkAccount is required")
    from_status = doc["status"]  # enshrined documents are still booked (sendBy enshrines every invoice)
    linked = (body.get("checkAccountTransaction") or {}).get("id")
    existing = get(t, "CheckAccountTransaction", str(linked)) if linked is not None else None
    value = abs(amount(body.get("amount"), "amount"))
    books.book(t, model, doc, value, r.sb.clock.now(), str(account), existing=existing)
    log_model = {"Invoice": "InvoiceLog", "CreditNote": "CreditNoteLog", "Voucher": "VoucherLog"}[model]
    log = t.header(log_model)
    log.pop("update")
    field = model[0].lower() + model[1:]
    log.update(
        {
            field: ref(model, doc["id"]),
            "fromStatus": from_status,
            "toStatus": doc["status"],
            "amountPayed": dec(abs(amount(body.get("amount"), "amount"))),
            "bookingDate": t.now(),
        }
    )
    r.sb.changed()
    return ok(log)


@route("PUT", "/Invoice/{id}/sendBy")
def send_by(r: Req) -> JSONResponse:
    inv = get(r.tenant, "Invoice", r.params["id"])
    if not (isinstance(r.body, dict) and r.body.get("sendType")):
        raise SevError(400, "sendType is required")
    books.send(r.tenant, "Invoice", inv, r.sb.clock.now())
    inv["sendType"] = str(r.body["sendType"])
    r.sb.changed()
    return ok(inv)


@route("POST", "/Invoice/{id}/cancelInvoice")
def cancel(r: Req) -> JSONResponse:
    sr = books.cancel_invoice(r.tenant, get(r.tenant, "Invoice", r.params["id"]), r.sb.clock.now())
    r.sb.changed()
    return ok(sr, 201)

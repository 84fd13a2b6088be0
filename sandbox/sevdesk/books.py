"""Bookkeeping rules of the emulator: building documents with their positions and sums, payments as
bank-transaction links, sending, cancelling (SR invoices), enshrining and deleting. Used by the seed,
the /api/v1 routes, the operator API and the churn, so all of them change the books the same way."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from .model import DOCUMENTS, PARENT_FIELD, dec, fmt_date, fmt_ts, money, number, ref
from .store import TenantStore

LEGACY_UNTIL = date(2025, 1, 1)  # documents dated before: bookkeeping system 1.0 (taxType, accountingType)


class SevError(Exception):
    """An API error: HTTP status, sevDesk `error.code`, message; `http` overrides the HTTP status
    (errors sent with HTTP 200, reference §7.1)."""

    def __init__(self, status: int, message: str, code: int | None = None, http: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.http = status, code, message, http or status


def not_found(model: str, rec_id: str) -> SevError:
    return SevError(404, f"No Model_{model} with the id {rec_id} was found", 151)


def get(t: TenantStore, model: str, rec_id: str) -> dict:
    rec = t.coll(model).get(str(rec_id))
    if rec is None:
        raise not_found(model, rec_id)
    return rec


def tax_fields(day: date, rule: int) -> dict:
    """1.0 documents carry `taxType`, 2.0 documents `taxRule` (and `taxType: null`)."""
    if day < LEGACY_UNTIL:
        return {"taxType": "default" if rule in (1, 9) else ("eu" if rule == 3 else "ss"), "taxSet": None}
    return {"taxType": None, "taxRule": ref("TaxRule", rule)}


VOUCHER_FIELDS: dict = dict(
    supplierName=None,
    description=None,
    resultDisdar=None,
    payDate=None,
    status="50",
    currency="EUR",
    sumNet="0",
    sumTax="0",
    sumGross="0",
    sumNetAccounting="0",
    sumTaxAccounting="0",
    sumGrossAccounting="0",
    showNet="1",
    paidAmount=0,
    taxType=None,
    creditDebit="C",
    hidden="0",
    voucherType="VOU",
    recurringIntervall=None,
    recurringInterval=None,
    recurringStartDate=None,
    recurringNextVoucher=None,
    recurringLastVoucher=None,
    recurringEndDate=None,
    enshrined=None,
    sendType=None,
    inSource=None,
    iban=None,
    accountingSpecialCase=None,
    paymentDeadline=None,
    tip="0",
    mileageRate="0",
    selectedForPaymentFile="0",
    supplierNameAtSave=None,
    taxmaroStockAccount=None,
    vatNumber=None,
    deliveryDate=None,
    deliveryDateUntil=None,
    sumDiscountNet="0",
    sumDiscountGross="0",
    sumNetForeignCurrency="0",
    sumTaxForeignCurrency="0",
    sumGrossForeignCurrency="0",
    sumDiscountNetForeignCurrency="0",
    sumDiscountGrossForeignCurrency="0",
)  # a new Voucher's fields after its header, in sevDesk's order (a draft of zero until positions)


def new_voucher(t: TenantStore, stamp: str | None = None, **fields: object) -> dict:
    """A Voucher record (not yet added): header, `VOUCHER_FIELDS` with `fields` over them."""
    rec = t.header("Voucher", stamp, stamp) if stamp else t.header("Voucher")
    rec.update(createUser=ref("SevUser", 700001), voucherDate=fmt_date(t.clock.now().date()))
    rec.update(VOUCHER_FIELDS)
    rec.update(fields)
    return rec


def new_bank_line(
    t: TenantStore, stamp: str, amount: Decimal, purpose: str, payee: str | None, account_id: str, status: str
) -> dict:
    """A CheckAccountTransaction (not yet added) on `account_id`: 100 unmatched, 400 booked."""
    tx = t.header("CheckAccountTransaction", stamp, stamp)
    tx.update(
        valueDate=stamp,
        entryDate=stamp,
        amount=dec(amount),
        feeAmount=None,
        gvCode=None,
        entryText=None,
        primaNotaNo=None,
        paymtPurpose=purpose,
        payeePayerBankCode=None,
        payeePayerAcctNo=None,
        payeePayerName=payee,
        checkAccount=ref("CheckAccount", account_id),
        status=status,
        score=None,
        compareHash=None,
        enshrined=None,
        obonoReceiptUuid=None,
        externalId=None,
        deletedAt=None,
        restoredAt=None,
    )
    return tx


# ---- positions and sums ------------------------------------------------------------------------------
def line_sums(net: Decimal, rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    tax = money(net * rate / 100)
    return money(net), tax, money(net) + tax


def sales_position(
    t: TenantStore,
    model: str,
    doc: dict,
    n: int,
    *,
    name: str,
    quantity: Decimal,
    price: Decimal,
    rate: int,
    unity: int,
    part: str | None = None,
    text: str | None = None,
    when: str | None = None,
) -> dict:
    """An InvoicePos / CreditNotePos with a net unit price."""
    pos_model = DOCUMENTS[model]
    net, tax, gross = line_sums(price * quantity, Decimal(rate))
    rec = t.header(pos_model, when, when)
    rec[PARENT_FIELD[pos_model]] = ref(model, doc["id"])
    if part:
        rec["part"] = ref("Part", part)
    price_tax = money(price * rate / 100)
    rec.update(
        quantity=dec(quantity),
        price=dec(price),
        priceNet=dec(price),
        priceTax=dec(price_tax),
        priceGross=dec(price + price_tax),
        name=name,
        unity=ref("Unity", unity),
        positionNumber=str(n),
        text=text,
        discount="0",
        taxRate=str(rate),
        sumNet=dec(net),
        sumTax=dec(tax),
        sumGross=dec(gross),
        sumDiscount="0",
    )
    if pos_model == "InvoicePos":
        rec.update(
            sumNetAccounting=dec(net),
            sumTaxAccounting=dec(tax),
            sumGrossAccounting=dec(gross),
            sumNetForeignCurrency="0",
            sumTaxForeignCurrency="0",
            sumGrossForeignCurrency="0",
            isPercentage="1",
            discountedValue="0",
            priority="100",
            temporary="0",
            createNextPart="0",
        )
    else:
        rec["optional"] = "0"
    return t.add(rec)


def voucher_position(
    t: TenantStore,
    voucher: dict,
    *,
    account: int,
    rate: int,
    net: Decimal,
    comment: str,
    legacy: bool,
    when: str | None = None,
) -> dict:
    net, tax, gross = line_sums(net, Decimal(rate))
    rec = t.header("VoucherPos", when, when)
    rec["voucher"] = ref("Voucher", voucher["id"])
    if legacy:
        kind = "expense" if voucher["creditDebit"] == "C" else "revenue"
        rec["accountingType"] = ref("AccountingType", {"expense": 26, "revenue": 20}[kind])
    else:
        rec["accountDatev"] = ref("AccountDatev", account)
    rec.update(
        taxRate=str(rate),
        sum=None,
        net="1",
        isAsset="0",
        assetMemoValue="0",
        sumNet=dec(net),
        sumTax=dec(tax),
        sumGross=dec(gross),
        sumNetAccounting=dec(net),
        sumTaxAccounting=dec(tax),
        sumGrossAccounting=dec(gross),
        comment=comment,
        isGwg="0",
        cateringTaxRate=None,
        cateringTip="0",
        specialAccountingField1=None,
        specialAccountingField2=None,
        specialAccountingField3=None,
        specialAccountingField4=None,
        specialAccountingField5=None,
        isPercentage="1",
        discountedValue="0",
        sumNetForeignCurrency="0",
        sumTaxForeignCurrency="0",
        sumGrossForeignCurrency="0",
        sumDiscountForeignCurrency="0",
        createNextPart=None,
    )
    return t.add(rec)


def recompute(t: TenantStore, model: str, doc: dict) -> None:
    """Document totals = sum of its positions (negated for an SR cancellation)."""
    net = tax = Decimal(0)
    for pos in t.positions(model, doc["id"]):
        net += Decimal(pos["sumNet"])
        tax += Decimal(pos["sumTax"])
    sign = -1 if doc.get("invoiceType") == "SR" else 1
    totals = {"sumNet": dec(sign * net), "sumTax": dec(sign * tax), "sumGross": dec(sign * (net + tax))}
    doc.update(totals)
    if "sumNetAccounting" in doc:
        doc.update({f"{k}Accounting": v for k, v in totals.items()})


def total(doc: dict) -> Decimal:
    return Decimal(doc["sumGross"])


# ---- payments ---------------------------------------------------------------------------------------
def payment_sign(model: str, doc: dict) -> int:
    """Money in for invoices and revenue vouchers (D), out for credit notes and expense vouchers (C)."""
    if model == "CreditNote" or (model == "Voucher" and doc["creditDebit"] == "C"):
        return -1
    return 1


def paid_so_far(t: TenantStore, model: str, doc_id: str) -> Decimal:
    logs = t.children("CheckAccountTransactionLog", doc_id)
    return sum(
        (abs(Decimal(str(g["amountPaid"]))) for g in logs if g["object"]["objectName"] == model), Decimal(0)
    )


def open_statuses(model: str) -> set[str]:
    return {"100", "750"} if model == "Voucher" else {"200", "750"}


def book(
    t: TenantStore,
    model: str,
    doc: dict,
    amount: Decimal | None,
    when: datetime,
    account_id: str,
    purpose: str | None = None,
    existing: dict | None = None,
) -> dict:
    """bookAmount: a bank transaction on `account_id` (or the `existing` unbooked one, then booked: 400)
    linked to the document (a CheckAccountTransactionLog); the document becomes partially paid (750) or
    paid (1000). Returns the transaction."""
    if doc["status"] not in open_statuses(model):
        code = 751 if model == "Voucher" else 750
        raise SevError(422, f"{model} {doc['id']} cannot be booked in status {doc['status']}", code)
    due = total(doc) - paid_so_far(t, model, doc["id"])
    amount = min(money(abs(amount)), due) if amount is not None else due
    if amount <= 0:
        raise SevError(422, "nothing to book", 750)
    stamp = fmt_ts(when)
    signed = payment_sign(model, doc) * amount
    name = doc.get("addressName") or doc.get("supplierName") or ""
    doc_number = doc.get("invoiceNumber") or doc.get("creditNoteNumber") or doc.get("description") or ""
    if existing is not None:
        if existing["status"] != "100" or existing["deletedAt"]:
            raise SevError(422, f"CheckAccountTransaction {existing['id']} is already booked")
        existing["status"] = "400"
        t.touch(existing, stamp)
    tx = existing or new_bank_line(
        t, stamp, signed, purpose or f"{doc_number} {name}".strip(), name or None, account_id, "400"
    )
    t.add(tx)
    log = t.header("CheckAccountTransactionLog", stamp, stamp)
    del log["update"]  # the log carries `create` only
    log.update(
        checkAccountTransaction=ref("CheckAccountTransaction", tx["id"]),
        fromStatus="100",
        toStatus="400",
        amountPaid=number_signed(signed),
        bookingDate=stamp,
        object=ref(model, doc["id"]),
    )
    log["sevClient"] = log.pop("sevClient")
    t.add(log)
    paid = paid_so_far(t, model, doc["id"])
    doc["status"] = "1000" if paid >= total(doc) else "750"
    if "paidAmount" in doc:
        doc["paidAmount"] = number(paid)
    doc["payDate"] = stamp
    t.touch(doc, stamp)
    return tx


def number_signed(value: Decimal) -> int | float:
    return -number(-value) if value < 0 else number(value)


def unbook(t: TenantStore, model: str, doc: dict) -> None:
    """resetToOpen: the bookings are taken back; their transactions return to 100, the logs vanish."""
    check_lock(model, doc)
    for log in t.children("CheckAccountTransactionLog", doc["id"]):
        t.remove("CheckAccountTransactionLog", log["id"])
        tx = t.coll("CheckAccountTransaction").get(log["checkAccountTransaction"]["id"])
        if tx is not None:
            tx["status"] = "100"
            t.touch(tx)
    doc["status"] = "100" if model == "Voucher" else "200"
    if "paidAmount" in doc:
        doc["paidAmount"] = 0
    doc["payDate"] = None
    t.touch(doc)


# ---- life cycle -------------------------------------------------------------------------------------
def check_lock(model: str, doc: dict) -> None:
    if doc.get("enshrined"):
        raise SevError(422, f"{model} {doc['id']} is enshrined and cannot be changed")


def is_draft(model: str, doc: dict) -> bool:
    return doc["status"] == ("50" if model == "Voucher" else "100")


def next_number(t: TenantStore, model: str) -> str:
    field, prefix = ("invoiceNumber", "RE-") if model == "Invoice" else ("creditNoteNumber", "GU-")
    if model not in t.numbers:
        t.numbers[model] = max(
            (
                int(r[field][3:])
                for r in t.coll(model).values()
                if (r.get(field) or "").startswith(prefix) and r[field][3:].isdigit()
            ),
            default=1000,
        )
    t.numbers[model] += 1
    return f"{prefix}{t.numbers[model]}"


def send(t: TenantStore, model: str, doc: dict, when: datetime) -> None:
    """sendBy VPDF: a draft gets its number, goes to 200 (open) and is enshrined."""
    if not is_draft(model, doc):
        raise SevError(422, f"{model} {doc['id']} was already sent")
    stamp = fmt_ts(when)
    number_field = "invoiceNumber" if model == "Invoice" else "creditNoteNumber"
    if not doc.get(number_field):
        doc[number_field] = next_number(t, model)
    doc.update(status="200", sendDate=stamp, sendType="VPDF", enshrined=stamp)
    t.touch(doc, stamp)


def enshrine(t: TenantStore, model: str, doc: dict) -> None:
    """Irreversible (GoBD); a second call leaves the first timestamp."""
    minimum = 100 if model == "Voucher" else 200
    if int(doc["status"]) < minimum:
        raise SevError(422, f"{model} {doc['id']} must have status >= {minimum} to be enshrined")
    if not doc.get("enshrined"):
        doc["enshrined"] = t.now()
        t.touch(doc, doc["enshrined"])


def cancel_invoice(t: TenantStore, inv: dict, when: datetime) -> dict:
    """cancelInvoice: a new SR invoice with negative sums and `origin` -> the original, which goes to 1000
    with paidAmount 0 (reference §5.4). A partly paid invoice: error 390 inside HTTP 200."""
    if inv.get("invoiceType") == "SR" or any(
        r.get("origin", {}).get("id") == inv["id"] for r in t.coll("Invoice").values()
    ):
        raise SevError(422, "Invoice has already been cancelled", 421)
    if inv["status"] == "750":
        raise SevError(422, "Invoice is partially paid; book a credit note instead", 390, http=200)
    if inv["status"] == "1000":
        raise SevError(422, "Invoice is already paid", 750)
    if is_draft("Invoice", inv):
        raise SevError(422, "A draft cannot be cancelled; delete it instead")
    stamp = fmt_ts(when)
    sr = {**inv, **t.header("Invoice", stamp, stamp)}
    sr.update(
        invoiceNumber=next_number(t, "Invoice"),
        invoiceType="SR",
        status="1000",
        invoiceDate=stamp,
        header=f"Stornorechnung zu Rechnung {inv['invoiceNumber']}",
        origin=ref("Invoice", inv["id"]),
        paidAmount=0,
        payDate=stamp,
        sendDate=stamp,
        enshrined=stamp,
    )
    t.add(sr)
    for pos in t.positions("Invoice", inv["id"]):
        copy = {**pos, **t.header("InvoicePos", stamp, stamp), "invoice": ref("Invoice", sr["id"])}
        t.add(copy)
    recompute(t, "Invoice", sr)
    inv.update(status="1000", paidAmount=0)
    t.touch(inv, stamp)
    return sr


def delete(t: TenantStore, model: str, rec_id: str) -> None:
    """Documents only as drafts (409, code 159), transactions only unbooked (status 100; kept readable by
    id with `deletedAt`), contacts only when no document refers to them."""
    rec = get(t, model, rec_id)
    if model in DOCUMENTS:
        if not is_draft(model, rec) or rec.get("enshrined"):
            raise SevError(409, f"{model} {rec_id} is not a draft and cannot be deleted", 159)
        for pos in t.positions(model, rec_id):
            t.remove(DOCUMENTS[model], pos["id"])
    elif model == "CheckAccountTransaction":
        if rec["status"] != "100" or rec["deletedAt"]:
            raise SevError(409, f"CheckAccountTransaction {rec_id} is booked and cannot be deleted", 159)
        rec["deletedAt"] = t.now()
        t.touch(rec, rec["deletedAt"])
        return
    elif model == "Contact":
        used = any(
            r.get("contact", {}).get("id") == rec_id or r.get("supplier", {}).get("id") == rec_id
            for m in DOCUMENTS
            for r in t.coll(m).values()
        )
        if used:
            raise SevError(409, f"Contact {rec_id} is referenced by documents and cannot be deleted")
        for child in ("ContactAddress", "CommunicationWay"):
            for r in t.children(child, rec_id):
                t.remove(child, r["id"])
    t.remove(model, rec_id)


def day_of(value: str) -> date:
    return datetime.fromisoformat(value).date()

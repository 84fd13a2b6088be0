"""Deterministic seeded books of a German SME in sevDesk: both tax schemes in one history (1.0 before
2025, Update 2.0 after), cancellations as SR invoices, partial payments, enshrined documents, bank
transactions linked to documents, unmatched bank lines and master data."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sandbox import names as N
from sandbox.clock import BERLIN

from . import books
from .books import (
    LEGACY_UNTIL,
    book,
    new_bank_line,
    new_voucher,
    recompute,
    sales_position,
    tax_fields,
    voucher_position,
)
from .model import (
    ACCOUNTS_DATEV,
    COUNTRIES,
    COUNTRY_IDS,
    TAX_RULES,
    UNITIES,
    dec,
    flag,
    fmt_date,
    fmt_ts,
    ref,
)
from .store import TenantStore

SIZES = {
    "small": {"contacts": 40, "invoices": 80, "vouchers": 40, "credit_notes": 8},
    "medium": {"contacts": 1000, "invoices": 5000, "vouchers": 2500, "credit_notes": 250},
    "large": {"contacts": 5000, "invoices": 25000, "vouchers": 12000, "credit_notes": 1200},
}
HISTORY_DAYS = 700  # about two years, so the 1.0 -> 2.0 switch (2025-01-01) lies inside
UNIT_IDS = {"Stunde": 9, "Pauschal": 8, "Monat": 15, "Tag": 14, "kg": 4, "Stück": 1}
EXPENSE_ACCOUNTS = [a[0] for a in ACCOUNTS_DATEV if a[5] and a[0] != 5099]


@dataclass
class Counts:
    contacts: int
    invoices: int
    vouchers: int
    credit_notes: int


class _FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def seed_tenant(seed: int, tenant: str, counts: Counts, anchor: datetime) -> dict:
    """A tenant's complete books; same (seed, tenant, counts, anchor) -> same data."""
    rng = random.Random(f"sevdesk-sandbox:{seed}:{tenant}")
    sev_client = str(rng.randint(100_000, 999_999))
    t = TenantStore(
        tenant,
        "",
        {"sevClient": sev_client, "seq": rng.randint(10, 90) * 10_000_000, "tables": {}},
        _FixedClock(anchor),
    )  # type: ignore[arg-type]
    _master_data(t)
    bank, cash = _check_accounts(t, anchor)
    customers, suppliers = _contacts(t, rng, counts.contacts, anchor)
    parts = _parts(t, rng, anchor)
    invoices = _invoices(t, rng, counts.invoices, customers, parts, anchor, bank)
    _credit_notes(t, rng, counts.credit_notes, invoices, anchor, bank)
    _vouchers(t, rng, counts.vouchers, suppliers, anchor, bank, cash)
    _bank_lines(t, rng, max(3, counts.invoices // 20), anchor, bank)
    return t.dump()


def _ts(day: date, rng: random.Random, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)), tzinfo=BERLIN)


def _day(rng: random.Random, anchor: datetime, newest: int = 1) -> date:
    return (anchor - timedelta(days=rng.randint(newest, HISTORY_DAYS))).date()


def _before(moment: datetime, anchor: datetime) -> datetime:
    return min(moment, anchor - timedelta(minutes=5))


def _master_data(t: TenantStore) -> None:
    epoch = "1970-01-01T01:00:01+01:00"
    for rid, code, name in TAX_RULES:
        t.add({"id": str(rid), "objectName": "TaxRule", "code": code, "name": name})
    for rid, num04, name04, num03, name03, expense in ACCOUNTS_DATEV:
        t.add(
            {
                "id": str(rid),
                "objectName": "AccountDatev",
                "additionalInformation": None,
                "create": None,
                "update": epoch,
                "number": num04,
                "name": name04,
                "number03": num03,
                "name03": name03,
                "type": "EXPENSE" if expense else "REVENUE",
                "hidden": flag(rid == 5099),
            }
        )
    for rid, name, code, unece in UNITIES:
        t.add(
            {
                "id": str(rid),
                "objectName": "Unity",
                "additionalInformation": None,
                "create": None,
                "update": epoch,
                "name": name,
                "translationCode": code,
                "unitySystem": "general",
                "uneceTradeUnitCode": unece,
            }
        )
    for rid, code, name, name_en in COUNTRIES:
        t.add(
            {
                "id": str(rid),
                "objectName": "StaticCountry",
                "code": code.lower(),
                "name": name,
                "nameEn": name_en,
                "translationCode": f"COUNTRY_{code}",
                "locale": f"{code.lower()}_{code}",
                "priority": str(100 if code == "DE" else 0),
            }
        )


def _check_accounts(t: TenantStore, anchor: datetime) -> tuple[str, str]:
    created = fmt_ts(anchor - timedelta(days=HISTORY_DAYS + 30))
    ids = []
    for name, kind, number, iban in (
        ("Geschäftskonto Sparkasse", "online", "1800", "DE02120300000000202051"),
        ("Kasse", "register", "1600", None),
    ):
        rec = t.header("CheckAccount", created, created)
        rec.update(
            name=name,
            type=kind,
            importType=None,
            currency="EUR",
            checkAccId=None,
            pin=None,
            defaultAccount=flag(kind == "online"),
            status="100",
            translationCode=None,
            bankServer="FINAPI" if kind == "online" else None,
            balance=None,
            accountingNumber=number,
            iban=iban,
            bic="BYLADEM1001" if iban else None,
            baseAccount="0",
            priority="1",
            countryCode="de",
            autoMapTransaction="1",
            autoSyncTransactions="1",
            lastSync=None,
        )
        ids.append(t.add(rec)["id"])
    return ids[0], ids[1]


def _contacts(t: TenantStore, rng: random.Random, n: int, anchor: datetime) -> tuple[list[dict], list[dict]]:
    customers, suppliers, orgs = [], [], []
    for i in range(n):
        created = _ts(_day(rng, anchor, 400) - timedelta(days=300), rng)
        stamp = fmt_ts(created)
        updated = fmt_ts(_before(created + timedelta(days=rng.randint(0, 500)), anchor))
        rec = t.header("Contact", stamp, updated)
        supplier = i % 4 == 3
        person = not supplier and i % 5 == 4
        first, last = rng.choice(N.FIRST), rng.choice(N.LAST)
        name = (
            None
            if person
            else (f"{rng.choice(N.COMPANY_WORDS)} {rng.choice(N.COMPANY_TRADES)} {rng.choice(N.LEGAL_FORMS)}")
        )
        rec.update(name=name, status="1000", customerNumber=None if supplier else str(1000 + i))
        if person and orgs and rng.random() < 0.5:
            rec["parent"] = ref("Contact", rng.choice(orgs)["id"])
        rec.update(
            surename=first if person else None,
            familyname=last if person else None,
            titel=None,
            category=ref("Category", 2 if supplier else 3),
            description=None,
            academicTitle=None,
            gender=rng.choice(["m", "w"]) if person else None,
            name2=None,
            birthday=None,
            vatNumber=f"DE{rng.randint(100000000, 999999999)}" if not person and rng.random() < 0.7 else None,
            bankAccount=None,
            bankNumber=None,
            mandateReference=None,
            defaultCashbackTime=None,
            defaultCashbackPercent=None,
            defaultTimeToPay=rng.choice([None, "14", "30"]),
            taxNumber=None,
            taxOffice=None,
            exemptVat="0",
            taxType=None,
            defaultDiscountAmount=None,
            defaultDiscountPercentage="1",
            buyerReference="-",
            governmentAgency="0",
            defaultShowVat="1",
        )
        t.add(rec)
        (suppliers if supplier else customers).append(rec)
        if not person:
            orgs.append(rec)
        _address(t, rng, rec, stamp)
        _communication(t, rng, rec, stamp, first, last)
    return customers, suppliers


def _address(t: TenantStore, rng: random.Random, contact: dict, stamp: str) -> None:
    rec = t.header("ContactAddress", stamp, stamp)
    zip_, city, _ = rng.choice(N.CITIES)
    foreign = rng.random() < 0.08
    if foreign:
        zip_, city, code = rng.choice(N.FOREIGN_CITIES)
    rec.update(
        contact=ref("Contact", contact["id"]),
        street=f"{rng.choice(N.STREETS)} {rng.randint(1, 120)}",
        zip=zip_,
        city=city,
        country=ref("StaticCountry", COUNTRY_IDS[code] if foreign else 1),
        category=ref("Category", 47),
        name=contact["name"],
        name2=None,
        name3=None,
        name4=None,
    )
    t.add(rec)


def _communication(
    t: TenantStore, rng: random.Random, contact: dict, stamp: str, first: str, last: str
) -> None:
    domain = (
        (contact["name"] or last)
        .split()[0]
        .lower()
        .replace("ä", "ae")
        .replace("ö", "oe")
        .replace("ü", "ue")
        .replace("ß", "ss")
    )
    ways = [("EMAIL", f"buchhaltung@{domain}.de" if contact["name"] else f"{first.lower()}@{domain}.de", 2)]
    if rng.random() < 0.5:
        ways.append(("PHONE", f"+49 {rng.randint(30, 999)} {rng.randint(100000, 9999999)}", 2))
    for n, (kind, value, key) in enumerate(ways):
        rec = t.header("CommunicationWay", stamp, stamp)
        rec.update(
            contact=ref("Contact", contact["id"]),
            type=kind,
            value=value,
            key=ref("CommunicationWayKey", key),
            main=flag(n == 0),
        )
        t.add(rec)


def _parts(t: TenantStore, rng: random.Random, anchor: datetime) -> list[dict]:
    stamp = fmt_ts(anchor - timedelta(days=HISTORY_DAYS + 10))
    parts = []
    for i, (name, unit, rate) in enumerate(N.SERVICES + N.GOODS):
        price = Decimal(rng.randint(5, 180))
        rec = t.header("Part", stamp, stamp)
        rec.update(
            name=name,
            partNumber=f"ART-{1000 + i}",
            text=None,
            category=ref("Category", 16),
            stock="0",
            stockEnabled="0",
            unity=ref("Unity", UNIT_IDS.get(unit, 1)),
            price=dec(price),
            priceNet=dec(price),
            priceGross=dec(price * (100 + rate) / 100),
            pricePurchase=None,
            taxRate=str(rate),
            status="100",
            internalComment=None,
        )
        parts.append(t.add(rec))
    return parts


def _document(t: TenantStore, model: str, contact: dict, day: date, created: datetime, rule: int) -> dict:
    address = next(iter(t.children("ContactAddress", contact["id"])), {})
    name = contact["name"] or f"{contact['surename']} {contact['familyname']}"
    stamp = fmt_ts(created)
    rec = t.header(model, stamp, stamp)
    rec.update(
        contact=ref("Contact", contact["id"]),
        createUser=ref("SevUser", 700001),
        header=None,
        headText=None,
        footText=None,
        timeToPay=contact["defaultTimeToPay"] or "14",
        discountTime=None,
        discount="0",
        address=f"{name}\n{address.get('street')}\n{address.get('zip')} {address.get('city')}",
        addressName=name,
        addressStreet=address.get("street"),
        addressZip=address.get("zip"),
        addressCity=address.get("city"),
        addressCountry=address.get("country", ref("StaticCountry", 1)),
        payDate=None,
        deliveryDate=fmt_date(day),
        deliveryDateUntil=None,
        status="100",
        smallSettlement="0",
        contactPerson=ref("SevUser", 700001),
        taxRate="0",
        taxText="Umsatzsteuer 19%",
        sendDate=None,
        currency="EUR",
        sumNet="0",
        sumTax="0",
        sumGross="0",
        sumDiscounts="0",
        sumNetForeignCurrency="0",
        sumTaxForeignCurrency="0",
        sumGrossForeignCurrency="0",
        sumDiscountsForeignCurrency="0",
        sumNetAccounting="0",
        sumTaxAccounting="0",
        sumGrossAccounting="0",
        customerInternalNote=None,
        showNet="1",
        enshrined=None,
        sendType="0",
        **tax_fields(day, rule),
    )
    return rec


def _sales_lines(
    t: TenantStore, rng: random.Random, model: str, doc: dict, parts: list[dict], stamp: str, lines: int
) -> None:
    for n in range(lines):
        part = rng.choice(parts)
        quantity = Decimal(rng.choice([1, 1, 2, 3, 5, 8, 10])) if rng.random() < 0.9 else Decimal("2.5")
        sales_position(
            t,
            model,
            doc,
            n,
            name=part["name"],
            quantity=quantity,
            price=Decimal(part["price"]),
            rate=int(part["taxRate"]),
            unity=int(part["unity"]["id"]),
            part=part["id"],
            text=rng.choice([None, "Leistungszeitraum laut Auftrag"]),
            when=stamp,
        )
    recompute(t, model, doc)


def new_invoice(t: TenantStore, contact: dict, day: date, created: datetime, rule: int) -> dict:
    """A draft RE invoice with the live field set (not yet added; no positions)."""
    inv = _document(t, "Invoice", contact, day, created, rule)
    inv.update(
        invoiceNumber=None,
        invoiceDate=fmt_date(day),
        header="Rechnung",
        dunningLevel=None,
        paymentMethod=ref("PaymentMethod", 800001),
        invoiceType="RE",
        accountIntervall=None,
        accountNextInvoice=None,
        reminderTotal=None,
        reminderDebit=None,
        reminderDeadline=None,
        reminderCharge="0",
        addressParentName=None,
        addressParentName2=None,
        addressName2=None,
        addressGender=None,
        accountLastInvoice=None,
        accountStartDate=None,
        accountEndDate=None,
        paidAmount=0,
        einvoiceReference=None,
        sepaMandateReference=None,
        sepaCreditorId=None,
        sepaPayerIban=None,
        propertyIsEInvoice="0",
        sendPaymentReceivedNotificationDate=None,
        sumDiscountNet="0",
        sumDiscountGross="0",
        sumDiscountNetForeignCurrency="0",
        sumDiscountGrossForeignCurrency="0",
    )
    return inv


def _invoices(
    t: TenantStore,
    rng: random.Random,
    n: int,
    customers: list[dict],
    parts: list[dict],
    anchor: datetime,
    bank: str,
) -> list[dict]:
    days = sorted(_day(rng, anchor) for _ in range(n))
    out = []
    for i, day in enumerate(days):
        age = (anchor.date() - day).days
        created = _ts(day, rng)
        rule = 3 if rng.random() < 0.05 else 1
        inv = new_invoice(t, rng.choice(customers), day, created, rule)
        t.add(inv)
        _sales_lines(t, rng, "Invoice", inv, parts, fmt_ts(created), rng.randint(1, 4))
        out.append(inv)
        if i >= n - 2 or (age < 20 and rng.random() < 0.4):
            continue  # a draft (the newest two always): no number, editable
        books.send(t, "Invoice", inv, created + timedelta(minutes=5))
        roll = rng.random()
        if roll < 0.05 and age > 10:
            books.cancel_invoice(t, inv, _before(created + timedelta(days=rng.randint(1, 10)), anchor))
        elif age > 14 and roll < 0.8:
            paid_at = _before(created + timedelta(days=rng.randint(3, 40), hours=2), anchor)
            partial = Decimal(inv["sumGross"]) / 2 if roll > 0.72 else None
            book(t, "Invoice", inv, partial, paid_at, bank)
    return out


def _credit_notes(
    t: TenantStore, rng: random.Random, n: int, invoices: list[dict], anchor: datetime, bank: str
) -> None:
    sent = [i for i in invoices if i["invoiceType"] == "RE" and i["status"] in ("200", "1000")]
    for origin in rng.sample(sent, min(n, len(sent))):
        day = books.day_of(origin["invoiceDate"]) + timedelta(days=rng.randint(2, 20))
        if day >= anchor.date():
            day = anchor.date() - timedelta(days=1)
        created = _ts(day, rng, 11)
        contact = t.coll("Contact")[origin["contact"]["id"]]
        rule = int(origin["taxRule"]["id"]) if "taxRule" in origin else 1
        cn = _document(t, "CreditNote", contact, day, created, rule)
        cn.update(
            creditNoteNumber=books.next_number(t, "CreditNote"),
            creditNoteDate=fmt_date(day),
            header=f"Gutschrift zur Rechnung Nr. {origin['invoiceNumber']}",
            creditNoteType="CN",
            bookingCategory="UNDERACHIEVEMENT",
            refSrcInvoice=ref("Invoice", origin["id"]),
            origin=ref("Invoice", origin["id"]),
            isTransferred="0",
            taxNumber=None,
            vatNumber=None,
            accountLastCreditNote=None,
            accountNextCreditNote=None,
        )
        t.add(cn)
        first = t.positions("Invoice", origin["id"])[0]
        sales_position(
            t,
            "CreditNote",
            cn,
            0,
            name=f"Gutschrift: {first['name']}",
            quantity=Decimal(1),
            price=Decimal(first["priceNet"]) / 2,
            rate=int(first["taxRate"]),
            unity=1,
            when=fmt_ts(created),
        )
        recompute(t, "CreditNote", cn)
        cn.update(status="200", sendDate=fmt_ts(created), sendType="VPDF", enshrined=fmt_ts(created))
        if rng.random() < 0.6:
            book(t, "CreditNote", cn, None, _before(created + timedelta(days=3), anchor), bank)


def _vouchers(
    t: TenantStore, rng: random.Random, n: int, suppliers: list[dict], anchor: datetime, bank: str, cash: str
) -> None:
    for i, day in enumerate(sorted(_day(rng, anchor) for _ in range(n))):
        age = (anchor.date() - day).days
        created = _ts(day, rng, 14)
        stamp = fmt_ts(created)
        expense = rng.random() < 0.85
        legacy = day < LEGACY_UNTIL
        supplier = rng.choice(suppliers) if suppliers and rng.random() < 0.8 else None
        rule = (14 if rng.random() < 0.08 else 9) if expense else 1
        name = supplier["name"] if supplier else rng.choice(["Tankstelle Nord", "Deutsche Bahn", "Amazon EU"])
        rec = new_voucher(
            t,
            stamp,
            voucherDate=fmt_date(day),
            supplierName=name,
            description=f"{'ER' if expense else 'AR'}-{day.year}-{i + 1:04d}",
            status="100",
            creditDebit="C" if expense else "D",
            paymentDeadline=fmt_date(day + timedelta(days=14)),
            supplierNameAtSave=name,
            deliveryDate=fmt_date(day),
            **tax_fields(day, rule),
        )
        rec["document"] = ref("Document", t.new_id())  # its id after the voucher's
        if supplier:
            rec["supplier"] = ref("Contact", supplier["id"])
        t.add(rec)
        for _ in range(rng.randint(1, 2)):
            account = rng.choice(EXPENSE_ACCOUNTS) if expense else 4285
            rate = 0 if rule == 14 else rng.choice([19, 19, 7])
            voucher_position(
                t,
                rec,
                account=account,
                rate=rate,
                net=Decimal(rng.randint(800, 90000)) / 100,
                comment=rng.choice(N.PURCHASE_TEXT),
                legacy=legacy,
                when=stamp,
            )
        recompute(t, "Voucher", rec)
        if i >= n - 2 or (age < 15 and rng.random() < 0.4):
            rec["status"] = "50"  # a draft (the newest two always)
            continue
        roll = rng.random()
        if age > 10 and roll < 0.8:
            paid_at = _before(created + timedelta(days=rng.randint(1, 30), hours=1), anchor)
            partial = Decimal(rec["sumGross"]) / 3 if roll > 0.74 else None
            book(t, "Voucher", rec, partial, paid_at, cash if rng.random() < 0.15 else bank)
        if age > 300 and rec["status"] == "1000" and rng.random() < 0.5:
            rec["enshrined"] = rec["update"]


def _bank_lines(t: TenantStore, rng: random.Random, n: int, anchor: datetime, bank: str) -> None:
    """Bank lines nobody matched yet (status 100), e.g. fees and unknown transfers."""
    for _ in range(n):
        stamp = fmt_ts(_ts(_day(rng, anchor), rng, 7))
        amount = Decimal(rng.randint(-40000, 60000)) / 100 or Decimal("-4.9")
        purpose = rng.choice(["Kontoführung", "Gutschrift", "Lastschrift", "Überweisung"])
        tx = new_bank_line(t, stamp, amount, purpose, rng.choice(N.LAST), bank, "100")
        t.add(tx)

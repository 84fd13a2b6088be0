"""Raw-layer fixtures: tables shaped like the raw layer contract (docs/architecture.md) and a small,
hand-made data set shaped like the Lexware reference examples, with values the tests compute by hand."""

from __future__ import annotations

import json
from collections.abc import Iterable

import duckdb

# The raw tables of the Lexware source, written out here as the tests' own expectation (the catalogue and
# extraction tests compare against it), independent of pipelines/lexware/settings.py.
RAW_TABLES = (
    "contacts",
    "voucherlist",
    "invoices",
    "credit_notes",
    "vouchers",
    "payments",
    "posting_categories",
    "profile",
    "articles",
)
LOAD_ID = "1760000000.0"
ORG = "3f6c2a10-8b4e-4d2a-9c71-0e5b7a9d4c11"


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``raw_lexware.*`` with the contract columns, plus ``_dlt_loads`` with one load."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw_lexware")
    for table in RAW_TABLES:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS raw_lexware.{table} (tenant_id VARCHAR, source_system VARCHAR,"
            " id VARCHAR, version BIGINT, raw JSON, is_deleted BOOLEAN, _dlt_load_id VARCHAR)"
        )
    con.execute(
        "CREATE TABLE IF NOT EXISTS raw_lexware._dlt_loads (load_id VARCHAR, schema_name VARCHAR,"
        " status BIGINT, inserted_at TIMESTAMPTZ)"
    )
    con.execute(
        "INSERT INTO raw_lexware._dlt_loads VALUES (?, 'lexware', 0, TIMESTAMPTZ '2026-01-01 06:00:00+01')",
        [LOAD_ID],
    )


def insert_raw(
    con: duckdb.DuckDBPyConnection, table: str, tenant: str, records: Iterable[dict], id_key: str = "id"
) -> None:
    """Insert payloads into ``raw_lexware.<table>`` as extraction would (id, version from the payload)."""
    rows = [
        (
            tenant,
            "lexware",
            rec[id_key] if isinstance(id_key, str) else id_key(rec),
            rec.get("version"),
            json.dumps(rec),
            False,
            LOAD_ID,
        )
        for rec in records
    ]
    if rows:
        con.executemany(f"INSERT INTO raw_lexware.{table} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def insert_payment(con: duckdb.DuckDBPyConnection, tenant: str, voucher_id: str, payload: dict) -> None:
    """Insert one /v1/payments/{voucherId} payload (raw id = the voucher id)."""
    insert_raw(con, "payments", tenant, [{**payload, "_vid": voucher_id}], id_key=lambda r: r.pop("_vid"))


# --- ids -----------------------------------------------------------------------------------------------
C1 = "d2b5c3f1-9e44-4a0b-9c2d-6f7a8e1b3c55"  # Elbufer Logistik KG, customer + vendor
C2 = "6b0e2d7c-1f3a-4e9b-8c5d-2a7f9e1c4b66"  # Tobias Krämer, person, customer
C3 = "a1a1a1a1-0000-4000-8000-000000000003"  # Papier AG, vendor only
I1, I2, I3, I4, I5, I6, I7 = (f"11111111-0000-4000-8000-00000000000{n}" for n in range(1, 8))
I_UNKNOWN = "11111111-0000-4000-8000-0000000000a1"
I_BADDATE = "11111111-0000-4000-8000-0000000000a2"
I_NODATE = "11111111-0000-4000-8000-0000000000a3"
CN1 = "22222222-0000-4000-8000-000000000001"
V1 = "7e3a9c11-2b4d-4c8e-a1f0-9d6b5e4c3a22"  # purchase invoice on the collective supplier
V2 = "33333333-0000-4000-8000-000000000002"  # purchase invoice, paid, C3
V3 = "33333333-0000-4000-8000-000000000003"  # sales invoice booked as bookkeeping voucher, C2
CAT_OUTGO = "44444444-0000-4000-8000-000000000001"
B1 = "55555555-0000-4000-8000-000000000001"  # tenant beta's invoice


def _ts(day: str, time: str = "00:00:00.000") -> str:
    month = int(day[5:7])
    offset = "+02:00" if 4 <= month <= 10 else "+01:00"
    return f"{day}T{time}{offset}"


def contact_company() -> dict:
    return {
        "id": C1,
        "organizationId": ORG,
        "version": 4,
        "roles": {"customer": {"number": 10412}, "vendor": {"number": 70058}},
        "company": {
            "name": "Elbufer Logistik KG",
            "taxNumber": "27/123/45678",
            "vatRegistrationId": "DE298765432",
            "allowTaxFreeInvoices": False,
            "contactPersons": [
                {
                    "salutation": "Frau",
                    "firstName": "Mira",
                    "lastName": "Hansen",
                    "primary": True,
                    "emailAddress": "m.hansen@elbufer.example",
                    "phoneNumber": "040 5550123",
                }
            ],
        },
        "addresses": {
            "billing": [{"street": "Kaistraße 7", "zip": "20457", "city": "Hamburg", "countryCode": "DE"}],
            "shipping": [
                {
                    "supplement": "Tor 3",
                    "street": "Hafenweg 12",
                    "zip": "21129",
                    "city": "Hamburg",
                    "countryCode": "DE",
                }
            ],
        },
        "emailAddresses": {"business": ["buchhaltung@elbufer.example"]},
        "phoneNumbers": {"business": ["040 5550100"]},
        "note": "Zahlt per SEPA",
        "archived": False,
    }


def contact_person() -> dict:
    return {
        "id": C2,
        "organizationId": ORG,
        "version": 1,
        "roles": {"customer": {"number": 10413}},
        "person": {"salutation": "Herr", "firstName": "Tobias", "lastName": "Krämer"},
        "emailAddresses": {"private": ["tobias.kraemer@mail.example"]},
        "archived": False,
    }


def contact_vendor() -> dict:
    return {
        "id": C3,
        "organizationId": ORG,
        "version": 2,
        "roles": {"vendor": {"number": 70001}},
        "company": {"name": "Papier AG"},
        "archived": True,
    }


def line(name: str, qty: float, net: float, rate: int, amount: float) -> dict:
    return {
        "type": "custom",
        "name": name,
        "quantity": qty,
        "unitName": "Stück",
        "unitPrice": {
            "currency": "EUR",
            "netAmount": net,
            "grossAmount": round(net * (1 + rate / 100), 4),
            "taxRatePercentage": rate,
        },
        "discountPercentage": 0,
        "lineItemAmount": amount,
    }


def invoice(
    rid: str,
    status: str,
    day: str,
    due: str | None,
    contact: str | None,
    lines: list[dict],
    net: float,
    tax: float,
    number: str,
    related: list[dict] | None = None,
) -> dict:
    doc = {
        "id": rid,
        "organizationId": ORG,
        "createdDate": _ts(day, "10:00:00.000"),
        "updatedDate": _ts(day, "11:00:00.000"),
        "version": 2,
        "language": "de",
        "archived": False,
        "voucherStatus": status,
        "voucherNumber": number,
        "voucherDate": _ts(day),
        "address": {"contactId": contact, "name": "x", "countryCode": "DE"}
        if contact
        else {"name": "Laufkundschaft", "countryCode": "DE"},
        "lineItems": lines,
        "totalPrice": {
            "currency": "EUR",
            "totalNetAmount": net,
            "totalGrossAmount": round(net + tax, 2),
            "totalTaxAmount": tax,
        },
        "taxConditions": {"taxType": "net"},
        "relatedVouchers": related or [],
        "shippingConditions": {"shippingDate": _ts(day), "shippingType": "service"},
    }
    if due:
        doc["dueDate"] = _ts(due)
    return doc


def reference_invoice() -> dict:
    """The reference's composite finalized invoice (§11), open with 655.29 left to pay."""
    return {
        "id": I1,
        "organizationId": ORG,
        "createdDate": "2025-10-01T14:22:09.812+02:00",
        "updatedDate": "2025-10-03T09:10:44.512+02:00",
        "version": 3,
        "language": "de",
        "archived": False,
        "voucherStatus": "open",
        "voucherNumber": "RE-2025-0142",
        "voucherDate": "2025-10-01T00:00:00.000+02:00",
        "dueDate": "2025-10-15T00:00:00.000+02:00",
        "address": {
            "contactId": C1,
            "name": "Elbufer Logistik KG",
            "street": "Kaistraße 7",
            "city": "Hamburg",
            "zip": "20457",
            "countryCode": "DE",
            "contactPerson": "Mira Hansen",
        },
        "electronicDocumentProfile": "NONE",
        "lineItems": [
            {
                "type": "custom",
                "name": "Wartung Förderband",
                "quantity": 6,
                "unitName": "Stunde",
                "unitPrice": {
                    "currency": "EUR",
                    "netAmount": 95.0,
                    "grossAmount": 113.05,
                    "taxRatePercentage": 19,
                },
                "discountPercentage": 0,
                "lineItemAmount": 570.0,
            },
            {
                "id": "5d0f7e5a-3c1e-4c39-9a52-6c8f1d2b7e10",
                "type": "material",
                "name": "Antriebsriemen AR-40",
                "quantity": 2,
                "unitName": "Stück",
                "unitPrice": {
                    "currency": "EUR",
                    "netAmount": 410.5,
                    "grossAmount": 488.495,
                    "taxRatePercentage": 19,
                },
                "discountPercentage": 0,
                "lineItemAmount": 821.0,
            },
            {"type": "text", "name": "Hinweis", "description": "Leistung gemäß Rahmenvertrag 2025"},
        ],
        "totalPrice": {
            "currency": "EUR",
            "totalNetAmount": 1391.0,
            "totalGrossAmount": 1655.29,
            "totalTaxAmount": 264.29,
        },
        "taxAmounts": [{"taxRatePercentage": 19, "taxAmount": 264.29, "netAmount": 1391.0}],
        "taxConditions": {"taxType": "net"},
        "paymentConditions": {"paymentTermLabel": "Zahlbar in 14 Tagen", "paymentTermDuration": 14},
        "shippingConditions": {"shippingDate": "2025-09-30T00:00:00.000+02:00", "shippingType": "service"},
        "closingInvoice": False,
        "relatedVouchers": [],
        "title": "Rechnung",
        "remark": "Vielen Dank für den Auftrag.",
        "files": {"documentFileId": "a4c3b2d1-0e9f-4a8b-b7c6-d5e4f3a2b1c0"},
    }


def voucher(
    rid: str,
    vtype: str,
    status: str,
    day: str,
    due: str,
    contact: str | None,
    tax_type: str,
    items: list[dict],
    number: str,
) -> dict:
    gross = sum(i["amount"] + (i["taxAmount"] if tax_type == "net" else 0) for i in items)
    doc = {
        "id": rid,
        "organizationId": ORG,
        "type": vtype,
        "voucherStatus": status,
        "voucherNumber": number,
        "voucherDate": _ts(day),
        "dueDate": _ts(due),
        "totalGrossAmount": round(gross, 2),
        "totalTaxAmount": round(sum(i["taxAmount"] for i in items), 2),
        "taxType": tax_type,
        "useCollectiveContact": contact is None,
        "voucherItems": items,
        "files": [],
        "createdDate": _ts(day, "08:01:17.331"),
        "updatedDate": _ts(day, "08:01:17.331"),
        "version": 1,
    }
    if contact:
        doc["contactId"] = contact
    else:
        doc["contactName"] = "Sammellieferant"
    return doc


def listing(
    doc: dict, vtype: str, total: float, open_amount: float | None, status: str | None = None
) -> dict:
    """The voucherlist row Lexware shows for a document."""
    return {
        "id": doc["id"],
        "voucherType": vtype,
        "voucherStatus": status or doc["voucherStatus"],
        "voucherNumber": doc["voucherNumber"],
        "voucherDate": doc["voucherDate"],
        "createdDate": doc["createdDate"],
        "updatedDate": doc["updatedDate"],
        "dueDate": doc.get("dueDate"),
        "contactId": doc.get("address", {}).get("contactId", doc.get("contactId")),
        "contactName": "x",
        "totalAmount": total,
        "openAmount": open_amount,
        "currency": "EUR",
        "archived": False,
    }


def payment(
    open_amount,
    vtype: str,
    status: str,
    items: list[tuple[str, float]],
    paid: str | None = None,
    payment_status: str | None = None,
) -> dict:
    body = {
        "openAmount": open_amount,
        "currency": "EUR",
        "paymentStatus": payment_status or ("balanced" if float(open_amount) == 0 else "openRevenue"),
        "voucherType": vtype,
        "voucherStatus": status,
        "paymentItems": [
            {"paymentItemType": "manualPayment", "postingDate": _ts(d), "amount": a, "currency": "EUR"}
            for d, a in items
        ],
    }
    if paid:
        body["paidDate"] = _ts(paid)
    return body


AS_OF = "2025-12-31"


ARTICLE_BELT = "5d0f7e5a-3c1e-4c39-9a52-6c8f1d2b7e10"  # referenced by the reference invoice's material line
ARTICLE_UNSOLD = "5d0f7e5a-3c1e-4c39-9a52-6c8f1d2b7e11"


def articles() -> list[dict]:
    """Two articles as GET /v1/articles renders them (explicit nulls); one is on the reference invoice."""
    base = {
        "organizationId": ORG,
        "createdDate": _ts("2025-01-10", "08:00:00.000"),
        "updatedDate": _ts("2025-06-02", "10:30:00.000"),
        "archived": False,
        "note": None,
        "version": 2,
    }
    return [
        {
            **base,
            "id": ARTICLE_BELT,
            "title": "Antriebsriemen AR-40",
            "description": None,
            "type": "PRODUCT",
            "articleNumber": "AR-40",
            "gtin": "4012345678901",
            "unitName": "Stück",
            "price": {"netPrice": 410.5, "grossPrice": 488.495, "leadingPrice": "NET", "taxRate": 19},
        },
        {
            **base,
            "id": ARTICLE_UNSOLD,
            "title": "Wartungsvertrag",
            "description": "jährlich",
            "type": "SERVICE",
            "articleNumber": None,
            "gtin": None,
            "unitName": "Jahr",
            "archived": True,
            "price": {"netPrice": 1000.0, "grossPrice": 1190.0, "leadingPrice": "GROSS", "taxRate": 19},
        },
    ]


def load_small_fixture(con: duckdb.DuckDBPyConnection) -> None:
    """Two tenants' raw rows; every mart figure asserted in tests/test_transforms.py is derived from these."""
    create_raw_tables(con)
    insert_raw(con, "contacts", "acme", [contact_company(), contact_person(), contact_vendor()])
    insert_raw(con, "articles", "acme", articles())
    invoices = [
        reference_invoice(),
        invoice(
            I2,
            "open",
            "2025-12-01",
            "2025-12-15",
            C2,
            [line("Beratung", 2, 50.0, 7, 100.0)],
            100.0,
            7.0,
            "RE-2",
        ),
        invoice(
            I3,
            "paid",
            "2025-11-03",
            "2025-11-17",
            C1,
            [line("Kiste", 1, 200.0, 19, 200.0)],
            200.0,
            38.0,
            "RE-3",
        ),
        invoice(I4, "draft", "2025-12-05", None, C2, [line("Entwurf", 1, 50.0, 19, 50.0)], 50.0, 9.5, "RE-4"),
        invoice(
            I5,
            "voided",
            "2025-12-06",
            "2025-12-20",
            C1,
            [line("Storno", 1, 80.0, 19, 80.0)],
            80.0,
            15.2,
            "RE-5",
        ),
        invoice(
            I6,
            "open",
            "2025-12-20",
            "2026-01-19",
            C2,
            [line("Anlage", 1, 1000.0, 19, 1000.0)],
            1000.0,
            190.0,
            "RE-6",
        ),
        invoice(
            I7,
            "open",
            "2025-07-01",
            "2025-07-15",
            C1,
            [line("Montage", 4, 100.0, 19, 400.0), line("Teile", 1, 100.0, 19, 100.0)],
            500.0,
            95.0,
            "RE-7",
        ),
        invoice(
            I_UNKNOWN,
            "weird",
            "2025-12-02",
            "2025-12-16",
            C2,
            [line("?", 1, 10.0, 19, 10.0)],
            10.0,
            1.9,
            "RE-8",
        ),
        {
            **invoice(
                I_BADDATE, "open", "2025-12-03", None, C2, [line("x", 1, 10.0, 19, 10.0)], 10.0, 1.9, "RE-9"
            ),
            "voucherDate": "03.12.2025",
        },
        {
            k: v
            for k, v in invoice(
                I_NODATE, "open", "2025-12-03", None, C2, [line("x", 1, 10.0, 19, 10.0)], 10.0, 1.9, "RE-10"
            ).items()
            if k != "voucherDate"
        },
    ]
    insert_raw(con, "invoices", "acme", invoices)
    cn1 = invoice(
        CN1,
        "open",
        "2025-11-10",
        None,
        C1,
        [line("Gutschrift", 1, 100.0, 19, 100.0)],
        100.0,
        19.0,
        "GS-1",
        related=[{"id": I3, "voucherNumber": "RE-3", "voucherType": "invoice"}],
    )
    insert_raw(con, "credit_notes", "acme", [cn1])
    vouchers = [
        voucher(
            V1,
            "purchaseinvoice",
            "open",
            "2025-09-28",
            "2025-10-12",
            None,
            "gross",
            [{"amount": 89.25, "taxAmount": 14.25, "taxRatePercent": 19.0, "categoryId": CAT_OUTGO}],
            "L-88231",
        ),
        voucher(
            V2,
            "purchaseinvoice",
            "paid",
            "2025-11-01",
            "2025-11-15",
            C3,
            "net",
            [{"amount": 100.0, "taxAmount": 19.0, "taxRatePercent": 19, "categoryId": CAT_OUTGO}],
            "P-2",
        ),
        voucher(
            V3,
            "salesinvoice",
            "open",
            "2025-12-10",
            "2025-12-24",
            C2,
            "net",
            [{"amount": 200.0, "taxAmount": 38.0, "taxRatePercent": 19, "categoryId": CAT_OUTGO}],
            "EXT-3",
        ),
    ]
    insert_raw(con, "vouchers", "acme", vouchers)
    docs = {d["id"]: d for d in [*invoices[:8], cn1, *vouchers]}
    lst = [
        listing(docs[I1], "invoice", 1655.29, 655.29, "overdue"),
        listing(docs[I2], "invoice", 107.0, 107.0, "overdue"),
        listing(docs[I3], "invoice", 238.0, 0.0),
        listing(docs[I4], "invoice", 59.5, None),
        listing(docs[I5], "invoice", 95.2, 0.0),
        listing(docs[I6], "invoice", 1190.0, 1190.0),
        listing(docs[I7], "invoice", 595.0, 595.0, "overdue"),
        listing(docs[CN1], "creditnote", 119.0, 119.0),
        listing(docs[V1], "purchaseinvoice", 89.25, 89.25),
        listing(docs[V2], "purchaseinvoice", 119.0, 0.0),
        listing(docs[V3], "salesinvoice", 238.0, "238.00"),  # a number sent as a string
    ]
    insert_raw(con, "voucherlist", "acme", lst)
    insert_payment(con, "acme", I1, payment(655.29, "invoice", "open", [("2025-10-03", 1000.0)]))
    insert_payment(con, "acme", I3, payment(0, "invoice", "paid", [("2025-11-20", 238.0)], paid="2025-11-20"))
    insert_payment(
        con,
        "acme",
        V2,
        payment(
            "0.00",
            "purchaseinvoice",
            "paid",
            [("2025-11-05", 119.0)],
            paid="2025-11-05",
            payment_status="balanced",
        ),
    )
    insert_raw(
        con,
        "posting_categories",
        "acme",
        [
            {
                "id": CAT_OUTGO,
                "name": "Bürobedarf",
                "type": "outgo",
                "contactRequired": False,
                "splitAllowed": True,
                "groupName": "Sonstiges",
            },
        ],
    )
    # Tenant beta reuses acme's contact id for a different contact: nothing may mix them up.
    insert_raw(con, "contacts", "beta", [{**contact_person(), "id": C1, "person": {"lastName": "Beta"}}])
    b1 = invoice(
        B1, "open", "2025-12-01", "2025-12-15", C1, [line("Beta", 1, 100.0, 19, 100.0)], 100.0, 19.0, "B-1"
    )
    insert_raw(con, "invoices", "beta", [b1])
    insert_raw(con, "voucherlist", "beta", [listing(b1, "invoice", 119.0, 119.0)])


# --- tenant gamma: Lexware's tax groups differ from the lines (document discount, rounding per rate) ------
G_INV = "66666666-0000-4000-8000-000000000001"
G_CN = "66666666-0000-4000-8000-000000000002"


def load_tax_groups_fixture(con: duckdb.DuckDBPyConnection) -> None:
    """Tenant gamma (add after load_small_fixture): an invoice of 2025-12-05 with a 10 % document discount
    (lines 3 x 33.33 at 19 % and 50.00 at 7 %: 149.99 net before, 134.99 after the discount; taxAmounts
    89.99 + 17.10 at 19 %, 45.00 + 3.15 at 7 %, as the sandbox's pricing computes them) and a credit note
    of 2026-01-10 of three 33.33 lines at 19 %, where Lexware's tax of the rate (19.00) differs from the
    lines' per-line rounded tax (3 x 6.33 = 18.99)."""
    inv = invoice(
        G_INV,
        "open",
        "2025-12-05",
        "2025-12-19",
        None,
        [line("Kabel", 3, 33.33, 19, 99.99), line("Buch", 1, 50.0, 7, 50.0)],
        134.99,
        20.25,
        "G-1",
    )
    inv["totalPrice"].update(totalDiscountAbsolute=15.0, totalDiscountPercentage=10)
    inv["taxAmounts"] = [
        {"taxRatePercentage": 19, "taxAmount": 17.1, "netAmount": 89.99},
        {"taxRatePercentage": 7, "taxAmount": 3.15, "netAmount": 45.0},
    ]
    cn_lines = [line("Kabel", 1, 33.33, 19, 33.33)] * 3
    cn = invoice(G_CN, "open", "2026-01-10", None, None, cn_lines, 99.99, 19.0, "G-2")
    cn["taxAmounts"] = [{"taxRatePercentage": 19, "taxAmount": 19.0, "netAmount": 99.99}]
    insert_raw(con, "invoices", "gamma", [inv])
    insert_raw(con, "credit_notes", "gamma", [cn])


# --- tenant delta: malformed values on lines, positions and payments, a contact with several addresses ----
D_CONTACT = "77777777-0000-4000-8000-000000000001"  # two billing addresses
D_BADLINE = "77777777-0000-4000-8000-000000000002"  # line 2: lineItemAmount "12,50" -> invoice rejected
D_FLAGLINE = "77777777-0000-4000-8000-000000000003"  # line 1: quantity "zwei", discountPercentage "5%"
D_BADITEM = "77777777-0000-4000-8000-000000000004"  # payment item 2: amount "abc" -> that payment rejected
D_BADPAY = "77777777-0000-4000-8000-000000000005"  # payments openAmount "n/a" -> its payment rejected
D_BADVOUCHER = "77777777-0000-4000-8000-000000000006"  # position 1: taxAmount "19,00" -> bill rejected
D_VOUCHER = "77777777-0000-4000-8000-000000000007"  # a clean bill beside it
D_ADDRESSES = [
    {"street": "Kaistraße 7", "zip": "20457", "city": "Hamburg", "countryCode": "DE"},
    {"street": "Domplatz 1", "zip": "50667", "city": "Köln", "countryCode": "DE"},
]


def load_bad_lines_fixture(con: duckdb.DuckDBPyConnection) -> None:
    """Tenant delta (add after load_small_fixture): one problem per kind of line-level value, each next to
    clean data that must still reach the CDM."""
    contact = {**contact_company(), "id": D_CONTACT}
    contact["addresses"] = {**contact["addresses"], "billing": D_ADDRESSES}
    insert_raw(con, "contacts", "delta", [contact])
    bad_line = line("Teile", 1, 10.0, 19, 10.0)
    bad_line["lineItemAmount"] = "12,50"
    flag_line = {**line("Beratung", 2, 50.0, 19, 100.0), "quantity": "zwei", "discountPercentage": "5%"}
    invoices = [
        invoice(
            D_BADLINE,
            "open",
            "2025-12-01",
            "2025-12-15",
            D_CONTACT,
            [line("Montage", 1, 100.0, 19, 100.0), bad_line],
            110.0,
            20.9,
            "D-1",
        ),
        invoice(D_FLAGLINE, "open", "2025-12-02", "2025-12-16", D_CONTACT, [flag_line], 100.0, 19.0, "D-2"),
        invoice(
            D_BADITEM,
            "open",
            "2025-12-03",
            "2025-12-17",
            D_CONTACT,
            [line("A", 1, 100.0, 19, 100.0)],
            100.0,
            19.0,
            "D-3",
        ),
        invoice(
            D_BADPAY,
            "paid",
            "2025-12-04",
            "2025-12-18",
            D_CONTACT,
            [line("B", 1, 100.0, 19, 100.0)],
            100.0,
            19.0,
            "D-4",
        ),
    ]
    insert_raw(con, "invoices", "delta", invoices)
    items = [{"amount": 100.0, "taxAmount": 19.0, "taxRatePercent": 19, "categoryId": CAT_OUTGO}]
    bad_voucher = voucher(
        D_BADVOUCHER, "purchaseinvoice", "open", "2025-12-05", "2025-12-19", D_CONTACT, "net", items, "DV-1"
    )
    bad_voucher["voucherItems"] = [{**items[0], "taxAmount": "19,00"}]
    good_voucher = voucher(
        D_VOUCHER, "purchaseinvoice", "open", "2025-12-06", "2025-12-20", D_CONTACT, "net", items, "DV-2"
    )
    insert_raw(con, "vouchers", "delta", [bad_voucher, good_voucher])
    baditem = payment(59.0, "invoice", "open", [("2025-12-10", 60.0), ("2025-12-11", 0.0)])
    baditem["paymentItems"][1]["amount"] = "abc"
    insert_payment(con, "delta", D_BADITEM, baditem)
    insert_payment(
        con,
        "delta",
        D_BADPAY,
        {**payment(0, "invoice", "paid", [("2025-12-12", 119.0)], paid="2025-12-12"), "openAmount": "n/a"},
    )

"""Staging -> CDM -> marts built from a hand-made raw fixture; figures computed by hand from
tests/raw_fixtures.py (as of 2025-12-31)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D

import duckdb
import pytest

from tests import raw_fixtures as fx
from tests.dbt_warehouse import AS_OF, build_at, fixture_warehouse, manifest
from transforms.project import TARGET_DIR, dbt_environment, invoke


def acme(contact: str) -> str:
    return f"lexware:acme:{contact}"


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    result = fixture_warehouse(path, fx.load_small_fixture)
    assert [(n.name, n.message) for n in result.nodes if n.blocks] == []
    con = duckdb.connect(str(path))
    yield con
    con.close()


def rows(con, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def test_dependencies_come_from_the_sql():
    nodes = manifest()["nodes"]

    def reads(model: str) -> set[str]:
        return {
            n.split(".")[-1] if n.startswith("model.") else ".".join(n.split(".")[-2:])
            for n in nodes[f"model.kontor.{model}"]["depends_on"]["nodes"]
        }

    assert reads("invoice_lines") == {
        "invoices",
        "stg_lexware__document_lines",
        "stg_lexware__posting_categories",
        "stg_sevdesk__document_lines",
    }
    assert {r for r in reads("stg_lexware__sales_vouchers") if "." in r} == {  # the sources it reads
        "raw_lexware.invoices",
        "raw_lexware.credit_notes",
        "raw_lexware._dlt_loads",
    }
    assert {"stg_lexware__documents", "stg_sevdesk__documents"} <= reads("invoices")
    assert "invoices" in reads("document_balances")


def test_contacts_are_typed_and_flattened(wh):
    got = rows(
        wh,
        """SELECT name, contact_type, is_customer, is_supplier, customer_number, supplier_number,
                        vat_id, email, phone, billing_city, shipping_postal_code, status
                      FROM cdm.contacts WHERE id = ?""",
        [acme(fx.C1)],
    )
    assert got == [
        (
            "Elbufer Logistik KG",
            "company",
            True,
            True,
            10412,
            70058,
            "DE298765432",
            "buchhaltung@elbufer.example",
            "040 5550100",
            "Hamburg",
            "21129",
            "active",
        )
    ]
    assert rows(
        wh, "SELECT name, contact_type, is_supplier FROM cdm.contacts WHERE id = ?", [acme(fx.C2)]
    ) == [("Tobias Krämer", "person", False)]
    assert rows(wh, "SELECT status FROM cdm.contacts WHERE id = ?", [acme(fx.C3)]) == [("archived",)]


def test_invoice_from_the_reference_example(wh):
    got = rows(
        wh,
        """SELECT document_number, status, source_status, issue_date, due_date, net_amount,
                        tax_amount, gross_amount, open_amount, paid_amount, contact_id, remote_version,
                        remote_updated_at, currency_code, typeof(gross_amount)
                      FROM cdm.invoices WHERE remote_id = ?""",
        [fx.I1],
    )
    assert got == [
        (
            "RE-2025-0142",
            "partially_paid",
            "open",
            dt.date(2025, 10, 1),
            dt.date(2025, 10, 15),
            D("1391.00"),
            D("264.29"),
            D("1655.29"),
            D("655.29"),
            D("1000.00"),
            acme(fx.C1),
            3,
            dt.datetime(2025, 10, 3, 7, 10, 44, 512000, tzinfo=dt.UTC),
            "EUR",
            "DECIMAL(18,2)",
        )
    ]
    lines = rows(
        wh,
        """SELECT line_number, line_type, quantity, unit_price_gross, net_amount, tax_amount
                        FROM cdm.invoice_lines WHERE invoice_id = ? ORDER BY line_number""",
        [acme(fx.I1)],
    )
    assert lines == [
        (1, "custom", D("6.0000"), D("113.0500"), D("570.00"), D("108.30")),
        (2, "material", D("2.0000"), D("488.4950"), D("821.00"), D("155.99")),
        (3, "text", None, None, None, None),
    ]


def test_statuses_and_open_amounts(wh):
    got = dict(
        rows(
            wh,
            "SELECT document_number, status || '/' || open_amount FROM cdm.invoices WHERE tenant_id = 'acme'",
        )
    )
    assert got == {
        "RE-2025-0142": "partially_paid/655.29",
        "RE-2": "open/107.00",
        "RE-3": "paid/0.00",
        "RE-4": "draft/0.00",
        "RE-5": "voided/0.00",
        "RE-6": "open/1190.00",
        "RE-7": "open/595.00",
        "RE-8": "unknown/11.90",
        "EXT-3": "open/238.00",
    }
    assert rows(wh, "SELECT document_kind FROM cdm.invoices WHERE remote_id = ?", [fx.V3]) == [
        ("sales_voucher",)
    ]
    assert rows(wh, "SELECT invoice_id, status, open_amount FROM cdm.credit_notes") == [
        (acme(fx.I3), "open", D("119.00"))
    ]
    assert rows(
        wh,
        "SELECT document_number, contact_id, uses_collective_contact, status, net_amount "
        "FROM cdm.bills ORDER BY 1",
    ) == [("L-88231", None, True, "open", D("75.00")), ("P-2", acme(fx.C3), False, "paid", D("100.00"))]
    assert rows(
        wh,
        "SELECT posting_category_name, net_amount, gross_amount FROM cdm.bill_lines WHERE bill_id = ?",
        [acme(fx.V1)],
    ) == [("Bürobedarf", D("75.00"), D("89.25"))]


def test_payments(wh):
    got = rows(
        wh,
        "SELECT document_number, document_table, direction, payment_date, amount FROM cdm.payments "
        "ORDER BY payment_date",
    )
    assert got == [
        ("RE-2025-0142", "invoices", "incoming", dt.date(2025, 10, 3), D("1000.00")),
        ("P-2", "bills", "outgoing", dt.date(2025, 11, 5), D("119.00")),
        ("RE-3", "invoices", "incoming", dt.date(2025, 11, 20), D("238.00")),
    ]


def test_quarantine_unknown_enum_missing_field_malformed_date(wh):
    got = rows(
        wh, "SELECT remote_id, field, reason, source_value, severity FROM quarantine.issues ORDER BY 1"
    )
    assert got == [
        (fx.I_UNKNOWN, "voucherStatus", "unknown enum value", "weird", "flagged"),
        (fx.I_BADDATE, "voucherDate", "malformed date", "03.12.2025", "rejected"),
        (fx.I_NODATE, "voucherDate", "missing required field", None, "rejected"),
    ]
    kept = {r[0] for r in rows(wh, "SELECT remote_id FROM cdm.invoices")}
    assert fx.I_UNKNOWN in kept and fx.I_BADDATE not in kept and fx.I_NODATE not in kept


def test_ar_aging(wh):
    got = rows(
        wh,
        """SELECT tenant_id, customer_name, as_of_date, total_open_amount, not_yet_due_amount,
                        overdue_amount, bucket_0_30, bucket_31_60, bucket_61_90, bucket_90_plus,
                        open_document_count FROM marts.ar_aging ORDER BY 1, 2""",
    )
    assert got == [
        (
            "acme",
            "Elbufer Logistik KG",
            AS_OF,
            D("1250.29"),
            D("0"),
            D("1250.29"),
            D("0"),
            D("0"),
            D("655.29"),
            D("595.00"),
            2,
        ),
        (
            "acme",
            "Tobias Krämer",
            AS_OF,
            D("1535.00"),
            D("1190.00"),
            D("345.00"),
            D("1535.00"),
            D("0"),
            D("0"),
            D("0"),
            3,
        ),
        ("beta", "Beta", AS_OF, D("119.00"), D("0"), D("119.00"), D("119.00"), D("0"), D("0"), D("0"), 1),
    ]


def test_ap_aging(wh):
    assert rows(
        wh, "SELECT supplier_key, total_open_amount, bucket_61_90, max_days_past_due FROM marts.ap_aging"
    ) == [("name:Sammellieferant", D("89.25"), D("89.25"), 80)]


def test_revenue_by_month(wh):
    got = rows(
        wh,
        "SELECT month, tax_rate_percent, net_amount, tax_amount FROM marts.revenue_by_month "
        "WHERE tenant_id = 'acme' ORDER BY 1, 2",
    )
    assert got == [
        (dt.date(2025, 7, 1), D("19"), D("500"), D("95")),
        (dt.date(2025, 10, 1), D("19"), D("1391"), D("264.29")),
        (dt.date(2025, 11, 1), D("19"), D("100"), D("19")),  # RE-3 200 minus credit note 100
        (dt.date(2025, 12, 1), D("7"), D("100"), D("7")),
        (dt.date(2025, 12, 1), D("19"), D("1200"), D("228")),
    ]  # RE-6 1000 + EXT-3 200


def test_customer_balances(wh):
    got = rows(
        wh,
        """SELECT customer_name, invoiced_amount, credited_amount, received_amount, open_receivables,
                        open_credits, balance, overdue_amount FROM marts.customer_balances
                      WHERE tenant_id = 'acme' ORDER BY 1""",
    )
    assert got == [
        (
            "Elbufer Logistik KG",
            D("2488.29"),
            D("119"),
            D("1238"),
            D("1250.29"),
            D("119"),
            D("1131.29"),
            D("1250.29"),
        ),
        ("Tobias Krämer", D("1535"), D("0"), D("0"), D("1535"), D("0"), D("1535"), D("345")),
    ]


def test_dso_by_month(wh):
    got = rows(
        wh,
        "SELECT month, revenue_gross_amount, receivables_at_month_end, dso_days "
        "FROM marts.dso_by_month WHERE tenant_id = 'acme' AND month >= '2025-10-01' ORDER BY 1",
    )
    # Dec: open 655.29 + 595 + 107 + 1190 + 238 = 2785.29 over revenue 107 + 1190 + 238 = 1535 -> x 31 days
    assert got == [
        (dt.date(2025, 10, 1), D("1655.29"), D("1250.29"), D("23.4")),
        (dt.date(2025, 11, 1), D("238"), D("1250.29"), D("157.6")),
        (dt.date(2025, 12, 1), D("1535"), D("2785.29"), D("56.3")),
    ]


def test_as_of_is_a_parameter(tmp_path):
    fixture_warehouse(tmp_path / "w.duckdb", fx.load_small_fixture, as_of=dt.date(2025, 11, 30))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    # On 30 Nov the December invoices do not exist yet and RE-7 is 138 days past due.
    got = rows(
        con,
        "SELECT customer_name, total_open_amount, bucket_90_plus FROM marts.ar_aging "
        "WHERE tenant_id = 'acme'",
    )
    assert got == [("Elbufer Logistik KG", D("1250.29"), D("595.00"))]


def test_a_new_as_of_date_reparses_one_model_not_the_project(tmp_path):
    """The launchers pass the date in KONTOR_AS_OF: dbt re-parses only the model reading it (a dbt var
    would re-parse all ~200 files, ~10 s, on every build with a new date)."""
    compiled = TARGET_DIR / "compiled" / "kontor" / "models" / "marts" / "as_of.sql"
    parsed = []
    for day in (dt.date(2025, 11, 30), dt.date(2025, 12, 1)):
        with dbt_environment(tmp_path / "w.duckdb", as_of=day):
            invoke(["parse"])
            parsed.append(json.loads((TARGET_DIR / "perf_info.json").read_text(encoding="utf-8")))
            invoke(["compile", "--select", "as_of"])
        assert f"CAST('{day.isoformat()}' AS DATE)" in compiled.read_text(encoding="utf-8")
    assert parsed[1]["is_partial_parse_enabled"] and parsed[1]["parsed_path_count"] <= 2, parsed[1]
    assert parsed[1]["path_count"] > 100


def test_failed_model_keeps_previous_version_and_skips_downstream(tmp_path):
    path = tmp_path / "w.duckdb"
    fixture_warehouse(path, fx.load_small_fixture)
    with duckdb.connect(str(path)) as con:
        before = rows(con, "SELECT count(*) FROM cdm.invoices")[0][0]
        # makes the next staging build fail with a type error
        con.execute("DROP TABLE staging.stg_lexware__voucher_statuses")
        con.execute("CREATE TABLE staging.stg_lexware__voucher_statuses (source_status INT)")
    result = build_at(path, select=("stg_lexware__sales_vouchers", "stg_lexware__documents", "invoices"))
    assert result.status("stg_lexware__sales_vouchers") == "error"
    failed = next(n for n in result.nodes if n.name == "stg_lexware__sales_vouchers")
    assert "stg_lexware__sales_vouchers" in failed.message
    assert result.status("invoices") == "skipped" and not result.published
    with duckdb.connect(str(path)) as con:
        assert rows(con, "SELECT count(*) FROM cdm.invoices")[0][0] == before
        assert rows(con, "SELECT count(*) FROM staging.stg_lexware__sales_vouchers")[0][0] == 12


def test_aging_as_of_a_past_date_counts_documents_paid_later(tmp_path):
    path = tmp_path / "w.duckdb"
    fixture_warehouse(path, fx.load_small_fixture, as_of=dt.date(2025, 11, 3))
    con = duckdb.connect(str(path))
    # On 3 Nov RE-3 (issued 3 Nov, paid 20 Nov) was fully open, and so was P-2 (issued 1 Nov, paid 5 Nov).
    assert rows(
        con,
        "SELECT customer_name, total_open_amount, not_yet_due_amount, open_document_count "
        "FROM marts.ar_aging WHERE tenant_id = 'acme'",
    ) == [("Elbufer Logistik KG", D("1488.29"), D("238.00"), 3)]  # + RE-2025-0142 655.29, RE-7 595
    assert rows(
        con, "SELECT supplier_name, total_open_amount, not_yet_due_amount FROM marts.ap_aging ORDER BY 1"
    ) == [("Papier AG", D("119.00"), D("119.00")), ("Sammellieferant", D("89.25"), D("0"))]
    assert rows(
        con,
        "SELECT open_receivables, received_amount, overdue_amount FROM marts.customer_balances "
        "WHERE customer_key = ?",
        [acme(fx.C1)],
    ) == [(D("1488.29"), D("1000"), D("1250.29"))]  # RE-3's 238 arrives on 20 Nov
    con.close()
    build_at(path, as_of=None)  # today: both are paid, and every open amount is the source's
    con = duckdb.connect(str(path))
    assert rows(
        con, "SELECT customer_name, total_open_amount FROM marts.ar_aging WHERE tenant_id = 'acme' ORDER BY 1"
    ) == [("Elbufer Logistik KG", D("1250.29")), ("Tobias Krämer", D("1535.00"))]
    assert rows(con, "SELECT supplier_name, total_open_amount FROM marts.ap_aging") == [
        ("Sammellieferant", D("89.25"))
    ]
    assert rows(
        con,
        "SELECT count(*), count(*) FILTER (WHERE b.open_amount <> d.open_amount) "
        "FROM marts.document_balances AS b JOIN (SELECT id, open_amount FROM cdm.invoices UNION ALL "
        "SELECT id, open_amount FROM cdm.credit_notes UNION ALL SELECT id, open_amount FROM cdm.bills) AS d "
        "ON d.id = b.document_id",
    ) == [(10, 0)]  # every booked document, open or paid


def test_revenue_uses_lexwares_tax_groups_after_document_discounts(delta):
    con = delta
    got = rows(
        con,
        "SELECT month, tax_rate_percent, net_amount, tax_amount, gross_amount, invoice_count, "
        "credit_note_count FROM marts.revenue_by_month WHERE tenant_id = 'gamma' ORDER BY 1, 2",
    )
    assert got == [
        (dt.date(2025, 12, 1), D("7"), D("45.00"), D("3.15"), D("48.15"), 1, 0),  # lines: 50.00 + 3.50
        (dt.date(2025, 12, 1), D("19"), D("89.99"), D("17.10"), D("107.09"), 1, 0),  # lines: 99.99 + 19.00
        (dt.date(2026, 1, 1), D("19"), D("-99.99"), D("-19.00"), D("-118.99"), 0, 1),  # lines' tax: 18.99
    ]
    assert rows(
        con,
        "SELECT i.net_amount, i.tax_amount, i.discount_amount, sum(r.net_amount), sum(r.tax_amount) "
        "FROM cdm.invoices AS i JOIN marts.revenue_by_month AS r ON r.tenant_id = i.tenant_id "
        "AND r.month = date_trunc('month', i.issue_date) WHERE i.tenant_id = 'gamma' GROUP BY ALL",
    ) == [(D("134.99"), D("20.25"), D("15.00"), D("134.99"), D("20.25"))]
    assert rows(
        con,
        "SELECT DISTINCT document_kind, amount_source FROM cdm.document_tax_amounts "
        "WHERE tenant_id = 'acme' AND document_table = 'invoices' ORDER BY 1, 2",
    ) == [("invoice", "lines"), ("invoice", "tax_amounts"), ("sales_voucher", "lines")]


# --- tenant delta: malformed line values, payments and extra addresses land in quarantine ----------------
# (one warehouse, one build: tenants gamma (tax groups) and epsilon (priced lines without amount or rate)
# live beside delta; every assertion names its tenant)
EPSILON = [
    "e0000000-0000-4000-8000-000000000001",
    "e0000000-0000-4000-8000-000000000002",
    "e0000000-0000-4000-8000-000000000003",
]


def load_epsilon(con: duckdb.DuckDBPyConnection) -> None:
    no_amount = {k: v for k, v in fx.line("Teile", 1, 10.0, 19, 10.0).items() if k != "lineItemAmount"}
    no_rate = fx.line("Arbeit", 1, 20.0, 19, 20.0)
    del no_rate["unitPrice"]["taxRatePercentage"]
    fx.insert_raw(
        con,
        "invoices",
        "epsilon",
        [
            fx.invoice(EPSILON[0], "open", "2025-12-01", "2025-12-15", None, [no_amount], 10.0, 1.9, "E-1"),
            fx.invoice(EPSILON[1], "open", "2025-12-02", "2025-12-16", None, [no_rate], 20.0, 3.8, "E-2"),
            fx.invoice(
                EPSILON[2],
                "open",
                "2025-12-03",
                "2025-12-17",
                None,
                [fx.line("Gut", 1, 30.0, 19, 30.0), {"type": "text", "name": "Danke"}],
                30.0,
                5.7,
                "E-3",
            ),
        ],
    )


@pytest.fixture(scope="module")
def delta(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("delta") / "warehouse.duckdb"
    result = fixture_warehouse(
        path, fx.load_small_fixture, fx.load_bad_lines_fixture, fx.load_tax_groups_fixture, load_epsilon
    )
    assert [(n.name, n.message) for n in result.nodes if n.blocks] == []
    assert result.status("nothing_rejected") == "warn" and result.published  # a warning does not block
    con = duckdb.connect(str(path))
    yield con
    con.close()


def delta_issues(con, remote_id: str) -> list[tuple]:
    return rows(
        con,
        "SELECT model, remote_id, raw_id, line_number, raw_table, field, reason, source_value, severity "
        "FROM quarantine.issues WHERE tenant_id = 'delta' AND raw_id = ? ORDER BY field",
        [remote_id],
    )


def test_malformed_line_amount_rejects_its_document(delta):
    assert delta_issues(delta, fx.D_BADLINE) == [
        (
            "staging.stg_lexware__sales_voucher_lines",
            f"{fx.D_BADLINE}:2",
            fx.D_BADLINE,
            2,
            "raw_lexware.invoices",
            "lineItems[].lineItemAmount",
            "malformed number",
            "12,50",
            "rejected",
        )
    ]
    # The whole invoice (and its clean first line) stays out; the tenant's other invoices proceed.
    assert rows(delta, "SELECT document_number FROM cdm.invoices WHERE tenant_id = 'delta' ORDER BY 1") == [
        ("D-2",),
        ("D-3",),
        ("D-4",),
    ]
    assert rows(
        delta, "SELECT count(*) FROM cdm.invoice_lines WHERE invoice_id LIKE ?", [f"%{fx.D_BADLINE}"]
    ) == [(0,)]
    # raw_table + raw_id reach the payload.
    assert rows(
        delta,
        "SELECT count(*) FROM raw_lexware.invoices AS r JOIN quarantine.issues AS q "
        "ON q.raw_table = 'raw_lexware.invoices' AND r.tenant_id = q.tenant_id AND r.id = q.raw_id "
        "WHERE q.tenant_id = 'delta'",
    ) == [(3,)]  # D-1's line 2, D-2's line 1 twice


def test_malformed_descriptive_line_values_are_flagged_and_the_line_kept(delta):
    model, key, raw_table = (
        "staging.stg_lexware__sales_voucher_lines",
        f"{fx.D_FLAGLINE}:1",
        "raw_lexware.invoices",
    )
    assert delta_issues(delta, fx.D_FLAGLINE) == [
        (
            model,
            key,
            fx.D_FLAGLINE,
            1,
            raw_table,
            "lineItems[].discountPercentage",
            "malformed number",
            "5%",
            "flagged",
        ),
        (
            model,
            key,
            fx.D_FLAGLINE,
            1,
            raw_table,
            "lineItems[].quantity",
            "malformed number",
            "zwei",
            "flagged",
        ),
    ]
    assert rows(
        delta,
        "SELECT remote_id, quantity, discount_percent, line_amount, net_amount, tax_amount, gross_amount "
        "FROM cdm.invoice_lines WHERE tenant_id = 'delta' AND invoice_id LIKE ?",
        [f"%{fx.D_FLAGLINE}"],
    ) == [(key, None, None, D("100.00"), D("100.00"), D("19.00"), D("119.00"))]


def test_malformed_voucher_position_rejects_the_bill(delta):
    assert delta_issues(delta, fx.D_BADVOUCHER) == [
        (
            "staging.stg_lexware__voucher_items",
            f"{fx.D_BADVOUCHER}:1",
            fx.D_BADVOUCHER,
            1,
            "raw_lexware.vouchers",
            "voucherItems[].taxAmount",
            "malformed number",
            "19,00",
            "rejected",
        )
    ]
    assert rows(
        delta,
        "SELECT b.document_number, l.gross_amount FROM cdm.bills AS b "
        "JOIN cdm.bill_lines AS l ON l.bill_id = b.id WHERE b.tenant_id = 'delta'",
    ) == [("DV-2", D("119.00"))]


def test_rejected_payments_stay_out_of_cdm_payments(delta):
    item = delta_issues(delta, fx.D_BADITEM)
    assert item == [
        (
            "staging.stg_lexware__payment_items",
            f"{fx.D_BADITEM}:2",
            fx.D_BADITEM,
            2,
            "raw_lexware.payments",
            "paymentItems[].amount",
            "malformed number",
            "abc",
            "rejected",
        )
    ]
    assert delta_issues(delta, fx.D_BADPAY) == [
        (
            "staging.stg_lexware__payments",
            fx.D_BADPAY,
            fx.D_BADPAY,
            None,
            "raw_lexware.payments",
            "openAmount",
            "malformed number",
            "n/a",
            "rejected",
        )
    ]
    # D-3's clean first payment proceeds; its bad second one and D-4's rejected payment record do not.
    assert rows(
        delta,
        "SELECT remote_id, document_number, payment_date, amount FROM cdm.payments WHERE tenant_id = 'delta'",
    ) == [(f"{fx.D_BADITEM}:1", "D-3", dt.date(2025, 12, 10), D("60.00"))]
    # Both documents stay in the CDM.
    assert rows(
        delta,
        "SELECT document_number, status FROM cdm.invoices WHERE tenant_id = 'delta' AND remote_id IN (?, ?) "
        "ORDER BY 1",
        [fx.D_BADITEM, fx.D_BADPAY],
    ) == [("D-3", "partially_paid"), ("D-4", "paid")]


def test_contact_with_several_addresses_is_flagged_and_keeps_the_first(delta):
    got = delta_issues(delta, fx.D_CONTACT)
    assert [r[:7] + r[8:] for r in got] == [
        (
            "staging.stg_lexware__contacts",
            fx.D_CONTACT,
            fx.D_CONTACT,
            None,
            "raw_lexware.contacts",
            "addresses.billing",
            "more addresses than the CDM models: first kept",
            "flagged",
        )
    ]
    assert [{k: v for k, v in a.items() if v is not None} for a in json.loads(got[0][7])] == fx.D_ADDRESSES
    assert rows(
        delta,
        "SELECT billing_street, billing_city, shipping_city FROM cdm.contacts WHERE tenant_id = 'delta'",
    ) == [("Kaistraße 7", "Hamburg", "Hamburg")]


def test_every_check_passes_beside_rejected_lines(delta):
    # acme's quarantine is unchanged, and the CDM left after the rejections is consistent (the build of
    # the fixture ran every dbt test: none failed, only the quarantine warning).
    assert rows(delta, "SELECT count(*) FROM quarantine.issues WHERE tenant_id = 'acme'") == [(3,)]
    assert rows(delta, "SELECT count(*) FROM quarantine.issues WHERE severity = 'rejected'")[0][0] > 0


def test_a_priced_line_without_amount_or_tax_rate_rejects_its_document(delta):
    assert rows(
        delta,
        "SELECT raw_id, field, reason, severity FROM quarantine.issues "
        "WHERE tenant_id = 'epsilon' ORDER BY raw_id",
    ) == [
        (EPSILON[0], "lineItems[].lineItemAmount", "missing required field", "rejected"),
        (EPSILON[1], "lineItems[].unitPrice.taxRatePercentage", "missing required field", "rejected"),
    ]  # a text line needs neither
    assert rows(delta, "SELECT document_number FROM cdm.invoices WHERE tenant_id = 'epsilon'") == [("E-3",)]

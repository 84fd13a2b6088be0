"""Items (Lexware articles) in the CDM, the line -> item link, revenue by item, and calendar dates
derived in Europe/Berlin whatever offset a payload carries. Figures by hand from tests/raw_fixtures.py."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from tests import raw_fixtures as fx
from tests.dbt_warehouse import build_at

AS_OF = dt.date(2025, 12, 31)
BELT = f"lexware:acme:{fx.ARTICLE_BELT}"


def _built(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Close the loading connection, dbt build the file, and reopen it."""
    path = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    con.close()
    result = build_at(Path(path), as_of=AS_OF)
    assert result.ok, [(n.name, n.status) for n in result.nodes if n.blocks]
    return duckdb.connect(path)


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    con = duckdb.connect(str(tmp_path_factory.mktemp("items") / "w.duckdb"))
    fx.load_small_fixture(con)
    con = _built(con)
    yield con
    con.close()


def test_articles_become_items(wh):
    got = wh.execute(
        "SELECT remote_id, name, item_type, item_number, gtin, unit_name, net_price, gross_price,"
        " price_basis, tax_rate_percent, status, remote_version, remote_updated_at"
        " FROM cdm.items ORDER BY remote_id"
    ).fetchall()
    updated = dt.datetime(2025, 6, 2, 8, 30, tzinfo=dt.UTC)
    assert [(*r[:12], r[12] == updated) for r in got] == [
        (
            fx.ARTICLE_BELT,
            "Antriebsriemen AR-40",
            "product",
            "AR-40",
            "4012345678901",
            "Stück",
            D("410.5000"),
            D("488.4950"),
            "net",
            D("19.00"),
            "active",
            2,
            True,
        ),
        (
            fx.ARTICLE_UNSOLD,
            "Wartungsvertrag",
            "service",
            None,
            None,
            "Jahr",
            D("1000.0000"),
            D("1190.0000"),
            "gross",
            D("19.00"),
            "archived",
            2,
            True,
        ),
    ]
    assert wh.execute(
        "SELECT DISTINCT id FROM cdm.items WHERE remote_id = ?", [fx.ARTICLE_BELT]
    ).fetchall() == [(BELT,)]


def test_invoice_lines_link_to_their_item(wh):
    got = wh.execute(
        "SELECT l.line_number, l.line_type, l.item_id, i.name FROM cdm.invoice_lines AS l"
        " LEFT JOIN cdm.items AS i ON i.id = l.item_id WHERE l.invoice_id = ? ORDER BY 1",
        [f"lexware:acme:{fx.I1}"],
    ).fetchall()
    assert got == [
        (1, "custom", None, None),
        (2, "material", BELT, "Antriebsriemen AR-40"),
        (3, "text", None, None),
    ]


def test_revenue_by_item(wh):
    got = wh.execute(
        "SELECT tenant_id, month, item_id, item_name, item_number, item_type, quantity, net_amount,"
        " invoice_count, credit_note_count FROM marts.revenue_by_item"
    ).fetchall()
    assert got == [
        (
            "acme",
            dt.date(2025, 10, 1),
            BELT,
            "Antriebsriemen AR-40",
            "AR-40",
            "product",
            D("2.0000"),
            D("821.00"),
            1,
            0,
        )
    ]


def test_revenue_by_item_subtracts_credited_lines_and_skips_drafts(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    fx.load_small_fixture(con)
    belt = {**fx.line("Antriebsriemen AR-40", 1, 410.5, 19, 410.5), "id": fx.ARTICLE_BELT, "type": "material"}
    note = fx.invoice(
        "22222222-0000-4000-8000-0000000000c2", "open", "2025-10-20", None, fx.C1, [belt], 410.5, 78.0, "GS-2"
    )
    draft = fx.invoice(
        "11111111-0000-4000-8000-0000000000d1",
        "draft",
        "2025-10-21",
        None,
        fx.C1,
        [belt],
        410.5,
        78.0,
        "RE-D",
    )
    fx.insert_raw(con, "credit_notes", "acme", [note])
    fx.insert_raw(con, "invoices", "acme", [draft])
    con = _built(con)
    got = con.execute(
        "SELECT month, quantity, net_amount, invoice_count, credit_note_count FROM marts.revenue_by_item"
    ).fetchall()
    assert got == [(dt.date(2025, 10, 1), D("1.0000"), D("410.50"), 1, 1)]
    con.close()


def test_calendar_dates_are_berlin_days_whatever_the_offset(tmp_path, monkeypatch):
    """00:30 Berlin on 1 Nov written as 23:30Z on 31 Oct (and a due date as +05:00): the Berlin day counts,
    also when the machine (and so the DuckDB session dbt opens) runs in another time zone."""
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    fx.create_raw_tables(con)
    fx.insert_raw(con, "contacts", "acme", [fx.contact_company()])
    inv = fx.invoice(
        fx.I2,
        "open",
        "2025-11-01",
        None,
        fx.C1,
        [fx.line("Beratung", 1, 100.0, 19, 100.0)],
        100.0,
        19.0,
        "RE-9",
    )
    inv |= {"voucherDate": "2025-10-31T23:30:00.000Z", "dueDate": "2025-11-15T04:00:00.000+05:00"}
    inv["shippingConditions"]["shippingDate"] = "2025-10-30T23:00:00.000Z"
    fx.insert_raw(con, "invoices", "acme", [inv])
    fx.insert_raw(con, "voucherlist", "acme", [fx.listing(inv, "invoice", 119.0, 119.0)])
    pay = fx.payment(0, "invoice", "paid", [("2025-11-20", 119.0)], paid="2025-11-20")
    pay["paymentItems"][0]["postingDate"] = "2025-11-19T23:00:00.000Z"
    pay["paidDate"] = "2025-11-19T23:00:00.000Z"
    fx.insert_payment(con, "acme", fx.I2, pay)
    con = _built(con)
    got = con.execute("SELECT issue_date, due_date, service_date, paid_on FROM cdm.invoices").fetchall()
    assert got == [
        (dt.date(2025, 11, 1), dt.date(2025, 11, 15), dt.date(2025, 10, 31), dt.date(2025, 11, 20))
    ]
    assert con.execute("SELECT payment_date FROM cdm.payments").fetchall() == [(dt.date(2025, 11, 20),)]
    listed = con.execute("SELECT issue_date, due_date FROM staging.stg_lexware__voucherlist").fetchall()
    assert listed == [(dt.date(2025, 11, 1), dt.date(2025, 11, 15))]
    con.close()
    monkeypatch.delenv("TZ")
    time.tzset()

"""Payments the voucher list already tells are not requested, and the rows are still the API's answers:
an open document listed unpaid (open amount = total) needs no call; listed `overdue` it needs one page of
the sepadebit documents (overdue stands for open or sepadebit); a part payment or a direct debit keeps
its call."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import pytest

from bench.sandbox_sync import write_config
from pipelines.lexware.helpers import unpaid_payments
from pipelines.lexware.sync import sync_tenant
from sandbox.process import start_sandbox
from tests.extraction_helpers import assert_matches_export, rows

ENV = "KONTOR_TEST_DEMO_KEY"


@pytest.fixture(scope="module")
def sb():
    with start_sandbox(rate_limit=1000, size="small") as sandbox:
        yield sandbox


def _unpaid_open_invoices(export: dict) -> list[dict]:
    listed = {e["id"]: e for e in export["voucherlist"]}
    return [
        r
        for r in export["invoices"]
        if r["voucherStatus"] == "open"
        and Decimal(str(listed[r["id"]]["openAmount"])) == Decimal(str(listed[r["id"]]["totalAmount"]))
    ]


def test_only_payments_the_list_cannot_tell_are_requested(sb, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "sandbox-demo-key")
    sb.reset()
    future = (sb.clock() + timedelta(days=30)).strftime("%Y-%m-%dT00:00:00.000+01:00")
    unpaid_due_later, unpaid_overdue, part_paid, direct_debit = _unpaid_open_invoices(sb.export("demo"))[:4]
    sb.edit("demo", "invoices", unpaid_due_later["id"], changes={"dueDate": future})
    sb.edit("demo", "invoices", part_paid["id"], action="pay", changes={"amount": 1})
    sb.edit("demo", "invoices", direct_debit["id"], changes={"voucherStatus": "sepadebit"})
    export = sb.export("demo")
    listed = {e["id"]: e for e in export["voucherlist"]}
    assert listed[unpaid_due_later["id"]]["voucherStatus"] == "open"
    assert listed[unpaid_overdue["id"]]["voucherStatus"] == "overdue"
    assert listed[direct_debit["id"]]["voucherStatus"] == "overdue"  # the list hides the direct debit
    assert listed[part_paid["id"]]["voucherStatus"] in ("open", "overdue")

    cfg = write_config(tmp_path, sb.base_url, {"demo": ENV})
    sb.reset_stats()
    result = sync_tenant(cfg, "demo")
    calls = sb.tenant_stats("demo")["by_endpoint"]

    # every payments row is exactly the API's answer, including the ones read from the list
    assert_matches_export(cfg, export, "demo")
    loaded = rows(cfg, "payments", "demo")
    assert loaded[direct_debit["id"]]["voucherStatus"] == "sepadebit"
    assert len(loaded[part_paid["id"]]["paymentItems"]) == 1
    # open documents listed unpaid (not under direct debit) cost no call; all others with payments do
    told = {
        i
        for i in export["payments"]
        if i != direct_debit["id"]
        and listed[i]["voucherStatus"] in ("open", "overdue")
        and Decimal(str(listed[i]["openAmount"])) == Decimal(str(listed[i]["totalAmount"]))
    }
    assert {unpaid_due_later["id"], unpaid_overdue["id"]} <= told
    assert part_paid["id"] not in told and direct_debit["id"] not in told
    assert calls["GET /v1/payments/{id}"] == len(export["payments"]) - len(told)
    assert result.rows["payments"] == len(export["payments"])
    # one extra list page: the sepadebit documents, which tell the overdue ones apart
    assert calls["GET /v1/voucherlist"] == math.ceil(len(export["voucherlist"]) / 250) + 1


def test_the_list_tells_nothing_about_documents_with_payments_or_without_a_status_it_can_read():
    entry = {
        "id": "a",
        "voucherType": "invoice",
        "voucherStatus": "open",
        "totalAmount": 119.0,
        "openAmount": 119,
        "currency": "EUR",
    }
    assert unpaid_payments(entry) == {
        "openAmount": 119,
        "currency": "EUR",
        "paymentStatus": "openRevenue",
        "voucherType": "invoice",
        "voucherStatus": "open",
        "paymentItems": [],
    }
    assert unpaid_payments({**entry, "voucherType": "purchaseinvoice"})["paymentStatus"] == "openExpense"
    assert unpaid_payments({**entry, "openAmount": 100}) is None  # a part payment: only the call has items
    assert unpaid_payments({**entry, "openAmount": None}) is None
    assert unpaid_payments({**entry, "totalAmount": 0, "openAmount": 0}) is None
    for status in ("paid", "paidoff", "voided", "transferred", "sepadebit", "draft"):
        assert unpaid_payments({**entry, "voucherStatus": status}) is None
    overdue = {**entry, "voucherStatus": "overdue"}
    assert unpaid_payments(overdue) is None  # open or sepadebit: unknown without the sepadebit list
    assert unpaid_payments(overdue, sepadebit={"a"}) is None
    assert unpaid_payments(overdue, sepadebit={"b"})["voucherStatus"] == "open"
    assert unpaid_payments({**entry, "voucherType": "quotation"}) is None

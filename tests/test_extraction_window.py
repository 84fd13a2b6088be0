"""The 10,000-row search window (reference §3.1): a listing that reaches it is sliced with the filters the
API has (date ranges, voucher types, statuses, voucher/created dates inside a day, archived; contact
roles) until every part is below it, exactly (no row missed or listed twice). A part that no filter
can split is read as far as the window reaches and reported: the run is not complete, the mark stays at
its day, and the rows come in once they are reachable."""

from __future__ import annotations

import math
from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dagster import DagsterInstance

from bench.sandbox_sync import write_config
from pipelines.lexware import VOUCHERLIST_QUERY, settings
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.helpers import RunReport, parse_ts
from pipelines.lexware.slicing import contact_pages, windowed_pages
from pipelines.lexware.sync import sync_tenant
from sandbox.process import start_sandbox
from tests.extraction_helpers import assert_matches_export, count_rows, rows

KEY, ENV = "window-key", "KONTOR_TEST_WINDOW_KEY"
IMPORT_DAY = "2026-06-30T00:00:00.000+02:00"  # the voucher date of a migration import


@contextmanager
def window_sandbox(tmp_path, monkeypatch, window: int = 10_000, **counts):
    """A sandbox without a rate limit and a kontor.yaml pointing at it. `window`: a smaller search window
    for sandbox and client alike (the same logic on books a tenth of the size, for the slower cases)."""
    monkeypatch.setenv(ENV, KEY)
    monkeypatch.setattr(settings, "SEARCH_WINDOW", window)
    with start_sandbox(tenants={"demo": KEY}, rate_limit=0, search_window=window, **counts) as sb:
        yield sb, write_config(tmp_path, sb.base_url, {"demo": ENV}, rps=1000)


def listed(cfg, prefix: str, start: date, end: date | None = None) -> tuple[list[str], RunReport]:
    """The ids one voucherlist listing yields, and its report."""
    report = RunReport("demo")
    with LexwareClient(cfg.tenant("demo")) as client:
        pages = windowed_pages(client, VOUCHERLIST_QUERY, prefix, start, end, report)
        return [e["id"] for page in pages for e in page], report


def no_duplicates(cfg) -> None:
    for table in ("voucherlist", "invoices", "vouchers", "payments"):
        total, distinct = count_rows(cfg, table)
        assert total == distinct, f"{table}: {total - distinct} duplicate rows"


def test_queries_beyond_the_search_window_are_sliced(tmp_path, monkeypatch):
    with window_sandbox(tmp_path, monkeypatch, contacts=20, invoices=10_400, vouchers=10, credit_notes=2) as (
            sb, cfg):
        expected = {e["id"] for e in sb.export("demo")["voucherlist"]}
        sb.reset_stats()
        ids, report = listed(cfg, "voucher", date(2000, 1, 1))
        stats = sb.tenant_stats("demo")
    assert len(expected) > 10_000
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert report.incomplete == {}
    assert stats["status"].get("400", 0) == 0  # never asked past the window
    # each split costs one extra first page, finding the last voucher date one more; a handful at most
    assert stats["requests"] <= math.ceil(len(expected) / 250) + 9


def test_more_than_10000_changes_on_one_berlin_day_all_reach_the_warehouse(tmp_path, monkeypatch):
    """The issue's case: a synced tenant, then a bulk status change of every invoice on one day (open
    ones paid, all handed to the tax advisor): one day, one type and one status hold more than 10,000
    changes, so the listing is sliced down to voucher-date ranges inside that day."""
    with window_sandbox(tmp_path, monkeypatch, contacts=40, invoices=10_300, vouchers=150,
                        credit_notes=10) as (sb, cfg):
        sync_tenant(cfg, "demo")
        before = sb.export("demo")
        edits = [{"resource": "invoices", "id": r["id"], "action": "pay"}
                 for r in before["invoices"] if r["voucherStatus"] == "open"]
        edits += [{"resource": kind, "id": r["id"], "changes": {"remark": "An den Steuerberater übergeben"}}
                  for kind in ("invoices", "vouchers") for r in before[kind]]
        assert sb.bulk_edit("demo", edits)["refused"] == []
        export = sb.export("demo")
        statuses = Counter(r["voucherStatus"] for r in export["invoices"])
        assert statuses["paid"] >= 10_000  # one type, one status, one updated day: beyond the window
        sb.reset_stats()
        result = sync_tenant(cfg, "demo", reconcile=False)
        stats = sb.tenant_stats("demo")
        assert result.complete and result.incomplete == {}
        assert result.rows["voucherlist"] == len(export["invoices"]) + len(export["vouchers"])
        assert_matches_export(cfg, export, "demo")
        no_duplicates(cfg)
    assert stats["status"].get("400", 0) == 0
    list_requests = stats["by_endpoint"]["GET /v1/voucherlist"]
    # the changed rows' pages plus the slicing's first pages (a few dozen), not a re-listing of everything
    assert list_requests <= math.ceil(result.rows["voucherlist"] / 250) + 60


def test_more_than_10000_vouchers_on_one_voucher_date_are_listed_completely(tmp_path, monkeypatch):
    """A migration import: more than 10,000 vouchers of every type and status created today, all dated
    on one day. The incremental run and a backfill of that voucher date both list every one of them."""
    with window_sandbox(tmp_path, monkeypatch, contacts=40, invoices=200, vouchers=200, credit_notes=10) as (
            sb, cfg):
        sync_tenant(cfg, "demo")
        before = sb.export("demo")
        templates: dict[tuple, tuple[str, str]] = {}
        for kind in ("invoices", "vouchers"):
            for r in before[kind]:
                templates.setdefault((r.get("type", "invoice"), r["voucherStatus"]), (kind, r["id"]))
        each = math.ceil(10_400 / len(templates))
        imported = set()
        for kind, template in templates.values():
            imported |= set(sb.bulk_create("demo", kind, template, each, {"voucherDate": IMPORT_DAY}))
        result = sync_tenant(cfg, "demo", reconcile=False)
        export = sb.export("demo")
        assert result.complete
        assert imported <= rows(cfg, "voucherlist", "demo").keys()
        assert_matches_export(cfg, export, "demo")
        no_duplicates(cfg)
        day = date(2026, 6, 30)
        on_day = {e["id"] for e in export["voucherlist"] if e["voucherDate"] == IMPORT_DAY}
        assert len(on_day) > 10_000
        sb.reset_stats()
        ids, report = listed(cfg, "voucher", day, day)  # a backfill of that voucher date
        stats = sb.tenant_stats("demo")
    assert report.incomplete == {}
    assert len(ids) == len(set(ids)) and set(ids) == on_day
    assert stats["status"].get("400", 0) == 0
    assert stats["requests"] <= math.ceil(len(on_day) / 250) + 40


def test_a_slice_no_filter_can_split_is_reported_and_caught_up_once_reachable(tmp_path, monkeypatch):
    """Window+100 identical drafts imported at once (same type, status, voucher date, created and updated
    day, archived flag): no filter the API has splits them. The run loads the rows it can reach, says
    which slice it could not complete, keeps the mark at that day and does not treat the rest as
    deleted; once a user archives some of them the slice splits and the next run is complete. (A window
    of 500 on both sides: the same code paths as at 10,000, without fetching 10,000 details.)"""
    window = 500
    books = {"contacts": 20, "invoices": 60, "vouchers": 20, "credit_notes": 2}
    with window_sandbox(tmp_path, monkeypatch, window, **books) as (sb, cfg):
        sync_tenant(cfg, "demo")
        draft = next(r for r in sb.export("demo")["invoices"] if r["voucherStatus"] == "draft")
        imported = sb.bulk_create("demo", "invoices", draft["id"], window + 100, {"voucherDate": IMPORT_DAY})
        result = sync_tenant(cfg, "demo", reconcile=True)
        assert not result.complete
        [part] = result.incomplete["voucherlist"]
        assert part["listed"] == window and part["reported_total"] == window
        assert part["filters"]["voucherType"] == "invoice" and part["filters"]["voucherStatus"] == "draft"
        assert part["filters"]["archived"] == "false"
        assert not result.reconciled  # a partial scan flags nothing as deleted
        loaded = rows(cfg, "invoices", "demo")
        assert len(set(imported) - loaded.keys()) == 100  # exactly the rows beyond the window
        now = sb.clock()
        midnight = datetime.combine(now.date(), datetime.min.time(), tzinfo=ZoneInfo("Europe/Berlin"))
        assert parse_ts(result.cursor) == midnight  # the mark waits at the incomplete day
        edits = [{"resource": "invoices", "id": i, "changes": {"archived": True}} for i in imported[:150]]
        assert sb.bulk_edit("demo", edits)["refused"] == []
        result = sync_tenant(cfg, "demo", reconcile=False)
        assert result.complete
        assert_matches_export(cfg, sb.export("demo"), "demo")
        no_duplicates(cfg)


def test_contacts_beyond_the_window_are_listed_by_role(tmp_path, monkeypatch):
    """10,600 contacts: the unfiltered list reaches the window (the sandbox applies it to contacts too);
    customer-only, vendor-only and both-role slices each stay below it and cover every contact once."""
    with window_sandbox(tmp_path, monkeypatch, contacts=10_600, invoices=5, vouchers=5, credit_notes=1) as (
            sb, cfg):
        expected = {c["id"] for c in sb.export("demo")["contacts"]}
        deep = sb.http.get("/v1/contacts", params={"page": 40, "size": 250},
                           headers={"Authorization": f"Bearer {KEY}"})
        sb.reset_stats()
        report = RunReport("demo")
        with LexwareClient(cfg.tenant("demo")) as client:
            ids = [c["id"] for page in contact_pages(client, report) for c in page]
        stats = sb.tenant_stats("demo")
    assert deep.status_code == 400  # the window applies to contacts (reference §3.1)
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert report.incomplete == {}
    assert stats["status"].get("400", 0) == 0
    assert stats["requests"] <= math.ceil(len(expected) / 250) + 4


def test_contacts_no_filter_can_bring_below_the_window_fail_the_listing_check(tmp_path, monkeypatch):
    """Window+50 customer-only contacts: no role slice is below the window and the name/email filters are
    substring matches that cannot partition. The Dagster sync loads what it reaches, its metadata name the
    slice and the rows listed, and the blocking `listing_complete` check fails (the run is not green).
    (A window of 500 on both sides, as above.)"""
    from assets.definitions import defs
    from assets.extraction import KontorConfigResource

    window = 500
    books = {"contacts": 20, "invoices": 5, "vouchers": 5, "credit_notes": 1}
    with window_sandbox(tmp_path, monkeypatch, window, **books) as (sb, cfg):
        customer = next(c for c in sb.export("demo")["contacts"] if list(c["roles"]) == ["customer"])
        sb.bulk_create("demo", "contacts", customer["id"], window + 50)
        total = len(sb.export("demo")["contacts"])
        result = defs.resolve_job_def("lexware_sync").execute_in_process(
            partition_key="demo", instance=DagsterInstance.ephemeral(), raise_on_error=False,
            resources={"kontor": KontorConfigResource(path=str(cfg.path))})
    assert not result.success
    mats = {m.asset_key.path[-1]: m.metadata for m in result.asset_materializations_for_node("lexware_raw")}
    assert mats["contacts"]["listing_complete"].value is False
    [part] = mats["contacts"]["incomplete_slices"].value
    assert part["filters"] == {"customer": "true", "vendor": "false"} and part["listed"] == window
    assert mats["voucherlist"]["listing_complete"].value is True
    assert window <= mats["contacts"]["dagster/row_count"].value < total
    checks = {e.asset_check_key.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}
    assert not checks["contacts"].passed and checks["voucherlist"].passed
    assert checks["contacts"].metadata["incomplete_tenants"].value == {"demo": [part]}

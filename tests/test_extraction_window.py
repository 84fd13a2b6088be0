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
from pipelines.cli import _run as cli_run
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
        sb,
        cfg,
    ):
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


def tax_advisor_handover(export: dict) -> list[dict]:
    """The issue's bulk status change on one day: every open invoice paid, every voucher's remark set."""
    edits = [
        {"resource": "invoices", "id": r["id"], "action": "pay"}
        for r in export["invoices"]
        if r["voucherStatus"] == "open"
    ]
    return edits + [
        {"resource": kind, "id": r["id"], "changes": {"remark": "An den Steuerberater übergeben"}}
        for kind in ("invoices", "vouchers")
        for r in export[kind]
    ]


def one_query_reaches_the_window(cfg, query: dict) -> bool:
    with LexwareClient(cfg.tenant("demo")) as client:
        return client.get("/v1/voucherlist", {**VOUCHERLIST_QUERY, **query})["totalElements"] == 10_000


def test_more_than_10000_changes_on_one_berlin_day_are_listed_completely(tmp_path, monkeypatch):
    """The issue's case at full scale: a bulk status change of 10,750 vouchers on one Berlin day, of
    which more than 10,000 are paid invoices (one day, one type, one status): the incremental listing of
    that day is sliced down to voucher-date ranges inside it and yields every changed row exactly once."""
    books = {"contacts": 40, "invoices": 10_600, "vouchers": 150, "credit_notes": 10}
    with window_sandbox(tmp_path, monkeypatch, **books) as (sb, cfg):
        assert sb.bulk_edit("demo", tax_advisor_handover(sb.export("demo")))["refused"] == []
        export = sb.export("demo")
        assert Counter(r["voucherStatus"] for r in export["invoices"])["paid"] >= 10_000
        day = sb.clock().date()
        changed = {e["id"] for e in export["voucherlist"] if e["updatedDate"][:10] == day.isoformat()}
        assert len(changed) > 10_000 and one_query_reaches_the_window(cfg, {"updatedDateFrom": str(day)})
        sb.reset_stats()
        ids, report = listed(cfg, "updated", day)
        stats = sb.tenant_stats("demo")
    assert report.incomplete == {}
    assert len(ids) == len(set(ids)) and set(ids) == changed
    assert stats["status"].get("400", 0) == 0  # never asked past the window
    # the changed rows' pages plus one first page per part (and the last voucher date): a few dozen
    assert stats["requests"] <= math.ceil(len(changed) / 250) + 60


def test_a_bulk_change_beyond_the_window_on_one_day_reaches_the_warehouse(tmp_path, monkeypatch):
    """The same case end to end, at a window of 500 on both sides (the code paths of 10,000 without
    fetching 20,000 details): a synced tenant, the bulk change, an incremental run that is complete and
    leaves the warehouse equal to the ground truth (the old day-only slicing left the excess stale)."""
    window = 500
    books = {"contacts": 40, "invoices": 700, "vouchers": 40, "credit_notes": 5}
    with window_sandbox(tmp_path, monkeypatch, window, **books) as (sb, cfg):
        sync_tenant(cfg, "demo")
        assert sb.bulk_edit("demo", tax_advisor_handover(sb.export("demo")))["refused"] == []
        export = sb.export("demo")
        assert Counter(r["voucherStatus"] for r in export["invoices"])["paid"] >= window
        result = sync_tenant(cfg, "demo", reconcile=False)
        assert result.complete
        assert result.rows["voucherlist"] == len(export["invoices"]) + len(export["vouchers"])
        assert_matches_export(cfg, export, "demo")
        no_duplicates(cfg)
        assert sb.tenant_stats("demo")["status"].get("400", 0) == 0


def test_more_than_10000_vouchers_on_one_voucher_date_are_listed_completely(tmp_path, monkeypatch):
    """A migration import: 10,400 vouchers of every type and status created at once, all dated on one
    day. Both the incremental listing (their updated day) and a backfill of that voucher date list every
    one of them exactly once."""
    books = {"contacts": 40, "invoices": 200, "vouchers": 200, "credit_notes": 10}
    with window_sandbox(tmp_path, monkeypatch, **books) as (sb, cfg):
        before = sb.export("demo")
        templates: dict[tuple, tuple[str, str]] = {}
        for kind in ("invoices", "vouchers"):
            for r in before[kind]:
                templates.setdefault((r.get("type", "invoice"), r["voucherStatus"]), (kind, r["id"]))
        each = math.ceil(10_400 / len(templates))
        for kind, template in templates.values():
            sb.bulk_create("demo", kind, template, each, {"voucherDate": IMPORT_DAY})
        export = sb.export("demo")
        day = sb.clock().date()
        changed = {e["id"] for e in export["voucherlist"] if e["updatedDate"][:10] == day.isoformat()}
        on_date = {e["id"] for e in export["voucherlist"] if e["voucherDate"] == IMPORT_DAY}
        assert len(on_date) > 10_000 and one_query_reaches_the_window(
            cfg, {"voucherDateFrom": IMPORT_DAY[:10], "voucherDateTo": IMPORT_DAY[:10]}
        )
        sb.reset_stats()
        incremental, report = listed(cfg, "updated", day)
        backfill, backfill_report = listed(
            cfg, "voucher", date.fromisoformat(IMPORT_DAY[:10]), date.fromisoformat(IMPORT_DAY[:10])
        )
        stats = sb.tenant_stats("demo")
    assert report.incomplete == {} and backfill_report.incomplete == {}
    assert len(incremental) == len(set(incremental)) and set(incremental) == changed
    assert len(backfill) == len(set(backfill)) and set(backfill) == on_date
    assert stats["status"].get("400", 0) == 0
    assert stats["requests"] <= math.ceil(len(changed) / 250) + math.ceil(len(on_date) / 250) + 80


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
        again = cli_run(str(cfg.path), "demo", "incremental", None, None)  # as `make sync` runs it
        assert again["ok"] is False and again["incomplete"]["voucherlist"][0]["filters"] == part["filters"]
        assert again["rows"].get("invoices", 0) == 0  # the reachable rows are not fetched again
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
        sb,
        cfg,
    ):
        expected = {c["id"] for c in sb.export("demo")["contacts"]}
        deep = sb.http.get(
            "/v1/contacts", params={"page": 40, "size": 250}, headers={"Authorization": f"Bearer {KEY}"}
        )
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
            partition_key="demo",
            instance=DagsterInstance.ephemeral(),
            raise_on_error=False,
            resources={"kontor": KontorConfigResource(path=str(cfg.path))},
        )
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

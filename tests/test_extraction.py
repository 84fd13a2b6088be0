"""End-to-end extraction against the real sandbox process: exact equality with its ground truth,
request counts of incremental runs, backfill windows, deletes, 401/403, SIGKILL mid-run."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from bench.sandbox_sync import detail_cost, full_sync_cost, write_config
from core.warehouse import snapshot_path
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import AuthError
from pipelines.lexware.sync import pipeline_for, sync_tenant
from sandbox.process import start_sandbox
from tests.extraction_helpers import (
    KILL_AFTER_CONFIRMING_DELETES,
    KILL_AFTER_NORMALIZE,
    assert_matches_export,
    count_rows,
    rows,
    run_killed,
    start_full_sync,
)

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"demo": "demo-key", "other": "other-key", "noplan": "noplan-key"}
ENVS = {"demo": "KONTOR_TEST_DEMO_KEY", "other": "KONTOR_TEST_OTHER_KEY", "noplan": "KONTOR_TEST_NOPLAN_KEY"}
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def sb():
    with start_sandbox("--plan", "noplan=none", tenants=KEYS, rate_limit=1000, size="small") as sandbox:
        yield sandbox


@pytest.fixture
def cfg(sb, tmp_path, monkeypatch):
    sb.reset()
    sb.reset_stats()
    for tenant, env in ENVS.items():
        monkeypatch.setenv(env, KEYS[tenant])
    return write_config(tmp_path, sb.base_url, ENVS)


def marks(cfg, tenant: str = "demo") -> dict:
    """The voucherlist's stored state: low-water mark `lwm` and `known` {id: updatedDate}."""
    return pipeline_for(cfg, cfg.tenant(tenant)).state["sources"]["lexware"]["resources"]["voucherlist"]


def cursor(cfg, tenant: str = "demo") -> str:
    return marks(cfg, tenant)["lwm"]


def rows_or_none(cfg):
    if not cfg.warehouse.exists():
        return None
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'raw_lexware' AND table_name = 'contacts'"
        ).fetchall()
        return con.execute("SELECT count(*) FROM raw_lexware.contacts").fetchone()[0] if tables else None
    finally:
        con.close()


def test_full_sync_equals_export_with_minimum_requests(sb, cfg):
    result = sync_tenant(cfg, "demo")
    export = sb.export("demo")
    assert_matches_export(cfg, export, "demo")
    stats = sb.tenant_stats("demo")
    assert stats["requests"] == result.client["requests"] == full_sync_cost(export)
    assert stats["status"].get("429", 0) == 0 and result.client["rate_limited_429"] == 0
    assert result.rows["invoices"] == len(export["invoices"])
    # tenant_id/source_system on every row; the API key nowhere in the warehouse
    for table in ("contacts", "payments", "profile"):
        assert count_rows(cfg, table)[0] == len(rows(cfg, table, "demo"))
    for path in (p for p in cfg.data_dir.rglob("*") if p.is_file()):  # warehouse, dlt state, budgets
        assert KEYS["demo"].encode() not in path.read_bytes(), path
    assert snapshot_path(cfg.warehouse).exists()


def test_incremental_picks_up_exactly_the_edits(sb, cfg):
    sync_tenant(cfg, "demo")
    before = sb.export("demo")
    sb.reset_stats()
    quiet = sync_tenant(cfg, "demo")
    # nothing changed: profile + posting categories + one page each of contacts, articles, voucherlist
    assert sb.tenant_stats("demo")["requests"] == quiet.client["requests"] == 5
    assert quiet.rows.get("voucherlist", 0) == 0 and quiet.rows.get("contacts", 0) == 0

    contact = before["contacts"][5]
    open_invoice = next(r for r in before["invoices"] if r["voucherStatus"] == "open")
    voucher = before["vouchers"][3]
    sb.edit("demo", "contacts", contact["id"], changes={"note": "geändert von Kontor-Test"})
    sb.edit("demo", "invoices", open_invoice["id"], action="pay")
    sb.edit("demo", "vouchers", voucher["id"], changes={"remark": "umgebucht"})
    after = sb.export("demo")
    sb.reset_stats()
    result = sync_tenant(cfg, "demo", reconcile=False)

    changed = {open_invoice["id"], voucher["id"]}
    assert sb.tenant_stats("demo")["requests"] == 5 + detail_cost(after, changed)
    assert result.rows["contacts"] == 1
    assert result.rows["voucherlist"] == 2
    assert result.rows["invoices"] == 1 and result.rows["vouchers"] == 1
    assert_matches_export(cfg, after, "demo")
    assert rows(cfg, "invoices", "demo")[open_invoice["id"]]["voucherStatus"] == "paid"


def test_deleted_records_are_flagged_not_kept_live(sb, cfg):
    sync_tenant(cfg, "demo")
    draft = next(r for r in sb.export("demo")["invoices"] if r["voucherStatus"] == "draft")
    sb.edit("demo", "invoices", draft["id"], action="delete")
    export = sb.export("demo")
    sb.reset_stats()
    result = sync_tenant(cfg, "demo", reconcile=True)
    # the reconciliation reads list pages, plus one GET confirming the vanished record is gone (404)
    pages = math.ceil(len(export["voucherlist"]) / 250)
    calls = sb.tenant_stats("demo")["by_endpoint"]
    assert calls["GET /v1/voucherlist"] == pages and calls["GET /v1/invoices/{id}"] == 1
    assert sb.tenant_stats("demo")["status"]["404"] == 1
    assert result.flagged_deleted == {"voucherlist": 1, "invoices": 1}
    assert_matches_export(cfg, export, "demo")  # live rows only
    gone = rows(cfg, "invoices", "demo", deleted=True)
    assert gone.keys() == {draft["id"]} and gone[draft["id"]] == draft  # last payload kept


def test_articles_are_scanned_every_run_and_a_deleted_one_is_flagged(sb, cfg):
    sync_tenant(cfg, "demo")
    articles = sb.export("demo")["articles"]
    assert rows(cfg, "articles", "demo") == {a["id"]: a for a in articles}
    gone = articles[0]
    sb.edit("demo", "articles", gone["id"], action="delete")
    sb.reset_stats()
    result = sync_tenant(cfg, "demo", reconcile=False)  # the article list is read in full every run
    calls = sb.tenant_stats("demo")["by_endpoint"]
    assert calls["GET /v1/articles"] == 1 and calls["GET /v1/articles/{id}"] == 1  # the 404 confirming it
    assert result.flagged_deleted == {"articles": 1}
    assert_matches_export(cfg, sb.export("demo"), "demo")
    assert rows(cfg, "articles", "demo", deleted=True) == {gone["id"]: gone}


def test_backfill_reextracts_exactly_the_window_without_moving_the_cursor(sb, cfg):
    sync_tenant(cfg, "demo")
    export = sb.export("demo")
    before = json.loads(json.dumps(marks(cfg)))
    assert before["lwm"] and before["known"]
    start, end = date(2025, 1, 1), date(2025, 3, 31)

    def day(entry):
        return datetime.fromisoformat(entry["voucherDate"]).astimezone(BERLIN).date()

    window = {e["id"] for e in export["voucherlist"] if start <= day(e) <= end}
    assert 0 < len(window) < len(export["voucherlist"])
    sb.reset_stats()
    result = sync_tenant(cfg, "demo", mode="backfill", voucher_date_from=start, voucher_date_to=end)
    # + 1: the tenant-binding check reads /v1/profile (a backfill has no profile resource to share it)
    pages = math.ceil(len(window) / 250)
    assert sb.tenant_stats("demo")["requests"] == 1 + pages + detail_cost(export, window)
    assert result.rows["voucherlist"] == len(window)
    assert set(result.rows) <= {"voucherlist", "invoices", "credit_notes", "vouchers", "payments"} | {
        t for t in result.rows if "__" in t
    }
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    reloaded = {
        r[0]
        for r in con.execute(
            "SELECT id FROM raw_lexware.voucherlist WHERE _dlt_load_id = ?", [result.load_id]
        ).fetchall()
    }
    con.close()
    assert reloaded == window
    assert marks(cfg) == before  # neither lwm nor known moved
    assert_matches_export(cfg, export, "demo")


def test_full_refresh_of_one_tenant_leaves_the_other_alone(sb, cfg):
    sync_tenant(cfg, "demo")
    sync_tenant(cfg, "other")
    sb.reset_stats()
    result = sync_tenant(cfg, "other", mode="full")
    assert sb.tenant_stats("other")["requests"] == full_sync_cost(sb.export("other"))
    assert result.rows["contacts"] == len(sb.export("other")["contacts"])
    assert sb.tenant_stats("demo")["requests"] == 0
    assert_matches_export(cfg, sb.export("demo"), "demo")
    assert_matches_export(cfg, sb.export("other"), "other")
    assert count_rows(cfg, "invoices")[0] == count_rows(cfg, "invoices")[1]


def test_full_refresh_sets_the_cursor_like_a_full_sync(sb, cfg):
    # a first sync that is a full refresh, then one after edits: each leaves the cursor where a full
    # incremental sync would, so the next quiet incremental run costs the minimum
    sync_tenant(cfg, "demo", mode="full")
    sb.reset_stats()
    assert sync_tenant(cfg, "demo").client["requests"] == sb.tenant_stats("demo")["requests"] == 5
    expected = cursor(cfg)
    voucher = sb.export("demo")["vouchers"][2]
    sb.edit("demo", "vouchers", voucher["id"], changes={"remark": "vor dem Full Refresh"})
    result = sync_tenant(cfg, "demo", mode="full")
    assert cursor(cfg) > expected and result.cursor == str(cursor(cfg))
    sb.reset_stats()
    quiet = sync_tenant(cfg, "demo", reconcile=False)
    assert sb.tenant_stats("demo")["requests"] == 5 and quiet.rows.get("voucherlist", 0) == 0
    assert_matches_export(cfg, sb.export("demo"), "demo")


def test_revoked_key_fails_with_a_clear_error(sb, cfg, monkeypatch):
    monkeypatch.setenv(ENVS["demo"], "revoked-key")
    with pytest.raises(AuthError) as err:
        sync_tenant(cfg, "demo")
    assert "'demo'" in str(err.value) and "401" in str(err.value) and ENVS["demo"] in str(err.value)
    assert "revoked-key" not in str(err.value)
    unauthorized = sum(t["status"].get("401", 0) for t in sb.stats()["tenants"].values())
    assert unauthorized == 1  # no retries, no further calls
    assert rows_or_none(cfg) is None  # nothing loaded


def test_endpoints_outside_the_plan_are_skipped_and_reported(sb, cfg):
    result = sync_tenant(cfg, "noplan")
    assert set(result.not_in_plan) == {"profile", "posting_categories", "contacts", "articles", "voucherlist"}
    assert all("403" in reason for reason in result.not_in_plan.values())
    # one 403 per list resource, no retries, the run still completes
    assert sb.tenant_stats("noplan")["requests"] == 5


def test_sigkill_mid_extraction_then_rerun_is_exact(sb, cfg):
    slow = write_config(cfg.path.parent, sb.base_url, ENVS, rps=60)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(slow.path), "--tenant", "demo"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while sb.tenant_stats("demo")["requests"] < 150 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    sync_tenant(cfg, "demo")
    assert_matches_export(cfg, sb.export("demo"), "demo")
    for table in ("voucherlist", "invoices", "payments", "contacts"):
        total, distinct = count_rows(cfg, table)
        assert total == distinct


def test_cli_syncs_all_tenants_and_reports_failures(sb, cfg):
    out = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(cfg.path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    results = {r["tenant"]: r for r in map(json.loads, out.stdout.splitlines())}
    assert results.keys() == {"demo", "other", "noplan"}
    assert results["demo"]["ok"] and results["other"]["ok"]
    assert results["noplan"]["not_in_plan"]
    assert out.returncode == 0
    assert KEYS["demo"] not in out.stdout + out.stderr


def test_a_subset_loads_every_table_that_shares_the_voucher_cursor(sb, cfg):
    result = sync_tenant(cfg, "demo", tables=["invoices"])
    export = sb.export("demo")
    assert result.rows["invoices"] == len(export["invoices"])
    assert result.rows["voucherlist"] == len(export["voucherlist"])  # the cursor moved with its rows
    assert result.rows["payments"] == len(export["payments"])
    assert "contacts" not in result.rows
    sb.reset_stats()
    sync_tenant(cfg, "demo")
    assert_matches_export(cfg, export, "demo")


def test_a_package_left_by_a_killed_run_is_loaded_before_the_next_extraction(sb, cfg):
    sync_tenant(cfg, "demo")
    contact = sb.export("demo")["contacts"][0]
    sb.edit("demo", "contacts", contact["id"], changes={"note": "vor dem Absturz"})
    proc = run_killed(cfg, "lexware", KILL_AFTER_NORMALIZE)
    assert proc.returncode == -signal.SIGKILL
    assert rows(cfg, "contacts", "demo")[contact["id"]]["version"] == contact["version"]  # not loaded yet
    sb.reset_stats()
    result = sync_tenant(cfg, "demo")
    assert result.rows.get("contacts", 0) == 0  # the pending package carried the change and its state
    assert_matches_export(cfg, sb.export("demo"), "demo")
    assert count_rows(cfg, "contacts")[0] == count_rows(cfg, "contacts")[1]


def test_deletes_confirmed_by_a_killed_run_are_flagged_by_the_next(sb, cfg):
    sync_tenant(cfg, "demo")
    draft = next(r for r in sb.export("demo")["invoices"] if r["voucherStatus"] == "draft")
    sb.edit("demo", "invoices", draft["id"], action="delete")
    proc = run_killed(cfg, "lexware", KILL_AFTER_CONFIRMING_DELETES)
    assert proc.returncode == -signal.SIGKILL
    assert not rows(cfg, "invoices", "demo", deleted=True)  # the killed run flagged nothing
    sb.reset_stats()
    result = sync_tenant(cfg, "demo", reconcile=False)  # no scan of its own: the record is applied
    assert result.flagged_deleted == {"voucherlist": 1, "invoices": 1}
    assert "GET /v1/invoices/{id}" not in sb.tenant_stats("demo")["by_endpoint"]
    assert rows(cfg, "invoices", "demo", deleted=True).keys() == {draft["id"]}
    assert_matches_export(cfg, sb.export("demo"), "demo")


def test_runs_of_one_tenant_queue_instead_of_overlapping(sb, cfg):
    """A full refresh is under way when another run of the same tenant starts (e.g. the hourly sync):
    the second waits for the first instead of sharing its dlt folder and state."""
    slow = write_config(cfg.path.parent, sb.base_url, ENVS, rps=60)
    proc = start_full_sync(slow, sb, served=20)
    assert proc.poll() is None  # the full refresh is extracting
    served_before_ours: list[int] = []

    class Probe(LexwareClient):
        def get(self, path, params=None):
            if not served_before_ours:
                served_before_ours.append(sb.tenant_stats("demo")["requests"])
            return super().get(path, params)

    probe = Probe(cfg.tenant("demo"))
    sync_tenant(cfg, "demo", client=probe)
    assert proc.wait(60) == 0
    # the first run made no request after the second one's first: they did not overlap
    assert sb.tenant_stats("demo")["requests"] == served_before_ours[0] + probe.stats.requests
    assert_matches_export(cfg, sb.export("demo"), "demo")
    for table in ("voucherlist", "invoices", "payments", "contacts"):
        total, distinct = count_rows(cfg, table)
        assert total == distinct

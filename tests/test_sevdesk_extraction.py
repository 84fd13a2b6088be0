"""sevDesk extraction end to end against the real sevDesk sandbox process: the warehouse equals the
sandbox's ground truth (whole payloads, every table), incremental runs emit exactly the changes, deletes
are confirmed then flagged, faults, churn, a revoked token, and SIGKILL mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from bench.sandbox_sync import write_config
from pipelines.lexware.errors import AuthError, MalformedResponseError
from pipelines.sevdesk import settings
from pipelines.sevdesk.client import SevdeskClient
from pipelines.sevdesk.sync import sync_tenant
from sandbox.process import start_sandbox
from tests.extraction_helpers import (
    KILL_AFTER_CONFIRMING_DELETES,
    KILL_AFTER_NORMALIZE,
    run_killed,
    start_full_sync,
)

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"demo": "demo-key", "other": "other-key"}
ENVS = {"demo": "KONTOR_TEST_SEV_DEMO_KEY", "other": "KONTOR_TEST_SEV_OTHER_KEY"}
# more than one 1000-row page of invoice positions, so paging is exercised
SIZE = {"contacts": 40, "invoices": 450, "vouchers": 40, "credit_notes": 8}
SMALL = {"contacts": 15, "invoices": 30, "vouchers": 15, "credit_notes": 3}


@pytest.fixture(scope="module")
def sb():
    with start_sandbox(system="sevdesk", tenants=KEYS, **SIZE) as sandbox:
        yield sandbox


@pytest.fixture
def cfg(sb, tmp_path, monkeypatch):
    sb.reset()
    sb.reset_stats()
    for tenant, env in ENVS.items():
        monkeypatch.setenv(env, KEYS[tenant])
    return write_config(tmp_path, sb.base_url, ENVS, system="sevdesk")


def rows(cfg, table: str, tenant: str = "demo", deleted: bool = False) -> dict[str, dict]:
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    try:
        found = con.execute(
            f"SELECT id, raw FROM raw_sevdesk.{table} "
            "WHERE tenant_id = ? AND coalesce(is_deleted, false) = ?",
            [tenant, deleted],
        ).fetchall()
    finally:
        con.close()
    return {i: json.loads(raw) for i, raw in found}


def duplicates(cfg) -> dict[str, int]:
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    try:
        counts = {
            t: con.execute(
                f"SELECT count(*) - count(DISTINCT (tenant_id, id)) FROM raw_sevdesk.{t}"
            ).fetchone()[0]
            for t in settings.TABLES
        }
    finally:
        con.close()
    return {t: n for t, n in counts.items() if n}


def assert_matches_export(cfg, export: dict, tenant: str = "demo") -> None:
    """Every raw table equals the sandbox's ground truth exactly (ids and whole payloads)."""
    for table in settings.TABLES:
        expected = {r["id"]: r for r in export[table]}
        actual = rows(cfg, table, tenant)
        assert actual.keys() == expected.keys(), f"{table}: ids differ"
        diff = [i for i in expected if actual[i] != expected[i]]
        assert not diff, f"{table}: {len(diff)} payloads differ, e.g. {diff[:3]}"


def pages(export: dict) -> int:
    """The minimum requests of a sync: one page per 1000 rows of each table (at least one)."""
    return sum(max(1, -(-len(export[t]) // 1000)) for t in settings.TABLES if t != "tax_rules") + 1


def test_full_sync_equals_export_with_minimum_requests(sb, cfg):
    result = sync_tenant(cfg, "demo")
    export = sb.export("demo")
    assert len(export["invoice_positions"]) > 1000  # two pages
    assert_matches_export(cfg, export)
    assert sb.tenant_stats("demo")["requests"] == result.client["requests"] == pages(export)
    assert result.reconciled and result.rows["invoices"] == len(export["invoices"])
    assert sb.tenant_stats("other")["requests"] == 0
    for path in (p for p in cfg.data_dir.rglob("*") if p.is_file()):  # warehouse, dlt state, budgets
        assert KEYS["demo"].encode() not in path.read_bytes(), path


def test_incremental_emits_exactly_the_changes(sb, cfg):
    sync_tenant(cfg, "demo")
    before = sb.export("demo")
    sb.reset_stats()
    quiet = sync_tenant(cfg, "demo")
    assert quiet.rows == {} and quiet.client["requests"] == pages(before)
    contact = before["contacts"][3]
    open_invoice = next(i for i in before["invoices"] if i["status"] == "200")
    draft = next(v for v in before["vouchers"] if v["status"] == "50")
    position = next(p for p in before["voucher_positions"] if p["voucher"]["id"] == draft["id"])
    sb.edit("demo", "Contact", contact["id"], {"description": "geändert von Kontor-Test"})
    sb.edit("demo", "Invoice", open_invoice["id"], action="pay")
    sb.edit("demo", "VoucherPos", position["id"], {"sumNet": "123.45"})
    sent: list[tuple[str, dict]] = []

    class Recording(SevdeskClient):
        def get(self, path, params=None):
            sent.append((path, dict(params or {})))
            return super().get(path, params)

    result = sync_tenant(cfg, "demo", reconcile=False, client=Recording(cfg.tenant("demo")))
    since = {path: params.get("updateAfter") for path, params in sent}
    assert all(since[p] and since[p].isdigit() for p in ("/Contact", "/Invoice", "/Voucher"))  # unix seconds
    assert since["/CreditNote"] is None and since["/InvoicePos"] is None  # no update filter there
    assert result.rows == {
        "contacts": 1,
        "invoices": 1,
        "check_account_transactions": 1,
        "check_account_transaction_logs": 1,
        "vouchers": 1,
        "voucher_positions": 1,
    }
    after = sb.export("demo")
    assert_matches_export(cfg, after)
    assert rows(cfg, "invoices")[open_invoice["id"]]["status"] == "1000"
    assert rows(cfg, "vouchers")[draft["id"]]["sumNet"] != draft["sumNet"]


def test_deletes_are_confirmed_then_flagged(sb, cfg):
    sync_tenant(cfg, "demo")
    export = sb.export("demo")
    draft = next(i for i in export["invoices"] if i["status"] == "100")
    draft_positions = {p["id"] for p in export["invoice_positions"] if p["invoice"]["id"] == draft["id"]}
    loose = next(t for t in export["check_account_transactions"] if t["status"] == "100")
    paid = next(v for v in export["vouchers"] if v["status"] == "1000" and not v["enshrined"])
    links = {g["id"] for g in export["check_account_transaction_logs"] if g["object"]["id"] == paid["id"]}
    sb.edit("demo", "Invoice", draft["id"], action="delete")
    sb.edit("demo", "CheckAccountTransaction", loose["id"], action="delete")
    sb.edit("demo", "Voucher", paid["id"], action="unbook")  # resetToOpen: its payment links vanish
    sb.reset_stats()
    result = sync_tenant(cfg, "demo", reconcile=True)
    assert result.flagged_deleted == {
        "invoices": 1,
        "invoice_positions": len(draft_positions),
        "check_account_transactions": 1,
        "check_account_transaction_logs": len(links),
    }
    calls = sb.tenant_stats("demo")["by_endpoint"]
    assert calls["GET /api/v1/Invoice/{id}"] == 1 and calls["GET /api/v1/CheckAccountTransaction/{id}"] == 1
    assert calls["GET /api/v1/InvoicePos"] == 2 + 1  # two pages, one parent check
    assert_matches_export(cfg, sb.export("demo"))
    assert rows(cfg, "invoices", deleted=True) == {draft["id"]: draft}  # the last payload is kept
    assert rows(cfg, "invoice_positions", deleted=True).keys() == draft_positions


def test_a_missed_row_is_not_flagged(sb, cfg, monkeypatch):
    """A row the list scan missed (offset paging under edits) answers its GET: it stays live."""
    sync_tenant(cfg, "demo")
    contact = sb.export("demo")["contacts"][0]
    real_pages = SevdeskClient.pages

    def pages_missing_one(self, path, params=None, size=settings.PAGE_SIZE):
        for found, total in real_pages(self, path, params, size):
            yield [r for r in found if r["id"] != contact["id"]], (total - 1 if path == "/Contact" else total)

    monkeypatch.setattr(SevdeskClient, "pages", pages_missing_one)
    result = sync_tenant(cfg, "demo", reconcile=True)
    assert result.flagged_deleted == {}
    assert contact["id"] in rows(cfg, "contacts")


def test_full_refresh_of_one_tenant_leaves_the_other_alone(sb, cfg):
    sync_tenant(cfg, "demo")
    sync_tenant(cfg, "other")
    sb.reset_stats()
    result = sync_tenant(cfg, "other", mode="full")
    assert result.rows["contacts"] == len(sb.export("other")["contacts"])
    assert sb.tenant_stats("demo")["requests"] == 0
    assert_matches_export(cfg, sb.export("demo"), "demo")
    assert_matches_export(cfg, sb.export("other"), "other")
    assert duplicates(cfg) == {}


def test_revoked_token_fails_clearly_with_nothing_loaded(sb, cfg, monkeypatch):
    monkeypatch.setenv(ENVS["demo"], "revoked-token")
    with pytest.raises(AuthError) as err:
        sync_tenant(cfg, "demo")
    assert (
        "401" in str(err.value) and ENVS["demo"] in str(err.value) and "revoked-token" not in str(err.value)
    )
    assert sb.stats()["tenants"]["_unauthorized"]["requests"] == 1  # not retried
    assert (
        not cfg.warehouse.exists()
        or "raw_sevdesk"
        not in duckdb.connect(str(cfg.warehouse), read_only=True)
        .execute("SELECT list(schema_name) FROM information_schema.schemata")
        .fetchone()[0]
    )


def test_sigkill_mid_extraction_then_rerun_is_exact(sb, cfg):
    slow = write_config(cfg.path.parent, sb.base_url, ENVS, rps=3, system="sevdesk")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(slow.path), "--tenant", "demo"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while sb.tenant_stats("demo")["requests"] < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    sync_tenant(cfg, "demo")
    assert_matches_export(cfg, sb.export("demo"))
    assert duplicates(cfg) == {}


def test_cli_dispatches_on_the_system(sb, cfg):
    out = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(cfg.path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    results = {r["tenant"]: r for r in map(json.loads, out.stdout.splitlines())}
    assert out.returncode == 0 and results["demo"]["ok"] and results["other"]["ok"]
    assert KEYS["demo"] not in out.stdout + out.stderr
    assert_matches_export(cfg, sb.export("other"), "other")


def test_sync_under_faults_ends_exactly_equal(tmp_path, monkeypatch):
    monkeypatch.setenv(ENVS["demo"], KEYS["demo"])
    faults = "429=0.05,500=0.04,502=0.03,503=0.03,504=0.04,reset=0.03,slow=0.03,malformed=0.05"
    with start_sandbox(
        system="sevdesk",
        tenants={"demo": KEYS["demo"]},
        faults=faults,
        fault_seed=3,
        slow_seconds=3,
        retry_after=True,
        **SMALL,
    ) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": ENVS["demo"]}, system="sevdesk")
        result = sync_tenant(cfg, "demo", client=SevdeskClient(cfg.tenant("demo"), timeout=1.0))
        assert result.client["retries"] > 0
        seen = result.client["by_status"]
        assert seen.get("429", 0) and seen.get("timeout", 0) and seen.get("200", 0)
        assert_matches_export(cfg, sb.export("demo"))
        assert duplicates(cfg) == {}


def test_churn_while_syncing_ends_exactly_equal(tmp_path, monkeypatch):
    monkeypatch.setenv(ENVS["demo"], KEYS["demo"])
    with start_sandbox(system="sevdesk", tenants={"demo": KEYS["demo"]}, churn=25, **SMALL) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": ENVS["demo"]}, rps=40, system="sevdesk")
        for _ in range(3):
            sync_tenant(cfg, "demo")
        assert sb.churn(0)["edits"] > 10
        result = sync_tenant(cfg, "demo", reconcile=True)
        assert_matches_export(cfg, sb.export("demo"))
        assert duplicates(cfg) == {}
        assert result.reconciled


DAGSTER_RUN = """
import json, sys
from dagster import DagsterInstance, materialize
from assets.extraction import KontorConfigResource
from assets.extraction_sevdesk import sevdesk_partitions, sevdesk_raw
assert sevdesk_partitions.get_partition_keys() == ["demo", "other"]
result = materialize([sevdesk_raw], partition_key="demo", instance=DagsterInstance.ephemeral(),
                     resources={"kontor": KontorConfigResource(path=sys.argv[1])})
meta = {e.asset_key.path[-1]: {k: getattr(v, "value", v) for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()}
print(json.dumps({"success": result.success, "meta": meta}, default=str))
"""


def test_dagster_assets_per_sevdesk_tenant_carry_metadata(sb, cfg):
    env = {**os.environ, "KONTOR_CONFIG": str(cfg.path)}  # partitions come from kontor.yaml
    out = subprocess.run(
        [sys.executable, "-c", DAGSTER_RUN, str(cfg.path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    export = sb.export("demo")
    assert report["success"] and set(report["meta"]) == set(settings.TABLES)
    invoices = report["meta"]["invoices"]
    assert invoices["dagster/row_count"] == len(export["invoices"]) and invoices["tenant"] == "demo"
    assert invoices["dagster/table_name"] == "raw_sevdesk.invoices" and invoices["requests"] == pages(export)
    assert KEYS["demo"] not in out.stdout
    assert_matches_export(cfg, export)


def test_config_accepts_sevdesk_tenants_with_their_defaults(tmp_path):
    from core.config import ConfigError, load_config

    path = tmp_path / "kontor.yaml"
    path.write_text(
        "tenants:\n  - name: lx\n    base_url: http://127.0.0.1:9\n    api_key_env: LX\n"
        "  - name: sd\n    system: sevdesk\n    api_key_env: SD\n"
    )
    cfg = load_config(path)
    assert cfg.tenant("sd").system == "sevdesk" and cfg.tenant("sd").base_url == settings.DEFAULT_BASE_URL
    assert cfg.tenant("sd").rps == 10.0 and cfg.tenant("lx").rps == 2.0  # Lexware: the server bucket's rate
    path.write_text("tenants:\n  - name: sd\n    system: sevdesk2\n    api_key_env: SD\n")
    with pytest.raises(ConfigError, match="'system' must be one of"):
        load_config(path)
    path.write_text("tenants:\n  - name: lx\n    api_key_env: LX\n")
    with pytest.raises(ConfigError, match="'base_url' is required"):
        load_config(path)  # only sevDesk has a default base URL


def test_a_package_left_by_a_killed_run_is_loaded_before_the_next_extraction(sb, cfg):
    sync_tenant(cfg, "demo")
    contact = sb.export("demo")["contacts"][0]
    sb.edit("demo", "Contact", contact["id"], {"description": "vor dem Absturz"})
    proc = run_killed(cfg, "sevdesk", KILL_AFTER_NORMALIZE)
    assert proc.returncode == -signal.SIGKILL
    assert rows(cfg, "contacts")[contact["id"]]["description"] is None  # not loaded yet
    result = sync_tenant(cfg, "demo")
    assert result.rows.get("contacts", 0) == 0  # the pending package carried the change and its state
    assert rows(cfg, "contacts")[contact["id"]]["description"] == "vor dem Absturz"
    assert_matches_export(cfg, sb.export("demo"))
    assert duplicates(cfg) == {}


def test_deletes_confirmed_by_a_killed_run_are_flagged_by_the_next(sb, cfg):
    sync_tenant(cfg, "demo")
    draft = next(i for i in sb.export("demo")["invoices"] if i["status"] == "100")
    sb.edit("demo", "Invoice", draft["id"], action="delete")
    proc = run_killed(cfg, "sevdesk", KILL_AFTER_CONFIRMING_DELETES)
    assert proc.returncode == -signal.SIGKILL
    assert not rows(cfg, "invoices", deleted=True)  # the killed run flagged nothing
    sb.reset_stats()
    result = sync_tenant(cfg, "demo", reconcile=False)
    assert result.flagged_deleted["invoices"] == 1 and result.flagged_deleted["invoice_positions"] >= 1
    assert "GET /api/v1/Invoice/{id}" not in sb.tenant_stats("demo")["by_endpoint"]  # applied, not re-asked
    assert rows(cfg, "invoices", deleted=True).keys() == {draft["id"]}
    assert_matches_export(cfg, sb.export("demo"))


class SmallPages(SevdeskClient):
    """Pages of 100 rows (the API's default), so the test books span several pages; `before_get(path,
    params)` runs before each request (an edit "by another user" between two pages)."""

    def __init__(self, tenant, before_get=None, **kwargs):
        super().__init__(tenant, **kwargs)
        self.before_get, self.sent = before_get, []

    def pages(self, path, params=None, size=100):
        yield from super().pages(path, params, size)

    def get(self, path, params=None):
        self.sent.append((path, dict(params or {})))
        if self.before_get:
            self.before_get(path, params or {})
        return super().get(path, params)


def test_a_delete_between_two_pages_shifts_rows_and_the_listing_is_completed(sb, cfg):
    """Offset paging over a list that changes (sevDesk has no cursor): a draft deleted after the first
    page of /Invoice (newest first) shifts every later row up by one, so the row at the page boundary
    moves onto the page already read. The listing notices and lists again: nothing is skipped, nothing
    duplicated; the next run confirms and flags the deleted draft."""
    export = sb.export("demo")
    newest_first = sorted(export["invoices"], key=lambda i: int(i["id"]), reverse=True)
    draft = next(i for i in newest_first[:100] if i["status"] == "100")
    at_boundary = newest_first[100]  # the first row of page 2, until the delete moves it to page 1
    deleted: list[str] = []

    def delete_after_page_one(path, params):
        if path == "/Invoice" and params.get("offset") == 100 and not deleted:
            sb.edit("demo", "Invoice", draft["id"], action="delete")
            deleted.append(draft["id"])

    client = SmallPages(cfg.tenant("demo"), delete_after_page_one)
    sync_tenant(cfg, "demo", client=client)
    live = rows(cfg, "invoices")
    assert deleted and at_boundary["id"] in live  # not skipped
    assert sum(1 for path, _ in client.sent if path == "/Invoice") > -(-len(newest_first) // 100)  # relisted
    assert {i["id"] for i in sb.export("demo")["invoices"]} <= live.keys()
    assert duplicates(cfg) == {}
    result = sync_tenant(cfg, "demo", reconcile=True)
    assert result.flagged_deleted.get("invoices") == 1
    assert rows(cfg, "invoices", deleted=True).keys() == {draft["id"]}
    assert_matches_export(cfg, sb.export("demo"))


def test_sigkill_mid_incremental_run_then_rerun_loads_every_change_once(sb, cfg):
    """After a full sync, changes in sevDesk (an edit, a payment, a deleted draft, a changed voucher
    position); the incremental run that should load them is SIGKILLed mid-extraction. The re-run loads
    each change exactly once: the warehouse equals the sandbox, no duplicates, the delete flagged."""
    sync_tenant(cfg, "demo")
    before = sb.export("demo")
    contact = before["contacts"][5]
    open_invoice = next(i for i in before["invoices"] if i["status"] == "200")
    draft = next(i for i in before["invoices"] if i["status"] == "100")
    voucher = next(v for v in before["vouchers"] if v["status"] == "50")
    position = next(p for p in before["voucher_positions"] if p["voucher"]["id"] == voucher["id"])
    sb.edit("demo", "Contact", contact["id"], {"description": "vor dem Kill geändert"})
    sb.edit("demo", "Invoice", open_invoice["id"], action="pay")
    sb.edit("demo", "Invoice", draft["id"], action="delete")
    sb.edit("demo", "VoucherPos", position["id"], {"sumNet": "77.70"})
    after = sb.export("demo")
    sb.reset_stats()
    slow = write_config(cfg.path.parent, sb.base_url, ENVS, rps=3, system="sevdesk")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(slow.path), "--tenant", "demo"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while sb.tenant_stats("demo")["requests"] < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert sb.tenant_stats("demo")["requests"] < pages(after)  # killed before the listing was complete
    result = sync_tenant(cfg, "demo", reconcile=True)
    assert_matches_export(cfg, sb.export("demo"))
    assert duplicates(cfg) == {}
    assert rows(cfg, "contacts")[contact["id"]]["description"] == "vor dem Kill geändert"
    assert rows(cfg, "invoices")[open_invoice["id"]]["status"] == "1000"
    assert rows(cfg, "invoices", deleted=True).keys() == {draft["id"]}
    assert result.flagged_deleted.get("invoices") == 1
    assert rows(cfg, "voucher_positions")[position["id"]]["sumNet"] != position["sumNet"]


def test_persistently_malformed_bodies_fail_the_run_with_nothing_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv(ENVS["demo"], KEYS["demo"])
    with start_sandbox(system="sevdesk", tenants={"demo": KEYS["demo"]}, faults="malformed=1", **SMALL) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": ENVS["demo"]}, system="sevdesk")
        client = SevdeskClient(cfg.tenant("demo"), max_attempts=3)
        with pytest.raises(MalformedResponseError, match=r"'demo'.*malformed"):
            sync_tenant(cfg, "demo", client=client)
        assert sb.tenant_stats("demo")["requests"] == 3  # the first call, retried, then the run stopped
    if cfg.warehouse.exists():
        con = duckdb.connect(str(cfg.warehouse), read_only=True)
        try:
            loaded = con.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = 'raw_sevdesk' AND table_name NOT LIKE '_dlt%'"
            ).fetchone()[0]
        finally:
            con.close()
        assert loaded == 0


def test_runs_of_one_tenant_queue_instead_of_overlapping(sb, cfg):
    """A full refresh of a sevDesk tenant is under way when another run of it starts (the hourly sync):
    the second waits for the first instead of sharing its dlt folder and state."""
    slow = write_config(cfg.path.parent, sb.base_url, ENVS, rps=4, system="sevdesk")
    proc = start_full_sync(slow, sb, served=4)
    assert proc.poll() is None  # the full refresh is extracting
    served_before_ours: list[int] = []

    def first_request(path, params):
        if not served_before_ours:
            served_before_ours.append(sb.tenant_stats("demo")["requests"])

    probe = SmallPages(cfg.tenant("demo"), first_request)
    sync_tenant(cfg, "demo", client=probe)
    assert proc.wait(120) == 0
    # the first run made no request after the second one's first: they did not overlap
    assert sb.tenant_stats("demo")["requests"] == served_before_ours[0] + len(probe.sent)
    assert_matches_export(cfg, sb.export("demo"))
    assert duplicates(cfg) == {}

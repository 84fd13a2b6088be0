"""Extraction under injected faults, the rate budget shared by processes against a real rate limit,
and the Dagster assets materialised with their metadata."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from assets.extraction import KontorConfigResource, lexware_raw
from bench.sandbox_sync import write_config
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import MalformedResponseError, PossiblyExecutedError, RetriesExhaustedError
from pipelines.lexware.sync import sync_tenant
from sandbox.process import start_sandbox
from tests.extraction_helpers import assert_matches_export, count_rows
from tests.raw_fixtures import RAW_TABLES

ROOT = Path(__file__).resolve().parent.parent
FAULTS = "429=0.03,500=0.03,502=0.02,503=0.02,504=0.02,reset=0.02,slow=0.01,malformed=0.03"
SMALLER = {"contacts": 40, "invoices": 80, "vouchers": 40, "credit_notes": 8}


def test_sync_under_faults_ends_exactly_equal(tmp_path, monkeypatch):
    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    with start_sandbox(
        rate_limit=1000, faults=FAULTS, fault_seed=7, slow_seconds=3, retry_after=True, **SMALLER
    ) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"})
        client = LexwareClient(cfg.tenant("demo"), timeout=1.0)
        result = sync_tenant(cfg, "demo", client=client)
        export = sb.export("demo")
        assert result.client["retries"] > 0
        seen = result.client["by_status"]
        assert seen.get("429", 0) > 0 and seen.get("timeout", 0) > 0 and seen.get("503", 0) > 0
        assert_matches_export(cfg, export, "demo")
        for table in ("voucherlist", "invoices", "vouchers", "payments"):
            total, distinct = count_rows(cfg, table)
            assert total == distinct


def test_persistently_malformed_bodies_fail_the_run_with_nothing_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    with start_sandbox(rate_limit=1000, faults="malformed=1", **SMALLER) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"})
        client = LexwareClient(cfg.tenant("demo"), max_attempts=3)
        with pytest.raises(MalformedResponseError, match=r"'demo'.*malformed"):
            sync_tenant(cfg, "demo", client=client)
        assert sb.tenant_stats("demo")["requests"] == 3  # the first call, retried, then the run stopped
    if not cfg.warehouse.exists():  # stopped at the first call (the binding check), before the warehouse
        return
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    raw_tables = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'raw_lexware' AND table_name NOT LIKE '_dlt%'"
    ).fetchone()
    con.close()
    assert raw_tables == (0,)


def test_posts_are_not_blindly_retried(tmp_path, monkeypatch):
    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    contact = {"version": 0, "roles": {"customer": {}}, "person": {"lastName": "Probe"}}
    with start_sandbox(rate_limit=1000, faults="503=1", **SMALLER) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"})
        with LexwareClient(cfg.tenant("demo"), max_attempts=3) as client:
            with pytest.raises(PossiblyExecutedError, match="may have been executed"):
                client.post("/v1/contacts", json=contact)
            assert sb.tenant_stats("demo")["requests"] == 1
            with pytest.raises(RetriesExhaustedError) as err:
                client.get("/v1/profile")  # a GET is retried
            assert not isinstance(err.value, PossiblyExecutedError)
            assert sb.tenant_stats("demo")["requests"] == 4
    with start_sandbox(rate_limit=1000, faults="429=1", **SMALLER) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"})
        with LexwareClient(cfg.tenant("demo"), max_attempts=3) as client:
            with pytest.raises(RetriesExhaustedError) as err:
                client.post("/v1/contacts", json=contact)  # a 429 was not executed: safe to retry
            assert not isinstance(err.value, PossiblyExecutedError)
            assert client.stats.rate_limited == 3 and sb.tenant_stats("demo")["requests"] == 3


def test_post_with_a_malformed_2xx_body_may_have_been_executed(tmp_path, monkeypatch):
    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    contact = {"version": 0, "roles": {"customer": {}}, "person": {"lastName": "Kaputt"}}
    with start_sandbox(rate_limit=1000, faults="malformed=1", **SMALLER) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"})
        before = len(sb.export("demo")["contacts"])
        with (
            LexwareClient(cfg.tenant("demo"), max_attempts=3) as client,
            pytest.raises(PossiblyExecutedError, match="may have been executed") as err,
        ):
            client.post("/v1/contacts", json=contact)
        assert 200 <= err.value.status < 300
        assert sb.tenant_stats("demo")["requests"] == 1  # not retried
        contacts = sb.export("demo")["contacts"]
        created = [c for c in contacts if c.get("person", {}).get("lastName") == "Kaputt"]
        assert len(created) == 1 and len(contacts) == before + 1  # it did happen


WORKER = textwrap.dedent("""
    import sys
    from core.config import load_config
    from pipelines.lexware.client import LexwareClient
    client = LexwareClient(load_config(sys.argv[1]).tenant("demo"))
    for _ in range(int(sys.argv[2])):
        client.get("/v1/profile")
    print(client.stats.rate_limited)
""")


def test_two_processes_share_one_budget_against_a_real_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    rate, per_process = 10, 25
    with start_sandbox(rate_limit=rate, burst=2, contacts=5, invoices=5, vouchers=5, credit_notes=1) as sb:
        # each process alone would send at 9.5 rps: together, without a shared budget, 19 rps -> 429s
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"}, rps=rate * 0.95)
        sb.reset_stats()
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(cfg.path), str(per_process)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=60)[0] for p in procs]
        stats = sb.tenant_stats("demo")
    assert [p.returncode for p in procs] == [0, 0]
    assert stats["requests"] == 2 * per_process
    assert stats["status"].get("429", 0) == 0
    assert [int(o.strip()) for o in outputs] == [0, 0]


def test_dagster_materialize_carries_metadata(tmp_path, monkeypatch):
    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    with start_sandbox(rate_limit=1000, **SMALLER) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"})
        result = materialize(
            [lexware_raw],
            partition_key="demo",
            instance=DagsterInstance.ephemeral(),
            resources={"kontor": KontorConfigResource(path=str(cfg.path))},
        )
        export = sb.export("demo")
    assert result.success
    mats = {m.asset_key: m.metadata for m in result.asset_materializations_for_node("lexware_raw")}
    assert set(mats) == {AssetKey(["raw_lexware", t]) for t in RAW_TABLES}
    invoices = mats[AssetKey(["raw_lexware", "invoices"])]
    assert invoices["rows_loaded"].value == len(export["invoices"])
    assert invoices["dagster/row_count"].value == len(export["invoices"])
    assert invoices["dagster/table_name"].value == "raw_lexware.invoices"
    for key in (
        "requests",
        "rate_limited_429",
        "retries",
        "effective_rps",
        "duration_s",
        "cursor_updated_date",
    ):
        assert key in invoices
    assert invoices["requests"].value > len(export["invoices"])
    assert invoices["rate_limited_429"].value == 0
    assert "sandbox-demo-key" not in json.dumps({str(k): str(v) for k, v in invoices.items()})
    assert_matches_export(cfg, export, "demo")


def test_dagster_refuses_a_bad_backfill_config_with_a_clear_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    cfg = write_config(tmp_path, "http://127.0.0.1:9", {"demo": "KONTOR_TEST_DEMO_KEY"})
    config = {"mode": "backfill", "voucher_date_from": "2026-05-01", "voucher_date_to": "2026-04-01"}
    result = materialize(
        [lexware_raw],
        partition_key="demo",
        instance=DagsterInstance.ephemeral(),
        resources={"kontor": KontorConfigResource(path=str(cfg.path))},
        run_config={"ops": {"lexware_raw": {"config": config}}},
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    described = failure.step_failure_data.user_failure_data.description
    assert described == "bad run config: backfill window is empty: from 2026-05-01 is after to 2026-04-01"
    assert not cfg.warehouse.exists()


def test_dagster_backfill_job_materialises_the_voucher_tables_of_the_window(tmp_path, monkeypatch):
    from assets.definitions import defs

    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    with start_sandbox(rate_limit=1000, **SMALLER) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"})
        export = sb.export("demo")
        days = sorted(e["voucherDate"][:10] for e in export["voucherlist"])
        start, end = days[len(days) // 3], days[2 * len(days) // 3]
        window = [e for e in export["voucherlist"] if start <= e["voucherDate"][:10] <= end]
        job = defs.resolve_job_def("lexware_backfill")
        config = {"tenant": "demo", "voucher_date_from": start, "voucher_date_to": end}
        instance = DagsterInstance.ephemeral()
        result = job.execute_in_process(
            instance=instance,
            resources={"kontor": KontorConfigResource(path=str(cfg.path))},
            run_config={"ops": {"backfill_tenant_window": {"config": config}}},
        )
    assert result.success
    tags = instance.get_run_by_id(result.run_id).tags
    assert (tags["kontor/mode"], tags["kontor/tenant"], tags["kontor/window"]) == (
        "backfill",
        "demo",
        f"{start}..{end}",
    )
    mats = {
        m.asset_key.path[-1]: m.metadata
        for m in result.asset_materializations_for_node("backfill_tenant_window")
    }
    assert {m.partition for m in result.asset_materializations_for_node("backfill_tenant_window")} == {"demo"}
    assert set(mats) == {"voucherlist", "invoices", "credit_notes", "vouchers", "payments"}
    assert mats["voucherlist"]["rows_loaded"].value == len(window)
    assert mats["invoices"]["rows_loaded"].value == sum(e["voucherType"] == "invoice" for e in window)
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_lexware.voucherlist").fetchone()[0] == len(window)
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw_lexware'"
            ).fetchall()
        }
    assert "contacts" not in tables  # nothing outside the window's voucher tables was extracted


def test_a_write_back_during_a_sync_shares_the_tenants_budget(tmp_path, monkeypatch):
    """A full sync (another process) and a write-back (this one) of one tenant at the same time, each
    allowed 95 % of the limit on its own: together they stay under it, so the sandbox serves no 429."""
    from pipelines.writeback.executor import CorrectionExecutor
    from pipelines.writeback.model import Correction
    from pipelines.writeback.store import WritebackStore
    from tests.test_writeback_sandbox import NEW_VATS, _updatable

    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    rate = 10
    with start_sandbox(rate_limit=rate, burst=2, **SMALLER) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"}, rps=rate * 0.95)
        contacts = [c for c in sb.export("demo")["contacts"] if _updatable(c)][:8]
        store = WritebackStore.open(cfg.warehouse)
        ids = store.insert_corrections(
            [
                Correction(
                    "demo",
                    "contact",
                    f"lexware:demo:{c['id']}",
                    "vat_id",
                    next(NEW_VATS),
                    c["company"].get("vatRegistrationId"),
                )
                for c in contacts
            ],
            source="test",
        )
        sb.reset_stats()
        sync = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(cfg.path), "--mode", "full"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        while sb.tenant_stats("demo")["requests"] < 10 and sync.poll() is None:
            time.sleep(0.05)
        with LexwareClient(cfg.tenant("demo")) as client:
            CorrectionExecutor(store, lambda _: client, known_tenants={"demo"}).run()
            written = client.stats.requests
        assert sync.poll() is None  # the write-back ran while the sync was still going
        assert sync.wait(120) == 0
        stats = sb.tenant_stats("demo")
    assert [store.get(i).status for i in ids] == ["applied"] * len(ids)
    assert written >= 2 * len(ids)  # a GET and a PUT each
    assert stats["status"].get("429", 0) == 0


def test_endpoints_outside_a_key_are_skipped_and_the_rest_is_exact(tmp_path, monkeypatch):
    """Payments outside the key's scopes (403) and bookkeeping vouchers outside the contract (402): each
    table is skipped at its first refusal and reported as not in plan; the other tables are exact."""
    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    with start_sandbox(
        "--deny", "demo:/v1/payments", "--deny", "demo:/v1/vouchers=402", rate_limit=1000, **SMALLER
    ) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"})
        result = sync_tenant(cfg, "demo")
        export, stats = sb.export("demo"), sb.tenant_stats("demo")
    assert set(result.not_in_plan) == {"payments", "vouchers"}
    assert "402 contract issue" in result.not_in_plan["vouchers"]
    assert "403 Forbidden" in result.not_in_plan["payments"]
    # no retries: the first refusal stops the table; only the detail calls already in flight also return
    bound = cfg.tenant("demo").max_in_flight + 1
    assert 1 <= stats["status"]["402"] <= bound and 1 <= stats["status"]["403"] <= bound
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw_lexware'"
            ).fetchall()
        }
        invoices = con.execute("SELECT count(*) FROM raw_lexware.invoices").fetchone()[0]
        listed = con.execute("SELECT count(*) FROM raw_lexware.voucherlist").fetchone()[0]
    assert not {"payments", "vouchers"} & tables
    assert invoices == len(export["invoices"]) and listed == len(export["voucherlist"])

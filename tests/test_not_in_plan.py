"""Tables a tenant's key may not read are visible to analysts: `meta.raw_table_access` says, per tenant
and raw table, whether the last run could read it and why not (the 403/402 it met), in the warehouse and
its snapshot."""

from __future__ import annotations

import duckdb

from bench.sandbox_sync import write_config
from core.warehouse import snapshot_path
from pipelines.lexware import settings
from pipelines.lexware.sync import sync_tenant
from sandbox.process import start_sandbox

SMALLER = {"contacts": 30, "invoices": 40, "vouchers": 20, "credit_notes": 4}


def test_a_denied_endpoint_is_recorded_as_not_in_plan_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    with start_sandbox("--deny", "demo:/v1/posting-categories", rate_limit=1000, **SMALLER) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"})
        result = sync_tenant(cfg, "demo")
    assert set(result.not_in_plan) == {"posting_categories"}
    for path in (cfg.warehouse, snapshot_path(cfg.warehouse)):
        with duckdb.connect(str(path), read_only=True) as con:
            rows = {
                t: (ok, reason)
                for t, ok, reason in con.execute(
                    "SELECT table_name, in_plan, reason FROM meta.raw_table_access "
                    "WHERE tenant_id = 'demo' AND source_system = 'lexware'"
                ).fetchall()
            }
        assert set(rows) == set(settings.TABLES)
        assert rows["posting_categories"][0] is False and "403" in rows["posting_categories"][1]
        assert all(ok and reason is None for t, (ok, reason) in rows.items() if t != "posting_categories")
    assert "sandbox-demo-key" not in str(rows)

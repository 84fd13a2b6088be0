"""Articles outside a key's reach: the table is skipped as not in plan but exists (empty), so every model
builds and invoice lines keep their item ids."""

from __future__ import annotations

import duckdb

from bench.sandbox_sync import write_config
from pipelines.lexware.sync import sync_tenant
from sandbox.process import start_sandbox
from tests.dbt_warehouse import build_at

SMALLER = {"contacts": 20, "invoices": 60, "vouchers": 20, "credit_notes": 5}


def test_articles_outside_the_key_leave_an_empty_table_and_every_model_builds(tmp_path, monkeypatch):
    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    with start_sandbox("--deny", "demo:/v1/articles", rate_limit=1000, **SMALLER) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"})
        result = sync_tenant(cfg, "demo")
        assert sb.tenant_stats("demo")["by_endpoint"]["GET /v1/articles"] == 1  # one 403, no retries
        export = sb.export("demo")
    assert set(result.not_in_plan) == {"articles"} and "403" in result.not_in_plan["articles"]
    with duckdb.connect(str(cfg.warehouse)) as con:
        assert con.execute("SELECT count(*) FROM raw_lexware.articles").fetchone()[0] == 0
    result = build_at(cfg.warehouse)
    assert result.ok and result.status("items") == "success", [(n.name, n.status) for n in result.nodes]
    with duckdb.connect(str(cfg.warehouse)) as con:
        assert con.execute("SELECT count(*) FROM cdm.items").fetchone()[0] == 0
        linked = con.execute("SELECT count(DISTINCT item_id) FROM cdm.invoice_lines").fetchone()[0]
    assert linked == len({li["id"] for i in export["invoices"] for li in i["lineItems"] if li.get("id")}) > 0

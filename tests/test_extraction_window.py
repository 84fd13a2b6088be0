"""The 10,000-row search window: a voucherlist query that would exceed it is sliced by date."""

from __future__ import annotations

import math
from datetime import date

from bench.sandbox_sync import write_config
from pipelines.lexware import VOUCHERLIST_QUERY
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.helpers import windowed_pages
from sandbox.process import start_sandbox


def test_queries_beyond_the_search_window_are_sliced(tmp_path, monkeypatch):
    monkeypatch.setenv("KONTOR_TEST_DEMO_KEY", "sandbox-demo-key")
    with start_sandbox(rate_limit=0, contacts=20, invoices=10_400, vouchers=10, credit_notes=2) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": "KONTOR_TEST_DEMO_KEY"}, rps=1000)
        expected = {e["id"] for e in sb.export("demo")["voucherlist"]}
        sb.reset_stats()
        with LexwareClient(cfg.tenant("demo")) as client:
            pages = list(windowed_pages(client, VOUCHERLIST_QUERY, "voucher", date(2000, 1, 1)))
        stats = sb.tenant_stats("demo")
    ids = [e["id"] for page in pages for e in page]
    assert len(expected) > 10_000
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert stats["status"].get("400", 0) == 0  # never asked past the window
    # each split costs one extra first page; a handful at most
    assert stats["requests"] <= math.ceil(len(expected) / 250) + 8

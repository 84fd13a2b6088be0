"""sevDesk sync benchmark: one tenant's first (full) sync and a quiet incremental run against the sevDesk
sandbox with 100-200 ms added latency, at the default budget of a sevDesk tenant (10 req/s; sevDesk
publishes no limit). Prints requests made vs the minimum (one page per 1000 rows of each table) and wall
time vs the lower bound (minimum requests / budget).

Run: `.venv/bin/python bench/bench_sevdesk.py` (about a minute).
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sandbox_sync import write_config
from core.config import DEFAULT_RPS_BY_SYSTEM
from pipelines.sevdesk import settings
from pipelines.sevdesk.sync import sync_tenant
from sandbox.process import start_sandbox

SIZE = {"contacts": 300, "invoices": 1500, "vouchers": 600, "credit_notes": 60}
LATENCY = {"latency_ms": 150, "latency_jitter": 0.33}


def minimum_requests(export: dict) -> int:
    return (
        sum(
            max(1, math.ceil(len(export[t]) / settings.PAGE_SIZE))
            for t in settings.TABLES
            if t != "tax_rules"
        )
        + 1
    )


def main() -> None:
    rps = DEFAULT_RPS_BY_SYSTEM["sevdesk"]
    with (
        tempfile.TemporaryDirectory() as folder,
        start_sandbox(system="sevdesk", tenants={"solo": "solo-key"}, **SIZE, **LATENCY) as sb,
    ):
        os.environ["KONTOR_BENCH_SEVDESK_KEY"] = "solo-key"
        cfg = write_config(
            Path(folder), sb.base_url, {"solo": "KONTOR_BENCH_SEVDESK_KEY"}, rps=rps, system="sevdesk"
        )
        export = sb.export("solo")
        rows = sum(len(export[t]) for t in settings.TABLES)
        minimum = minimum_requests(export)
        sb.reset_stats()
        started = time.monotonic()
        first = sync_tenant(cfg, "solo")
        wall = time.monotonic() - started
        started = time.monotonic()
        quiet = sync_tenant(cfg, "solo", reconcile=False)
        quiet_wall = time.monotonic() - started
        served = sb.tenant_stats("solo")
    print(
        f"sevDesk first sync: {rows} rows in {wall:.1f} s ({rows / wall:.0f} rows/s); requests "
        f"{first.client['requests']} (minimum {minimum}, ratio {first.client['requests'] / minimum:.2f}); "
        f"lower bound {minimum / rps:.1f} s at {rps:g} req/s; 429s served: {served['status'].get('429', 0)}"
    )
    print(
        f"sevDesk quiet incremental sync: {quiet.client['requests']} requests, {quiet_wall:.1f} s, "
        f"rows loaded {sum(quiet.rows.values())}"
    )


if __name__ == "__main__":
    main()

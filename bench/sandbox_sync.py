"""What a sync of a sandbox tenant should cost: a kontor.yaml pointing at a running sandbox, and the
minimum requests a first sync or a detail fetch needs, predicted from the sandbox's ground truth
(`export`). Shared by the benchmarks and the extraction tests."""

from __future__ import annotations

import math
from pathlib import Path

from pipelines.config import KontorConfig, load_config

DETAIL_TABLES = {"invoice": "invoices", "creditnote": "credit_notes", "salesinvoice": "vouchers",
                 "salescreditnote": "vouchers", "purchaseinvoice": "vouchers",
                 "purchasecreditnote": "vouchers"}


def write_config(folder: Path, base_url: str, tenants: dict[str, str], rps: float = 400) -> KontorConfig:
    """kontor.yaml in `folder` with tenants {name: api_key_env}; warehouse `folder/data/warehouse.duckdb`."""
    lines = ["warehouse: data/warehouse.duckdb", "tenants:"]
    for name, env in tenants.items():
        lines += [f"  - name: {name}", "    system: lexware", f"    base_url: {base_url}",
                  f"    api_key_env: {env}", f"    rps: {rps}"]
    (folder / "kontor.yaml").write_text("\n".join(lines) + "\n")
    return load_config(folder / "kontor.yaml")


def detail_cost(export: dict, ids: set[str]) -> int:
    """Requests to fetch details + payments of these voucherlist ids (what the source should spend)."""
    types = {e["id"]: e["voucherType"] for e in export["voucherlist"]}
    details = sum(1 for i in ids if types.get(i) in DETAIL_TABLES)
    return details + sum(1 for i in ids if i in export["payments"])


def full_sync_cost(export: dict) -> int:
    """The minimum requests of a first sync: profile, posting categories, list pages, details."""
    pages = sum(math.ceil(len(export[name]) / 250) for name in ("contacts", "articles", "voucherlist"))
    return 2 + pages + detail_cost(export, {e["id"] for e in export["voucherlist"]})

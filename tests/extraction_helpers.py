"""Helpers of the extraction tests: a kontor.yaml for a sandbox, warehouse reads, request predictions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb

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


def rows(config: KontorConfig, table: str, tenant: str, deleted: bool = False) -> dict[str, dict]:
    """{id: raw payload} of a raw table for one tenant (live rows, or the deleted ones)."""
    con = duckdb.connect(str(config.warehouse), read_only=True)
    try:
        result = con.execute(
            f"SELECT id, raw FROM raw_lexware.{table} "
            "WHERE tenant_id = ? AND coalesce(is_deleted, false) = ?",
            [tenant, deleted]).fetchall()
    finally:
        con.close()
    return {i: json.loads(raw) for i, raw in result}


def count_rows(config: KontorConfig, table: str) -> tuple[int, int]:
    """(rows, distinct (tenant, id)) of a raw table: equal when there are no duplicates."""
    con = duckdb.connect(str(config.warehouse), read_only=True)
    try:
        return con.execute(
            f"SELECT count(*), count(DISTINCT (tenant_id, id)) FROM raw_lexware.{table}").fetchone()
    finally:
        con.close()


def assert_matches_export(config: KontorConfig, export: dict, tenant: str) -> None:
    """Every raw table equals the sandbox's ground truth exactly (ids, versions, amounts: whole payloads)."""
    for table in ("contacts", "invoices", "credit_notes", "vouchers", "voucherlist", "posting_categories"):
        expected = {r["id"]: r for r in export[table]}
        actual = rows(config, table, tenant)
        assert actual.keys() == expected.keys(), f"{table}: ids differ"
        diff = [i for i in expected if actual[i] != expected[i]]
        assert not diff, f"{table}: {len(diff)} payloads differ, e.g. {diff[:3]}"
    assert rows(config, "payments", tenant) == export["payments"]
    assert rows(config, "profile", tenant) == {export["organizationId"]: export["profile"]}


def detail_cost(export: dict, ids: set[str]) -> int:
    """Requests to fetch details + payments of these voucherlist ids (what the source should spend)."""
    types = {e["id"]: e["voucherType"] for e in export["voucherlist"]}
    details = sum(1 for i in ids if types.get(i) in DETAIL_TABLES)
    return details + sum(1 for i in ids if i in export["payments"])


def full_sync_cost(export: dict) -> int:
    """The minimum requests of a first sync: profile, posting categories, list pages, details."""
    pages = math.ceil(len(export["contacts"]) / 250) + math.ceil(len(export["voucherlist"]) / 250)
    return 2 + pages + detail_cost(export, {e["id"] for e in export["voucherlist"]})


def requests_made(stats: dict) -> int:
    return stats["requests"]

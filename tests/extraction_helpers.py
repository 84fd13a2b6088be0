"""Helpers of the extraction tests: warehouse reads compared with the sandbox's ground truth (the
kontor.yaml writer and request predictions live in `bench.sandbox_sync`, shared with the benchmarks)."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from core.config import KontorConfig, PostgresWarehouse
from core.warehouse import connect


def _query(config: KontorConfig, sql: str, params: list | None = None) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on the warehouse (DuckDB opened read-only, or PostgreSQL)."""
    if isinstance(config.warehouse, PostgresWarehouse):
        with connect(config.warehouse) as pg:
            return pg.execute(sql, params).fetchall()
    con = duckdb.connect(str(config.warehouse), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def rows(config: KontorConfig, table: str, tenant: str, deleted: bool = False) -> dict[str, dict]:
    """{id: raw payload} of a raw table for one tenant (live rows, or the deleted ones)."""
    result = _query(
        config,
        f"SELECT id, raw FROM raw_lexware.{table} WHERE tenant_id = ? AND coalesce(is_deleted, false) = ?",
        [tenant, deleted],
    )
    return {i: json.loads(raw) for i, raw in result}


def count_rows(config: KontorConfig, table: str) -> tuple[int, int]:
    """(rows, distinct (tenant, id)) of a raw table: equal when there are no duplicates."""
    total, distinct = _query(
        config, f"SELECT count(*), count(DISTINCT (tenant_id, id)) FROM raw_lexware.{table}"
    )[0]
    return total, distinct


def _same(loaded: dict, truth: dict) -> bool:
    """Equal payloads, except that the voucherlist derives `overdue` from the day (open or sepadebit past
    the due date) without moving `updatedDate`: a row listed before its due date passed keeps its status
    (the CDM derives overdue from due dates, never from this field)."""
    if loaded == truth:
        return True
    statuses = {loaded.get("voucherStatus"), truth.get("voucherStatus")}
    return (
        truth.get("voucherStatus") == "overdue"
        and statuses <= {"open", "sepadebit", "overdue"}
        and {**loaded, "voucherStatus": None} == {**truth, "voucherStatus": None}
    )


def assert_matches_export(config: KontorConfig, export: dict, tenant: str) -> None:
    """Every raw table equals the sandbox's ground truth exactly (ids, versions, amounts: whole payloads)."""
    for table in (
        "contacts",
        "articles",
        "invoices",
        "credit_notes",
        "vouchers",
        "voucherlist",
        "posting_categories",
    ):
        expected = {r["id"]: r for r in export[table]}
        actual = rows(config, table, tenant)
        assert actual.keys() == expected.keys(), f"{table}: ids differ"
        diff = [i for i in expected if not _same(actual[i], expected[i])]
        assert not diff, f"{table}: {len(diff)} payloads differ, e.g. {diff[:3]}"
    assert rows(config, "payments", tenant) == export["payments"]
    assert rows(config, "profile", tenant) == {export["organizationId"]: export["profile"]}

"""Helpers of the extraction tests: warehouse reads compared with the sandbox's ground truth (the
kontor.yaml writer and request predictions live in `bench.sandbox_sync`, shared with the benchmarks)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from core.config import KontorConfig, PostgresWarehouse
from core.warehouse import connect

ROOT = Path(__file__).resolve().parent.parent


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


# Child-process runs of one source's sync of tenant "demo" that SIGKILL themselves at a given moment
# (format with source="lexware" or "sevdesk", client= its client class).
KILL_AFTER_NORMALIZE = """
import os, signal, sys
from core.config import load_config
from pipelines.{source} import {source}_source
from pipelines.{source}.client import {client}
from pipelines.{source}.sync import pipeline_for
cfg = load_config(sys.argv[1])
tenant = cfg.tenant("demo")
pipeline = pipeline_for(cfg, tenant)
pipeline.extract({source}_source({client}(tenant)))
pipeline.normalize()
os.kill(os.getpid(), signal.SIGKILL)  # dies with a normalised package not yet loaded
"""
KILL_AFTER_CONFIRMING_DELETES = """
import os, signal, sys
from core.config import load_config
from pipelines.{source} import deletes
from pipelines.{source}.sync import sync_tenant
record = deletes.save_pending
def record_then_die(path, deleted):
    record(path, deleted)
    if deleted:
        os.kill(os.getpid(), signal.SIGKILL)  # confirmed, recorded, not yet loaded or flagged
deletes.save_pending = record_then_die
sync_tenant(load_config(sys.argv[1]), "demo", reconcile=True)
"""
CLIENTS = {"lexware": "LexwareClient", "sevdesk": "SevdeskClient"}


def run_killed(config: KontorConfig, source: str, script: str) -> subprocess.CompletedProcess[bytes]:
    """Run one of the scripts above for ``source`` against ``config`` in a child process; returns it
    finished (killed, if the script got to its moment)."""
    code = script.format(source=source, client=CLIENTS[source])
    return subprocess.run(
        [sys.executable, "-c", code, str(config.path)],
        cwd=ROOT,
        capture_output=True,
        timeout=180,
    )


def start_full_sync(config: KontorConfig, sandbox: Any, served: int) -> subprocess.Popen[bytes]:
    """Start ``pipelines.cli sync --mode full`` of tenant demo in a child process and return it once the
    sandbox has served it ``served`` requests (it is then extracting, holding the tenant's lock)."""
    command = ["sync", "--config", str(config.path), "--tenant", "demo", "--mode", "full"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", *command],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while sandbox.tenant_stats("demo")["requests"] < served and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc

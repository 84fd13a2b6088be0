"""Run the Lexware source for one tenant into the warehouse: extract and normalise outside the
warehouse lock (tenants extract in parallel), then load, flag deletes and publish the analysts'
snapshot while holding it. Runs of one tenant queue behind each other (`tenant_lock`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed
from filelock import FileLock, Timeout

from pipelines.config import KontorConfig, TenantConfig
from pipelines.lexware import Mode, deletes, lexware_source, settings
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import LexwareError
from pipelines.lexware.helpers import RunReport
from pipelines.warehouse import connect, publish_snapshot, tables_in, warehouse_lock, when_free

log = logging.getLogger(__name__)


@dataclass
class SyncResult:
    """Everything an operator wants to know about one tenant's run (no secrets)."""

    tenant: str
    mode: str
    rows: dict[str, int] = field(default_factory=dict)
    client: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    cursor: str | None = None
    reconciled: bool = False
    flagged_deleted: dict[str, int] = field(default_factory=dict)
    not_in_plan: dict[str, str] = field(default_factory=dict)
    skipped_details: dict[str, int] = field(default_factory=dict)
    load_id: str | None = None
    live_rows: dict[str, int] = field(default_factory=dict)  # table -> the tenant's live rows after the run


def pipeline_for(config: KontorConfig, tenant: TenantConfig) -> dlt.Pipeline:
    """The tenant's dlt pipeline: its own state (voucherlist mark, contact versions), the shared
    `raw_lexware` dataset."""
    return dlt.pipeline(
        pipeline_name=f"kontor_lexware_{tenant.name}",
        pipelines_dir=str(config.data_dir / ".dlt"),
        destination=dlt.destinations.duckdb(str(config.warehouse)),
        dataset_name=settings.DATASET,
    )


@contextmanager
def tenant_lock(config: KontorConfig, tenant: str) -> Iterator[None]:
    """One run per tenant at a time, across processes: a scheduled sync, a backfill, a full refresh and
    a write-back re-sync of one tenant share its dlt working folder and state, so they queue here."""
    path = config.data_dir / ".dlt" / f"kontor_lexware_{tenant}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.info("tenant %s: another run of this tenant is under way; waiting for it", tenant)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def sync_tenant(
    config: KontorConfig,
    tenant_name: str,
    mode: Mode = "incremental",
    voucher_date_from: date | None = None,
    voucher_date_to: date | None = None,
    reconcile: bool | None = None,
    client: LexwareClient | None = None,
    tables: list[str] | None = None,
) -> SyncResult:
    """Sync one tenant (only `tables` if given). Raises `LexwareError` subclasses (e.g. `AuthError`)
    with nothing loaded."""
    tenant = config.tenant(tenant_name)
    started = time.monotonic()
    pipeline = pipeline_for(config, tenant)
    client = client or LexwareClient(tenant)
    report = RunReport(tenant.name)
    pending = deletes.pending_path(pipeline.working_dir)
    try:
        with tenant_lock(config, tenant.name):
            with warehouse_lock(config.warehouse):
                when_free(pipeline.sync_destination)  # state from the warehouse if the local copy is gone
                if pipeline.has_pending_data:  # a killed run left a package: finish it before extracting
                    log.info("tenant %s: completing a pending load package", tenant.name)
                    pipeline.normalize()
                    when_free(pipeline.load)
                flagged = deletes.apply_pending(config.warehouse, tenant.name, pending)  # a killed run's
            source = lexware_source(client, report, mode, voucher_date_from, voucher_date_to, reconcile)
            if tables is not None:
                # voucherlist and its detail tables share one low-water mark: a subset with any of them
                # loads them all, or the mark would move past rows the others never received
                wanted = set(tables)
                if wanted & set(settings.VOUCHER_TABLES):
                    wanted |= set(settings.VOUCHER_TABLES)
                source = source.with_resources(*[t for t in source.resources if t in wanted])
            try:
                pipeline.extract(source)
            except PipelineStepFailed as exc:
                raise _lexware_cause(exc) or exc from None
            normalize_info = pipeline.normalize()
            if report.complete_scans:  # vanished ids, each confirmed by a 404 before it is flagged
                with warehouse_lock(config.warehouse):
                    candidates = deletes.find_candidates(config.warehouse, tenant.name, report.complete_scans)
                deletes.save_pending(pending, deletes.confirm(client, candidates))
            with warehouse_lock(config.warehouse):
                load_info = when_free(pipeline.load)
                load_info.raise_on_failed_jobs()
                for table, n in deletes.apply_pending(config.warehouse, tenant.name, pending).items():
                    flagged[table] = flagged.get(table, 0) + n
                record_access(config.warehouse, tenant.name, list(source.selected_resources),
                              report.not_in_plan)
                live = live_rows(config.warehouse, tenant.name)
                publish_snapshot(config.warehouse)
    finally:
        client.close()
    state = pipeline.state.get("sources", {}).get("lexware", {})
    cursor = state.get("resources", {}).get("voucherlist", {}).get("lwm")  # the low-water mark
    return SyncResult(
        tenant=tenant.name,
        mode=mode,
        rows={t: n for t, n in normalize_info.row_counts.items() if not t.startswith("_dlt")},
        client=client.stats.as_dict(),
        duration_s=round(time.monotonic() - started, 3),
        cursor=str(cursor) if cursor else None,
        reconciled="voucherlist" in report.complete_scans,
        flagged_deleted=flagged,
        not_in_plan=report.not_in_plan,
        skipped_details=report.skipped_details,
        load_id=load_info.loads_ids[-1] if load_info.loads_ids else None,
        live_rows=live,
    )


ACCESS_TABLE = "meta.raw_table_access"
ACCESS_DDL = f"""
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS {ACCESS_TABLE} (
    tenant_id VARCHAR NOT NULL, source_system VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
    in_plan BOOLEAN NOT NULL, reason VARCHAR, checked_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, source_system, table_name))
"""


def record_access(warehouse: Path, tenant: str, tables: list[str], not_in_plan: dict[str, str]) -> None:
    """Per raw table this run read: could the tenant's key read it? (`in_plan` false: the endpoint
    answered 403/402, so the table holds nothing for this tenant and the reason says why)."""
    with connect(warehouse) as con:
        con.execute(ACCESS_DDL)
        con.executemany(
            f"INSERT OR REPLACE INTO {ACCESS_TABLE} VALUES (?, 'lexware', ?, ?, ?, now())",
            [[tenant, table, table not in not_in_plan, not_in_plan.get(table)] for table in tables])


def live_rows(warehouse: Path, tenant: str) -> dict[str, int]:
    """Rows of this tenant not flagged deleted, per raw table (after the load)."""
    with connect(warehouse) as con:
        existing = tables_in(con, settings.DATASET)
        return {table: con.execute(
            f'SELECT count(*) FROM {settings.DATASET}."{table}" '
            "WHERE tenant_id = ? AND NOT coalesce(is_deleted, false)", [tenant]).fetchone()[0]
            for table in settings.TABLES if table in existing}


def _lexware_cause(exc: BaseException) -> LexwareError | None:
    """The LexwareError (e.g. AuthError) dlt wrapped in its step failure, for a precise message."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, LexwareError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None

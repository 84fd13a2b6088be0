"""Run the sevDesk source for one tenant into the warehouse, exactly like the Lexware sync: extract and
normalise outside the warehouse lock, then load, flag deletes and publish the analysts' snapshot while
holding it; runs of one tenant queue behind each other (`core.locks.tenant_lock`)."""

from __future__ import annotations

import logging
import time

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from core.config import KontorConfig, TenantConfig
from core.locks import tenant_lock
from core.warehouse import (
    connect,
    destination,
    load_step,
    publish_snapshot,
    scalar,
    tables_in,
    warehouse_lock,
    when_free,
)
from pipelines.lexware.helpers import RunReport
from pipelines.lexware.sync import SyncResult, _lexware_cause
from pipelines.sevdesk import Mode, deletes, settings, sevdesk_source
from pipelines.sevdesk.client import SevdeskClient

log = logging.getLogger(__name__)


def pipeline_for(config: KontorConfig, tenant: TenantConfig) -> dlt.Pipeline:
    """The tenant's dlt pipeline: its own state (marks, fingerprints), the shared `raw_sevdesk` dataset."""
    return dlt.pipeline(
        pipeline_name=f"kontor_sevdesk_{tenant.name}",
        pipelines_dir=str(config.data_dir / ".dlt"),
        destination=destination(config.warehouse, tenant.name),
        dataset_name=settings.DATASET,
    )


def sync_tenant(
    config: KontorConfig,
    tenant_name: str,
    mode: Mode | str = "incremental",
    reconcile: bool | None = None,
    client: SevdeskClient | None = None,
    tables: list[str] | None = None,
) -> SyncResult:
    """Sync one sevDesk tenant (only `tables` if given). Raises `LexwareError` subclasses (e.g.
    `AuthError`) with nothing loaded; ValueError for a mode sevDesk has no use for (backfill)."""
    if mode not in ("incremental", "full"):
        raise ValueError(f"sevDesk tenants sync 'incremental' or 'full', not {mode!r}")
    tenant = config.tenant(tenant_name)
    if tenant.system != "sevdesk":
        raise ValueError(f"tenant {tenant.name!r} is a {tenant.system} tenant, not sevdesk")
    started = time.monotonic()
    client = client or SevdeskClient(tenant)
    report = RunReport(tenant.name)
    try:
        with tenant_lock(config, tenant.name):
            # the tenant's dlt working folder is touched only under its lock (another process may be
            # running this tenant's pipeline right now)
            pipeline = pipeline_for(config, tenant)
            pending = deletes.pending_path(pipeline.working_dir)
            with warehouse_lock(config.warehouse):
                when_free(pipeline.sync_destination)  # state from the warehouse if the local copy is gone
                if pipeline.has_pending_data:  # a killed run left a package: finish it before extracting
                    log.info("tenant %s: completing a pending load package", tenant.name)
                    pipeline.normalize()
                    load_step(pipeline, config.warehouse)
                flagged = deletes.apply_pending(config.warehouse, tenant.name, pending)
            source = sevdesk_source(client, report, mode, reconcile)  # type: ignore[arg-type]
            if tables is not None:
                source = source.with_resources(*[t for t in source.resources if t in set(tables)])
            try:
                pipeline.extract(source)
            except PipelineStepFailed as exc:
                raise _lexware_cause(exc) or exc from None
            normalize_info = pipeline.normalize()
            if report.complete_scans:
                with warehouse_lock(config.warehouse):
                    candidates = deletes.find_candidates(config.warehouse, tenant.name, report.complete_scans)
                deletes.save_pending(pending, deletes.confirm(client, candidates))
            with warehouse_lock(config.warehouse):
                load_info = load_step(pipeline, config.warehouse)
                load_info.raise_on_failed_jobs()
                for table, n in deletes.apply_pending(config.warehouse, tenant.name, pending).items():
                    flagged[table] = flagged.get(table, 0) + n
                live = live_rows(config, tenant.name)
                publish_snapshot(config.warehouse)
            resources = pipeline.state.get("sources", {}).get("sevdesk", {}).get("resources", {})
    finally:
        client.close()
    cursor = resources.get("invoices", {}).get("lwm")
    return SyncResult(
        tenant=tenant.name,
        mode=str(mode),
        rows={t: n for t, n in normalize_info.row_counts.items() if not t.startswith("_dlt")},
        client=client.stats.as_dict(),
        duration_s=round(time.monotonic() - started, 3),
        cursor=str(cursor) if cursor else None,
        reconciled=all(t in report.complete_scans for t in settings.INCREMENTAL),
        flagged_deleted=flagged,
        not_in_plan=report.not_in_plan,
        skipped_details=report.skipped_details,
        load_id=load_info.loads_ids[-1] if load_info.loads_ids else None,
        live_rows=live,
    )


def live_rows(config: KontorConfig, tenant: str) -> dict[str, int]:
    """Rows of this tenant not flagged deleted, per raw table (after the load)."""
    with connect(config.warehouse) as con:
        existing = tables_in(con, settings.DATASET)
        return {
            table: scalar(
                con,
                f'SELECT count(*) FROM {settings.DATASET}."{table}" '
                "WHERE tenant_id = ? AND NOT coalesce(is_deleted, false)",
                [tenant],
            )
            for table in settings.TABLES
            if table in existing
        }

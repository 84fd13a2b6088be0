"""Run the Lexware source for one tenant into the warehouse: extract and normalise outside the
warehouse lock (tenants extract in parallel), then load, flag deletes and publish the analysts'
snapshot while holding it. Runs of one tenant queue behind each other (`tenant_lock`)."""

from __future__ import annotations

import logging
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from core.config import KontorConfig, TenantConfig
from core.locks import tenant_lock
from core.warehouse import (
    Warehouse,
    connect,
    create_objects,
    destination,
    load_step,
    publish_snapshot,
    scalar,
    tables_in,
    warehouse_lock,
    when_free,
)
from pipelines.lexware import Mode, binding, deletes, lexware_source, settings
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import LexwareError
from pipelines.lexware.events import EventTargets, open_event_store, targets
from pipelines.lexware.helpers import RunReport

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
    # table -> slices no filter could bring below the 10,000-row search window (RunReport.incomplete);
    # empty means every listing was proven complete
    incomplete: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.incomplete

    events: int = 0  # webhook events this run processed (mode `events`)


def pipeline_for(config: KontorConfig, tenant: TenantConfig) -> dlt.Pipeline:
    """The tenant's dlt pipeline: its own state (voucherlist mark, contact versions), the shared
    `raw_lexware` dataset."""
    return dlt.pipeline(
        pipeline_name=f"kontor_lexware_{tenant.name}",
        pipelines_dir=str(config.data_dir / ".dlt"),
        destination=destination(config.warehouse, tenant.name),
        dataset_name=settings.DATASET,
    )


def sync_tenant(
    config: KontorConfig,
    tenant_name: str,
    mode: Mode = "incremental",
    voucher_date_from: date | None = None,
    voucher_date_to: date | None = None,
    reconcile: bool | None = None,
    client: LexwareClient | None = None,
    tables: list[str] | None = None,
    events: EventTargets | None = None,
) -> SyncResult:
    """Sync one tenant (only `tables` if given). Raises `LexwareError` subclasses (e.g. `AuthError`,
    `TenantBindingError` when the key answers for another organisation) with nothing loaded.
    `mode="events"` with `events`: the targeted run of a batch of webhook events."""
    if mode == "events" and events is None:
        raise ValueError("mode 'events' needs the events' targets")
    tenant = config.tenant(tenant_name)
    started = time.monotonic()
    client = client or LexwareClient(tenant)
    report = RunReport(tenant.name)
    try:
        with tenant_lock(config, tenant.name):
            # the tenant's dlt working folder is touched only under its lock (another process may be
            # running this tenant's pipeline right now)
            pipeline = pipeline_for(config, tenant)
            pending = deletes.pending_path(pipeline.working_dir)
            # The warehouse is read before the key is asked (binding), so the first data request
            # follows the profile's answer at once instead of waiting for a round of queries
            with warehouse_lock(config.warehouse):
                when_free(pipeline.sync_destination)  # state from the warehouse if the local copy is gone
                with connect(config.warehouse) as con:
                    known = binding.read(con, tenant)
            sweep_stale_extracts(pipeline)  # folders of extractions a killed run never finished
            binding.check(config, tenant, client, known)  # the key's organisation, before any data request
            flagged: dict[str, int] = {}
            if pipeline.has_pending_data or pending.exists():  # what a killed run left: finish it first
                with warehouse_lock(config.warehouse):
                    if pipeline.has_pending_data:
                        log.info("tenant %s: completing a pending load package", tenant.name)
                        pipeline.normalize()
                        load_step(pipeline, config.warehouse)
                    flagged = deletes.apply_pending(config.warehouse, tenant.name, pending)
            source = lexware_source(
                client,
                report,
                mode,
                voucher_date_from,
                voucher_date_to,
                reconcile,
                events=events,
                events_on=config.webhooks is not None,
            )
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
            if events is not None:  # deletions events announced, each confirmed by a 404 first
                deletes.save_pending(pending, report.event_deletions)
                announced = {"voucherlist": events.deleted_documents}
                deletes.save_pending(pending, deletes.confirm(client, announced))
            with warehouse_lock(config.warehouse):
                load_info = load_step(pipeline, config.warehouse)
                load_info.raise_on_failed_jobs()
                for table, n in deletes.apply_pending(config.warehouse, tenant.name, pending).items():
                    flagged[table] = flagged.get(table, 0) + n
                record_access(
                    config.warehouse, tenant.name, list(source.selected_resources), report.not_in_plan
                )
                live = live_rows(config.warehouse, tenant.name)
                publish_snapshot(config.warehouse)
            prune_loaded_packages(pipeline)
            state = pipeline.state.get("sources", {}).get("lexware", {})
    finally:
        client.close()
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
        incomplete=report.incomplete,
    )


# dlt's extract step writes a new package into normalize/<uniq_id(8)>/ and moves it to
# normalize/extracted/ when the source is exhausted; a killed run leaves the first behind for good.
_EXTRACT_FOLDER = re.compile(r"^[0-9a-f]{16}$")
KEEP_LOADED_PACKAGES = 1  # the last completed package stays for `dlt pipeline ... info`


def sweep_stale_extracts(pipeline: dlt.Pipeline) -> list[str]:
    """Delete unfinished extraction folders; call under `tenant_lock` (no extraction of this tenant runs).
    Their rows were never loaded and their state never committed: the next extraction reads them again."""
    folder = Path(pipeline.working_dir) / "normalize"
    stale = (
        [p for p in folder.iterdir() if p.is_dir() and _EXTRACT_FOLDER.match(p.name)]
        if folder.is_dir()
        else []
    )
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    if stale:
        log.info(
            "pipeline %s: removed %d unfinished extraction folder(s)", pipeline.pipeline_name, len(stale)
        )
    return [p.name for p in stale]


def prune_loaded_packages(pipeline: dlt.Pipeline, keep: int = KEEP_LOADED_PACKAGES) -> list[str]:
    """Delete completed load packages but the newest `keep`: their rows and state are in the warehouse
    (`_dlt_loads`, `_dlt_pipeline_state`), the copies in load/loaded/ only grow."""
    loaded = Path(pipeline.working_dir) / "load" / "loaded"
    old = sorted(pipeline.list_completed_load_packages(), key=float)[: -keep or None]
    for load_id in old:
        shutil.rmtree(loaded / load_id, ignore_errors=True)
    return old


def sync_events(
    config: KontorConfig, tenant_name: str, up_to: int | None = None, tables: list[str] | None = None
) -> SyncResult:
    """The targeted run for the tenant's stored webhook events (ids <= `up_to`): fetch what they name,
    flag confirmed deletions, then mark them processed. A failed run leaves them pending for the next."""
    if config.webhooks is None:
        raise ValueError(f"{config.path}: no `webhooks:` section, so there are no events to process")
    store = open_event_store(config)
    batch = store.pending(tenant_name, up_to)
    result = sync_tenant(config, tenant_name, "events", events=targets(batch), tables=tables)
    store.mark_processed(tenant_name, [e.id for e in batch])
    result.events = len(batch)
    return result


ACCESS_TABLE = "meta.raw_table_access"
ACCESS_DDL = f"""
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS {ACCESS_TABLE} (
    tenant_id VARCHAR NOT NULL, source_system VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
    in_plan BOOLEAN NOT NULL, reason VARCHAR, checked_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, source_system, table_name))
"""


def record_access(warehouse: Warehouse, tenant: str, tables: list[str], not_in_plan: dict[str, str]) -> None:
    """Per raw table this run read: could the tenant's key read it? (`in_plan` false: the endpoint
    answered 403/402, so the table holds nothing for this tenant and the reason says why)."""
    with connect(warehouse) as con:
        create_objects(con, ACCESS_DDL)
        con.executemany(
            f"INSERT INTO {ACCESS_TABLE} VALUES (?, 'lexware', ?, ?, ?, now()) "
            "ON CONFLICT (tenant_id, source_system, table_name) DO UPDATE SET in_plan = excluded.in_plan, "
            "reason = excluded.reason, checked_at = excluded.checked_at",
            [[tenant, table, table not in not_in_plan, not_in_plan.get(table)] for table in tables],
        )


def live_rows(warehouse: Warehouse, tenant: str) -> dict[str, int]:
    """Rows of this tenant not flagged deleted, per raw table (after the load)."""
    with connect(warehouse) as con:
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


def _lexware_cause(exc: BaseException) -> LexwareError | None:
    """The LexwareError (e.g. AuthError) dlt wrapped in its step failure, for a precise message."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, LexwareError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None

"""Raw extraction assets: one dlt asset per Lexware resource (`raw_lexware/<table>`), one partition
per tenant from kontor.yaml; run config selects incremental (default), backfill or full refresh."""

from collections.abc import Iterator
from typing import Any, Literal

import dlt
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetRecordsFilter,
    AssetSpec,
    Config,
    ConfigurableResource,
    Failure,
    MaterializeResult,
    MetadataValue,
    StaticPartitionsDefinition,
    TableColumn,
    TableSchema,
    asset_check,
)
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from filelock import FileLock
from pydantic import Field

from assets.meta import OWNERS, layer_tags
from core.config import ConfigError, KontorConfig, config_path, load_config
from pipelines.lexware import lexware_source, settings
from pipelines.lexware.errors import TenantBindingError
from pipelines.lexware.helpers import backfill_window
from pipelines.lexware.sync import SyncResult, sync_events, sync_tenant

GROUP = "raw_lexware"
# The raw layer contract (docs/architecture.md): what every raw table has, whatever dlt adds.
RAW_COLUMNS = TableSchema(
    columns=[
        TableColumn("tenant_id", "text", "Kontor tenant name from kontor.yaml"),
        TableColumn("source_system", "text", "lexware"),
        TableColumn("id", "text", "the Lexware id"),
        TableColumn("version", "bigint", "Lexware version where the resource has one"),
        TableColumn("raw", "json", "the full payload exactly as the API returned it"),
        TableColumn("is_deleted", "bool", "set when the record vanished from the source"),
        TableColumn("_dlt_load_id", "text", "dlt load id (join _dlt_loads for the load time)"),
    ]
)
# What each raw table holds, for the catalogue (the Lexware endpoint it comes from).
RAW_DESCRIPTIONS = {
    "contacts": "Customers and suppliers (GET /v1/contacts, every page).",
    "articles": "Products and services invoice lines may reference (GET /v1/articles, every page).",
    "voucherlist": "The voucher index (GET /v1/voucherlist): one row per voucher; its updatedDate, against "
    "the stored low-water mark, picks the vouchers whose details are fetched.",
    "invoices": "Sales invoices written in Lexware (GET /v1/invoices/{id} per changed voucher).",
    "credit_notes": "Credit notes written in Lexware (GET /v1/credit-notes/{id} per changed voucher).",
    "vouchers": "Bookkeeping vouchers: sales and purchase invoices and credit notes booked in Lexware "
    "(GET /v1/vouchers/{id} per changed voucher).",
    "payments": "Payment information per booked voucher (GET /v1/payments/{voucherId}).",
    "posting_categories": "Posting categories of bookkeeping vouchers (GET /v1/posting-categories).",
    "profile": "The organisation's profile (GET /v1/profile): one row per tenant.",
}


class KontorConfigResource(ConfigurableResource):  # type: ignore[type-arg]  # dagster: generic in name only
    """Where kontor.yaml lives (empty: `KONTOR_CONFIG` or the repo root)."""

    path: str = ""

    def load(self) -> KontorConfig:
        return load_config(self.path or None)


class ExtractionConfig(Config):
    """Run config of a sync. Backfill: `mode: backfill` with both voucher dates (yyyy-MM-dd)."""

    mode: Literal["incremental", "backfill", "full", "events"] = Field(
        default="incremental",
        description="incremental | backfill (voucher-date window) | full refresh | events (webhook batch)",
    )
    voucher_date_from: str | None = Field(default=None, description="backfill: first voucher date")
    voucher_date_to: str | None = Field(default=None, description="backfill: last voucher date (inclusive)")
    reconcile: bool | None = Field(
        default=None,
        description="force (true) or skip (false) the ID scan that flags deletes; default: once per 24 h",
    )
    events_up_to: int | None = Field(
        default=None, description="events: process the stored events up to this id (default: all pending)"
    )


class KontorDltTranslator(DagsterDltTranslator):
    """Asset keys `raw_lexware/<table>`, group `raw_lexware`, kinds dlt + duckdb; the detail
    tables depend on `raw_lexware/voucherlist`, which feeds them."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        name = data.resource.name
        deps = [AssetKey([GROUP, "voucherlist"])] if data.resource.is_transformer else []
        return spec.replace_attributes(
            key=AssetKey([GROUP, name]),
            group_name=GROUP,
            kinds={"dlt", "duckdb"},
            deps=deps,
            description=f"{RAW_DESCRIPTIONS.get(name, f'Lexware `{name}`.')} Every tenant is a partition; "
            "columns: the raw layer contract (docs/architecture.md).",
            owners=OWNERS,
            tags=layer_tags("raw", "lexware"),
        ).merge_attributes(metadata={"dagster/column_schema": MetadataValue.table_schema(RAW_COLUMNS)})


def _config_at_load() -> tuple[KontorConfig | None, str | None]:
    """kontor.yaml as the definitions load: (config, None), or (None, the one-line error) so the code
    location still loads and shows the error (sensor `kontor_config_invalid`) instead of a traceback."""
    try:
        return load_config(), None
    except ConfigError as exc:
        return None, str(exc)


CONFIG_AT_LOAD, CONFIG_ERROR = _config_at_load()
# the raw assets' kind (the destination itself comes from core.warehouse.destination when a run syncs)
WAREHOUSE_ENGINE = CONFIG_AT_LOAD.engine if CONFIG_AT_LOAD else "duckdb"


def template_pipeline(name: str, dataset: str) -> dlt.Pipeline:
    """The dlt pipeline `@dlt_assets` describes its assets with (runs sync through each tenant's own
    pipeline). dlt wipes and re-creates a stateless pipeline's folder whenever it is built, so processes
    loading the definitions at once (parallel runs) build it one at a time under a file lock."""
    pipelines_dir = (CONFIG_AT_LOAD.data_dir if CONFIG_AT_LOAD else config_path().parent / "data") / ".dlt"
    pipelines_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(pipelines_dir / f"{name}.lock")):
        return dlt.pipeline(
            pipeline_name=name,
            destination=WAREHOUSE_ENGINE,
            dataset_name=dataset,
            pipelines_dir=str(pipelines_dir),
        )


tenants_partitions = StaticPartitionsDefinition(  # sevDesk tenants: assets/extraction_sevdesk.py
    [t.name for t in CONFIG_AT_LOAD.tenants if t.system == "lexware"] if CONFIG_AT_LOAD else []
)


@dlt_assets(
    dlt_source=lexware_source(),
    dlt_pipeline=template_pipeline("kontor_lexware", settings.DATASET),
    name="lexware_raw",
    dagster_dlt_translator=KontorDltTranslator(),
    partitions_def=tenants_partitions,
)
def lexware_raw(
    context: AssetExecutionContext, config: ExtractionConfig, kontor: KontorConfigResource
) -> Iterator[MaterializeResult[None]]:
    """Sync the partition's tenant; writes are serialised by the warehouse lock inside `sync_tenant`."""
    try:
        window = backfill_window(config.mode, config.voucher_date_from, config.voucher_date_to)
    except ValueError as exc:
        raise Failure(description=f"bad run config: {exc}", allow_retries=False) from None
    tables = None if not context.is_subset else [k.path[-1] for k in context.selected_asset_keys]
    if config.mode == "events" and kontor.load().webhooks is None:
        raise Failure(
            description=f"bad run config: {kontor.load().path}: no `webhooks:` section, so there "
            "are no events to process",
            allow_retries=False,
        )
    try:
        if config.mode == "events":
            result = sync_events(kontor.load(), context.partition_key, config.events_up_to, tables)
        else:
            result = sync_tenant(
                kontor.load(),
                context.partition_key,
                config.mode,
                *window,
                reconcile=config.reconcile,
                tables=tables,
            )
    except TenantBindingError as exc:  # the key answers for another organisation: nothing was loaded
        raise Failure(description=str(exc), allow_retries=False) from None
    context.log.info(f"tenant {result.tenant}: {result.client} rows={result.rows}")
    # voucherlist before the detail tables it feeds (Dagster wants a multi-asset's outputs in topo order)
    for key in sorted(context.selected_asset_keys, key=lambda k: settings.TABLES.index(k.path[-1])):
        yield MaterializeResult(asset_key=key, metadata=materialization_metadata(result, key.path[-1]))


def materialization_metadata(result: SyncResult, table: str) -> dict[str, Any]:
    """Per-table rows plus the run's request figures; never the API key."""
    stats = result.client
    meta = {
        "tenant": result.tenant,
        "mode": result.mode,
        "dagster/table_name": f"{settings.DATASET}.{table}",
        "dagster/row_count": MetadataValue.int(result.live_rows.get(table, 0)),  # this tenant's live rows
        "rows_loaded": MetadataValue.int(result.rows.get(table, 0)),
        "rows_by_table": MetadataValue.json(result.rows),
        "requests": MetadataValue.int(stats["requests"]),
        "rate_limited_429": MetadataValue.int(stats["rate_limited_429"]),
        "retries": MetadataValue.int(stats["retries"]),
        "effective_rps": MetadataValue.float(stats["effective_rps"]),
        "duration_s": MetadataValue.float(result.duration_s),
        "cursor_updated_date": result.cursor or "",
        "reconciled": result.reconciled,
        "flagged_deleted": MetadataValue.int(result.flagged_deleted.get(table, 0)),
        "load_id": result.load_id or "",
    }
    if result.mode == "events":
        meta["events"] = MetadataValue.int(result.events)
    if table in result.not_in_plan:
        meta["not_in_plan"] = result.not_in_plan[table]
    if table in result.skipped_details:
        meta["skipped_details"] = MetadataValue.int(result.skipped_details[table])
    if table in LISTED_TABLES:
        incomplete = result.incomplete.get(table, [])
        meta["listing_complete"] = not incomplete
        if incomplete:  # the slices the 10,000-row search window kept partly out of reach
            meta["incomplete_slices"] = MetadataValue.json(incomplete)
            meta["rows_listed_in_incomplete_slices"] = MetadataValue.int(sum(s["listed"] for s in incomplete))
    return meta


# Tables read by listing every page: their listing must be proven complete (pipelines/lexware/slicing.py)
LISTED_TABLES = ("contacts", "voucherlist")


def _listing_check(table: str) -> AssetChecksDefinition:
    key = AssetKey([GROUP, table])

    @asset_check(
        asset=key,
        name="listing_complete",
        blocking=True,
        description=f"Every tenant's latest `{table}` listing was proven complete: no filter slice was left "
        "at the 10,000-row search window (else its rows beyond the window are missing).",
    )
    def _check(context: AssetCheckExecutionContext) -> AssetCheckResult:
        failing = {}
        for tenant in tenants_partitions.get_partition_keys():
            records = context.instance.fetch_materializations(
                AssetRecordsFilter(asset_key=key, asset_partitions=[tenant]), limit=1
            ).records
            meta = records[0].asset_materialization.metadata if records else {}
            if "listing_complete" in meta and not meta["listing_complete"].value:
                failing[tenant] = meta["incomplete_slices"].value
        return AssetCheckResult(
            passed=not failing,
            severity=AssetCheckSeverity.ERROR,
            description=f"slices at the search window for {', '.join(failing)}" if failing else None,
            metadata={"incomplete_tenants": MetadataValue.json(failing)},
        )

    return _check


listing_checks = [_listing_check(t) for t in LISTED_TABLES]

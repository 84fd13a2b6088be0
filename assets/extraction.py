"""Raw extraction assets: one dlt asset per Lexware resource (`raw_lexware/<table>`), one partition
per tenant from kontor.yaml; run config selects incremental (default), backfill or full refresh."""

from typing import Literal

import dlt
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    ConfigurableResource,
    Failure,
    MaterializeResult,
    MetadataValue,
    StaticPartitionsDefinition,
    TableColumn,
    TableSchema,
)
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from pydantic import Field

from assets.meta import OWNERS, layer_tags
from pipelines.config import KontorConfig, load_config
from pipelines.lexware import lexware_source, settings
from pipelines.lexware.helpers import backfill_window
from pipelines.lexware.sync import SyncResult, sync_tenant

GROUP = "raw_lexware"
# The raw layer contract (docs/architecture.md): what every raw table has, whatever dlt adds.
RAW_COLUMNS = TableSchema(columns=[
    TableColumn("tenant_id", "text", "Kontor tenant name from kontor.yaml"),
    TableColumn("source_system", "text", "lexware"),
    TableColumn("id", "text", "the Lexware id"),
    TableColumn("version", "bigint", "Lexware version where the resource has one"),
    TableColumn("raw", "json", "the full payload exactly as the API returned it"),
    TableColumn("is_deleted", "bool", "set when the record vanished from the source"),
    TableColumn("_dlt_load_id", "text", "dlt load id (join _dlt_loads for the load time)"),
])
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


class KontorConfigResource(ConfigurableResource):
    """Where kontor.yaml lives (empty: `KONTOR_CONFIG` or the repo root)."""

    path: str = ""

    def load(self) -> KontorConfig:
        return load_config(self.path or None)


class ExtractionConfig(Config):
    """Run config of a sync. Backfill: `mode: backfill` with both voucher dates (yyyy-MM-dd)."""

    mode: Literal["incremental", "backfill", "full"] = Field(
        default="incremental", description="incremental | backfill (voucher-date window) | full refresh")
    voucher_date_from: str | None = Field(default=None, description="backfill: first voucher date")
    voucher_date_to: str | None = Field(default=None, description="backfill: last voucher date (inclusive)")
    reconcile: bool | None = Field(
        default=None, description="force (true) or skip (false) the ID scan that flags deletes; "
                                  "default: once per 24 h")


class KontorDltTranslator(DagsterDltTranslator):
    """Asset keys `raw_lexware/<table>`, group `raw_lexware`, kinds dlt + duckdb; the detail
    tables depend on `raw_lexware/voucherlist`, which feeds them."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        name = data.resource.name
        deps = [AssetKey([GROUP, "voucherlist"])] if data.resource.is_transformer else []
        return spec.replace_attributes(
            key=AssetKey([GROUP, name]), group_name=GROUP, kinds={"dlt", "duckdb"}, deps=deps,
            description=f"{RAW_DESCRIPTIONS.get(name, f'Lexware `{name}`.')} Every tenant is a partition; "
                        "columns: the raw layer contract (docs/architecture.md).",
            owners=OWNERS, tags=layer_tags("raw", "lexware"),
        ).merge_attributes(metadata={"dagster/column_schema": MetadataValue.table_schema(RAW_COLUMNS)})


def _tenant_names() -> list[str]:
    return [t.name for t in load_config().tenants]


tenants_partitions = StaticPartitionsDefinition(_tenant_names())


@dlt_assets(
    dlt_source=lexware_source(),
    dlt_pipeline=dlt.pipeline(pipeline_name="kontor_lexware", destination="duckdb",
                              dataset_name=settings.DATASET,
                              pipelines_dir=str(load_config().data_dir / ".dlt")),
    name="lexware_raw",
    dagster_dlt_translator=KontorDltTranslator(),
    partitions_def=tenants_partitions,
)
def lexware_raw(context: AssetExecutionContext, config: ExtractionConfig, kontor: KontorConfigResource):
    """Sync the partition's tenant; writes are serialised by the warehouse lock inside `sync_tenant`."""
    try:
        window = backfill_window(config.mode, config.voucher_date_from, config.voucher_date_to)
    except ValueError as exc:
        raise Failure(description=f"bad run config: {exc}", allow_retries=False) from None
    result = sync_tenant(
        kontor.load(),
        context.partition_key,
        config.mode,
        *window,
        reconcile=config.reconcile,
        tables=None if not context.is_subset else [k.path[-1] for k in context.selected_asset_keys],
    )
    context.log.info(f"tenant {result.tenant}: {result.client} rows={result.rows}")
    # voucherlist before the detail tables it feeds (Dagster wants a multi-asset's outputs in topo order)
    for key in sorted(context.selected_asset_keys, key=lambda k: settings.TABLES.index(k.path[-1])):
        yield MaterializeResult(asset_key=key, metadata=materialization_metadata(result, key.path[-1]))


def materialization_metadata(result: SyncResult, table: str) -> dict:
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
    if table in result.not_in_plan:
        meta["not_in_plan"] = result.not_in_plan[table]
    if table in result.skipped_details:
        meta["skipped_details"] = MetadataValue.int(result.skipped_details[table])
    return meta

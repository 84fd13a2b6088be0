"""Raw extraction assets of sevDesk, exactly as for Lexware: one dlt asset per table
(`raw_sevdesk/<table>`, asset group `raw_sevdesk`), one partition per sevDesk tenant of kontor.yaml;
run config selects incremental (default) or full refresh (sevDesk needs no backfill window)."""

from collections.abc import Iterator
from typing import Literal

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    AssetSpec,
    Config,
    DefaultScheduleStatus,
    MaterializeResult,
    MetadataValue,
    RunConfig,
    RunRequest,
    ScheduleEvaluationContext,
    StaticPartitionsDefinition,
    define_asset_job,
    schedule,
)
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from pydantic import Field

from assets.extraction import (
    CONFIG_AT_LOAD,
    RAW_COLUMNS,
    KontorConfigResource,
    materialization_metadata,
    template_pipeline,
)
from assets.meta import OWNERS, layer_tags
from pipelines.sevdesk import settings, sevdesk_source
from pipelines.sevdesk.sync import sync_tenant

GROUP = "raw_sevdesk"
RAW_DESCRIPTIONS = {
    "contacts": "Organisations and persons (GET /Contact?depth=1, incremental by updateAfter).",
    "invoices": "Invoices incl. SR cancellations (GET /Invoice, incremental by updateAfter).",
    "vouchers": "Receipts: creditDebit C = expense, D = revenue (GET /Voucher, incremental by updateAfter).",
    "credit_notes": "Credit notes (GET /CreditNote, full scan: no update filter).",
    "invoice_positions": "Invoice lines (GET /InvoicePos, full scan diffed by payload).",
    "credit_note_positions": "Credit note lines (GET /CreditNotePos, full scan diffed by payload).",
    "voucher_positions": "Voucher postings (GET /VoucherPos, full scan diffed by payload).",
    "check_account_transactions": "Bank lines (GET /CheckAccountTransaction, full scan).",
    "check_account_transaction_logs": "Payments: links of bank lines to documents "
    "(GET /CheckAccountTransactionLog, full scan).",
}


class SevdeskExtractionConfig(Config):
    """Run config of a sevDesk sync."""

    mode: Literal["incremental", "full"] = Field(
        default="incremental", description="incremental | full refresh"
    )
    reconcile: bool | None = Field(
        default=None,
        description="force (true) or skip (false) the ID scan of contacts/invoices/vouchers "
        "that flags deletes; default: once per 24 h (other tables: every run)",
    )


class SevdeskDltTranslator(DagsterDltTranslator):
    """Asset keys `raw_sevdesk/<table>`, group `raw_sevdesk`, kinds dlt + duckdb."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        name = data.resource.name
        return spec.replace_attributes(
            key=AssetKey([GROUP, name]),
            group_name=GROUP,
            kinds={"dlt", "duckdb"},
            deps=[],
            description=f"{RAW_DESCRIPTIONS.get(name, f'sevDesk `{name}`.')} Every sevDesk tenant is a "
            "partition; columns: the raw layer contract (docs/architecture.md).",
            owners=OWNERS,
            tags=layer_tags("raw", "sevdesk"),
        ).merge_attributes(metadata={"dagster/column_schema": MetadataValue.table_schema(RAW_COLUMNS)})


sevdesk_partitions = StaticPartitionsDefinition(
    [t.name for t in CONFIG_AT_LOAD.tenants if t.system == "sevdesk"] if CONFIG_AT_LOAD else []
)


@dlt_assets(
    dlt_source=sevdesk_source(),
    dlt_pipeline=template_pipeline("kontor_sevdesk", settings.DATASET),
    name="sevdesk_raw",
    dagster_dlt_translator=SevdeskDltTranslator(),
    partitions_def=sevdesk_partitions,
)
def sevdesk_raw(
    context: AssetExecutionContext, config: SevdeskExtractionConfig, kontor: KontorConfigResource
) -> Iterator[MaterializeResult[None]]:
    """Sync the partition's sevDesk tenant; writes are serialised by the warehouse lock."""
    result = sync_tenant(
        kontor.load(),
        context.partition_key,
        config.mode,
        reconcile=config.reconcile,
        tables=None if not context.is_subset else [k.path[-1] for k in context.selected_asset_keys],
    )
    context.log.info(f"tenant {result.tenant}: {result.client} rows={result.rows}")
    for key in sorted(context.selected_asset_keys, key=lambda k: settings.TABLES.index(k.path[-1])):
        meta = materialization_metadata(result, key.path[-1])
        meta["dagster/table_name"] = f"{settings.DATASET}.{key.path[-1]}"
        yield MaterializeResult(asset_key=key, metadata=meta)


RAW_SEVDESK = AssetSelection.groups(GROUP)
sevdesk_sync_job = define_asset_job(
    "sevdesk_sync",
    selection=RAW_SEVDESK,
    description="Incremental sync of the chosen sevDesk tenants (partitions).",
)
sevdesk_full_refresh_job = define_asset_job(
    "sevdesk_full_refresh",
    selection=RAW_SEVDESK,
    config=RunConfig(ops={"sevdesk_raw": SevdeskExtractionConfig(mode="full")}),
    description="Ignore the stored state of the chosen sevDesk tenants, re-extract everything, flag deletes.",
)


@schedule(
    job=sevdesk_sync_job,
    cron_schedule="0 * * * *",
    execution_timezone="Europe/Berlin",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every hour, one incremental run of sevdesk_sync per sevDesk tenant.",
)
def sevdesk_hourly(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
    for tenant in sevdesk_partitions.get_partition_keys():
        yield RunRequest(
            run_key=f"{tenant}-{context.scheduled_execution_time:%Y%m%dT%H}", partition_key=tenant
        )

"""Jobs and the schedule of the raw extraction: hourly incremental sync of every tenant, a backfill job
whose launchpad asks for tenant and window (nothing pre-filled, so no window runs unchosen), and a full
refresh job with its run config pre-filled."""

from collections.abc import Iterator
from enum import Enum

from dagster import (
    AssetKey,
    AssetMaterialization,
    AssetSelection,
    Config,
    DefaultScheduleStatus,
    Failure,
    OpExecutionContext,
    RunConfig,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    in_process_executor,
    job,
    op,
    schedule,
)
from pydantic import Field

from assets.extraction import (
    ExtractionConfig,
    KontorConfigResource,
    materialization_metadata,
    tenants_partitions,
)
from pipelines.lexware import settings
from pipelines.lexware.helpers import backfill_window
from pipelines.lexware.sync import sync_tenant

RAW = AssetSelection.groups("raw_lexware")
# a backfill re-extracts the voucher list and its detail tables only: contacts, profile and posting
# categories have no voucher date, so they are not selected (and get no materialisation)
RAW_VOUCHERS = AssetSelection.assets(*[AssetKey(["raw_lexware", t]) for t in settings.VOUCHER_TABLES])
OP = "lexware_raw"

lexware_sync_job = define_asset_job(
    "lexware_sync",
    selection=RAW,  # partitioned by tenant, like the assets it selects
    description="Incremental sync of the chosen tenants (partitions).",
)
# mypy cannot list the members of an enum built at run time (one per tenant in kontor.yaml)
TenantName = Enum("TenantName", {name: name for name in tenants_partitions.get_partition_keys()})  # type: ignore[misc]


class BackfillConfig(Config):
    """`lexware_backfill`'s launchpad: the tenant and the window, all required (no default window)."""

    tenant: TenantName = Field(description="the tenant to backfill (a name from kontor.yaml)")
    voucher_date_from: str = Field(description="first voucher date of the window (yyyy-MM-dd)")
    voucher_date_to: str = Field(description="last voucher date of the window, inclusive (yyyy-MM-dd)")


@op(
    description="Re-extract the tenant's vouchers dated in the window, recorded as materialisations of "
    "its raw_lexware voucher tables (partition = tenant)."
)
def backfill_tenant_window(
    context: OpExecutionContext, config: BackfillConfig, kontor: KontorConfigResource
) -> None:
    tenant, start, end = config.tenant.value, config.voucher_date_from, config.voucher_date_to
    try:
        window = backfill_window("backfill", start, end)
    except ValueError as exc:
        raise Failure(description=f"bad run config: {exc}", allow_retries=False) from None
    context.instance.add_run_tags(
        context.run_id, {"kontor/tenant": tenant, "kontor/window": f"{start}..{end}"}
    )
    result = sync_tenant(kontor.load(), tenant, "backfill", *window, tables=list(settings.VOUCHER_TABLES))
    for table in settings.VOUCHER_TABLES:
        context.log_event(
            AssetMaterialization(
                AssetKey([settings.DATASET, table]),
                partition=tenant,
                metadata=materialization_metadata(result, table),
            )
        )


@job(
    name="lexware_backfill",
    tags={"kontor/mode": "backfill"},
    executor_def=in_process_executor,
    description="Backfill tenant X from date A to date B: enter tenant, voucher_date_from and "
    "voucher_date_to in the launchpad (all required; there is no default window) and launch. "
    "Re-extracts the vouchers dated in that window and their details; the voucher list's "
    "low-water mark does not move. The run's tags show the tenant and window.",
)
def lexware_backfill_job() -> None:
    backfill_tenant_window()


lexware_full_refresh_job = define_asset_job(
    "lexware_full_refresh",
    selection=RAW,
    config=RunConfig(ops={OP: ExtractionConfig(mode="full")}),
    description="Ignore the stored state of the chosen tenants, re-extract everything, flag deletes.",
)


@schedule(
    job=lexware_sync_job,
    cron_schedule="0 * * * *",
    execution_timezone="Europe/Berlin",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every hour, one incremental run of lexware_sync per tenant (each tenant has its own "
    "rate budget). Backfills and full refreshes: the jobs lexware_backfill and "
    "lexware_full_refresh.",
)
def lexware_hourly(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
    for tenant in tenants_partitions.get_partition_keys():
        hour = f"{context.scheduled_execution_time:%Y%m%dT%H}"
        yield RunRequest(run_key=f"{tenant}-{hour}", partition_key=tenant)

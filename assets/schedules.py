"""Jobs and the schedule of the raw extraction: hourly incremental sync of every tenant, and jobs
that pre-fill the run config of a backfill or a full refresh in the launchpad."""

from __future__ import annotations

from dagster import (
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    RunConfig,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from assets.extraction import ExtractionConfig, tenants_partitions
from pipelines.lexware import settings

RAW = AssetSelection.groups("raw_lexware")
# a backfill re-extracts the voucher list and its detail tables only: contacts, profile and posting
# categories have no voucher date, so they are not selected (and get no materialisation)
RAW_VOUCHERS = AssetSelection.assets(*[AssetKey(["raw_lexware", t]) for t in settings.VOUCHER_TABLES])
OP = "lexware_raw"

lexware_sync_job = define_asset_job(
    "lexware_sync", selection=RAW,  # partitioned by tenant, like the assets it selects
    description="Incremental sync of the chosen tenants (partitions).",
)
lexware_backfill_job = define_asset_job(
    "lexware_backfill", selection=RAW_VOUCHERS,
    config=RunConfig(ops={OP: ExtractionConfig(mode="backfill", voucher_date_from="2025-01-01",
                                               voucher_date_to="2025-01-31")}),
    description="Re-extract vouchers dated in a window for the chosen tenants; edit the dates in the "
                "launchpad. The voucher list's low-water mark does not move.",
)
lexware_full_refresh_job = define_asset_job(
    "lexware_full_refresh", selection=RAW,
    config=RunConfig(ops={OP: ExtractionConfig(mode="full")}),
    description="Ignore the stored state of the chosen tenants, re-extract everything, flag deletes.",
)


@schedule(job=lexware_sync_job, cron_schedule="0 * * * *", execution_timezone="Europe/Berlin",
          default_status=DefaultScheduleStatus.RUNNING,
          description="Every hour, one incremental run of lexware_sync per tenant (each tenant has its own "
                      "rate budget). Backfills and full refreshes: the jobs lexware_backfill and "
                      "lexware_full_refresh.")
def lexware_hourly(context: ScheduleEvaluationContext):
    for tenant in tenants_partitions.get_partition_keys():
        hour = f"{context.scheduled_execution_time:%Y%m%dT%H}"
        yield RunRequest(run_key=f"{tenant}-{hour}", partition_key=tenant)

"""Write-back: the `apply_corrections` job (manual, or started by the pending-corrections sensor).

Op 1 applies the open rows of `writeback.corrections` to Lexware (config `dry_run: true` only plans and
reports each change as a before/after diff). Op 2 re-syncs the tenants whose records were written,
rebuilds the SQL models and publishes the analysts' snapshot, so `cdm` shows the new state at once.
"""

from dagster import (
    AssetKey,
    AssetMaterialization,
    Config,
    DagsterRunStatus,
    DefaultSensorStatus,
    Failure,
    MetadataValue,
    OpExecutionContext,
    Out,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    config_mapping,
    in_process_executor,
    job,
    op,
    sensor,
)
from pydantic import Field

from assets.extraction import KontorConfigResource
from pipelines.lexware import settings
from pipelines.sevdesk import settings as sevdesk_settings
from pipelines.warehouse import connect, publish_snapshot, warehouse_lock
from pipelines.writeback.clients import TenantClients
from pipelines.writeback.executor import MAX_ATTEMPTS, CorrectionExecutor
from pipelines.writeback.resync import resync_touched
from pipelines.writeback.store import WritebackStore, pending_summary

# Op 1 -----------------------------------------------------------------------------------------------


class ApplyCorrectionsConfig(Config):
    """Run config of `apply_corrections` (launchpad: ops.apply_pending_corrections.config)."""

    dry_run: bool = Field(default=False,
                          description="plan only: GET each record, show before/after, write nothing")
    tenant: str | None = Field(default=None, description="only this tenant's corrections (default: all)")
    max_attempts: int = Field(default=MAX_ATTEMPTS, ge=1, le=20,
                              description="PUT attempts per correction while version conflicts keep coming")
    resync: bool = Field(default=True,
                         description="re-sync touched records and rebuild the models afterwards")


@op(out=Out(dict, description="tenant -> resource -> remote id -> written version"))
def apply_pending_corrections(context: OpExecutionContext, config: ApplyCorrectionsConfig,
                              kontor: KontorConfigResource) -> dict:
    """Apply (or plan) every pending/in-flight correction; every attempt lands in writeback.audit."""
    cfg = kontor.load()
    store = WritebackStore.open(cfg.warehouse)
    with TenantClients(cfg) as clients:  # each checked against the tenant's organisation first
        executor = CorrectionExecutor(store, clients, known_tenants={t.name for t in cfg.tenants},
                                      run_id=context.run_id, max_attempts=config.max_attempts,
                                      systems=clients.systems)
        report = executor.run(dry_run=config.dry_run, tenant=config.tenant)
    stats = clients.stats
    counts = report.counts()
    verb = "planned" if config.dry_run else "processed"
    context.log.info(f"corrections {verb}: {counts}\n{report.render()}")
    if config.dry_run:  # the run's header says it: a dry run, and what it would change
        context.instance.add_run_tags(context.run_id, dry_run_tags(report.render()))
    context.add_output_metadata({
        "dry_run": config.dry_run,
        "corrections": MetadataValue.int(len(report.outcomes)),
        "by_status": MetadataValue.json(counts),
        "version_conflicts_retried": MetadataValue.int(report.conflicts_retried),
        "requests": MetadataValue.int(sum(s["requests"] for s in stats)),
        "rate_limited_429": MetadataValue.int(sum(s["rate_limited_429"] for s in stats)),
        "changes": MetadataValue.md(f"```\n{report.render()}\n```"),
        "blocked_tenants": MetadataValue.json(report.blocked),
    })
    if report.blocked:  # these tenants' corrections stay open; the others' were processed
        raise Failure(description="\n".join(report.blocked.values()) + "\nThe corrections of other "
                      "tenants were processed; their records are re-synced by the next sync.",
                      allow_retries=False)
    return {} if config.dry_run or not config.resync else report.touched()


# Op 2 -----------------------------------------------------------------------------------------------


@op
def resync_touched_records(context: OpExecutionContext, touched: dict, kontor: KontorConfigResource) -> None:
    """Incremental sync of the touched tenants, then rebuild the models and publish the snapshot."""
    if not touched:
        context.log.info("nothing written: no re-sync needed")
        return
    from transforms.runner import build

    cfg = kontor.load()
    results = resync_touched(cfg, touched)
    with warehouse_lock(cfg.warehouse):
        with connect(cfg.warehouse) as con:
            models = build(con)
        if all(m.status == "ok" for m in models):  # analysts never see half a rebuild
            publish_snapshot(cfg.warehouse)
    # recorded like any sync and build, so the catalogue and the automation see these tables as fresh
    for r in results:
        source = sevdesk_settings if cfg.tenant(r.tenant).system == "sevdesk" else settings
        for table in source.TABLES:
            context.log_event(AssetMaterialization(
                AssetKey([source.DATASET, table]), partition=r.tenant,
                metadata={"rows_loaded": MetadataValue.int(r.rows.get(table, 0)),
                          "mode": "write-back re-sync"}))
    for m in models:
        if m.status == "ok":
            context.log_event(AssetMaterialization(
                AssetKey(m.key.split(".", 1)),
                metadata={"dagster/row_count": MetadataValue.int(m.rows or 0)}))
    failed = [m.key for m in models if m.status != "ok"]
    context.add_output_metadata({
        "tenants": MetadataValue.json([r.tenant for r in results]),
        "records": MetadataValue.int(sum(len(ids) for t in touched.values() for ids in t.values())),
        "resync_requests": MetadataValue.int(sum(r.requests for r in results)),
        "stale_after_resync": MetadataValue.json([s for r in results for s in r.stale]),
        "models_rebuilt": MetadataValue.int(len(models) - len(failed)),
        "models_not_built": MetadataValue.json(failed),
    })
    if failed:
        raise Failure(description=f"the corrections were written and re-synced, but {len(failed)} model(s) "
                                  f"failed to rebuild: {failed}; the analysts' snapshot keeps the last "
                                  "complete build")


@job(description="Apply analysts' corrections (writeback.corrections) to Lexware with version-checked "
                 "updates; dry_run only plans. Then re-sync the touched records and rebuild the models.",
     executor_def=in_process_executor,
     tags={"kontor/writeback": "apply"})  # one such run at a time (.dagster/dagster.yaml run queue)
def apply_corrections():
    resync_touched_records(apply_pending_corrections())


DRY_RUN_TAG = "kontor/dry_run"
PLAN_TAG = "kontor/plan"  # the before/after diff, shown with the run's tags in its header
PLAN_TAG_MAX = 1000


def dry_run_tags(plan: str) -> dict[str, str]:
    """Tags of a dry run: marked as such, with its diff (cut at PLAN_TAG_MAX; the full one is in the
    run's metadata "changes")."""
    text = plan if len(plan) <= PLAN_TAG_MAX else plan[:PLAN_TAG_MAX - 40] + " ... (full diff: metadata)"
    return {DRY_RUN_TAG: "true", PLAN_TAG: text}


class DryRunConfig(Config):
    """Run config of `apply_corrections_dry_run`: which tenant only; it never writes."""

    tenant: str | None = Field(default=None, description="only this tenant's corrections (default: all)")


@config_mapping
def dry_run_config(config: DryRunConfig) -> dict:
    return {"ops": {"apply_pending_corrections": {"config": {"dry_run": True, "resync": False,
                                                             **({"tenant": config.tenant} if config.tenant
                                                                else {})}}}}


@job(name="apply_corrections_dry_run", config=dry_run_config, executor_def=in_process_executor,
     tags={"kontor/writeback": "dry-run", DRY_RUN_TAG: "true"},
     description="DRY RUN of apply_corrections: reads each open correction's record from Lexware and shows "
                 "the before/after diff (run tag kontor/plan, metadata \"changes\", writeback.audit); writes "
                 "nothing, and cannot be switched to writing.")
def apply_corrections_dry_run():
    apply_pending_corrections()


ACTIVE = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
          DagsterRunStatus.STARTED]


@sensor(job=apply_corrections, minimum_interval_seconds=60, default_status=DefaultSensorStatus.STOPPED,
        description="Start apply_corrections when corrections are left to do in writeback.corrections "
                    "(pending, or in_flight after an interrupted run): one run per distinct set, none "
                    "while another apply_corrections run is active. Off by default: turn it on to write "
                    "back unattended.")
def pending_corrections_sensor(context: SensorEvaluationContext, kontor: KontorConfigResource):
    summary = pending_summary(kontor.load().warehouse)
    if summary is None:
        return SkipReason("warehouse busy or no writeback schema yet")
    count, digest = summary
    if not count:
        return SkipReason("no pending corrections")
    if context.instance.get_runs_count(RunsFilter(job_name=apply_corrections.name, statuses=ACTIVE)):
        return SkipReason("an apply_corrections run is active; its corrections are not started twice")
    return RunRequest(run_key=f"corrections-{digest[:16]}")

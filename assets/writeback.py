"""Write-back: the `apply_corrections` job (manual, or started by the pending-corrections sensor).

The job applies the open rows of `writeback.corrections` to Lexware and nothing else (config
`dry_run: true` only plans and reports each change as a before/after diff). When it wrote something,
sensor `sync_after_writeback` requests the normal incremental sync of each touched tenant; the model
automation then rebuilds and tests the models and publishes the snapshot as after any sync.
"""

from typing import Any

from dagster import (
    Config,
    DagsterRunStatus,
    DefaultSensorStatus,
    Failure,
    MetadataValue,
    OpExecutionContext,
    Out,
    RunRequest,
    RunsFilter,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SkipReason,
    config_mapping,
    in_process_executor,
    job,
    op,
    run_status_sensor,
    sensor,
)
from pydantic import Field

from assets.extraction import KontorConfigResource
from assets.extraction_sevdesk import sevdesk_sync_job
from assets.schedules import lexware_sync_job
from pipelines.writeback.clients import TenantClients
from pipelines.writeback.executor import MAX_ATTEMPTS, CorrectionExecutor
from pipelines.writeback.store import WritebackStore, pending_summary

TOUCHED_TAG = "kontor/touched_tenants"  # run tag: the tenants whose records the run wrote
TOUCHED_SEVDESK_TAG = "kontor/touched_sevdesk_tenants"  # ... of them, the sevDesk ones (their own sync job)

# Op 1 -----------------------------------------------------------------------------------------------


class ApplyCorrectionsConfig(Config):
    """Run config of `apply_corrections` (launchpad: ops.apply_pending_corrections.config)."""

    dry_run: bool = Field(
        default=False, description="plan only: GET each record, show before/after, write nothing"
    )
    tenant: str | None = Field(default=None, description="only this tenant's corrections (default: all)")
    max_attempts: int = Field(
        default=MAX_ATTEMPTS,
        ge=1,
        le=20,
        description="PUT attempts per correction while version conflicts keep coming",
    )
    resync: bool = Field(
        default=True,
        description="sync the touched tenants afterwards (sensor sync_after_writeback), "
        "so the models rebuild",
    )


@op(out=Out(dict, description="tenant -> resource -> remote id -> written version"))
def apply_pending_corrections(
    context: OpExecutionContext, config: ApplyCorrectionsConfig, kontor: KontorConfigResource
) -> dict[str, Any]:
    """Apply (or plan) every pending/in-flight correction; every attempt lands in writeback.audit."""
    cfg = kontor.load()
    store = WritebackStore.open(cfg.warehouse)
    with TenantClients(cfg) as clients:  # each checked against the tenant's organisation first
        executor = CorrectionExecutor(
            store,
            clients,
            known_tenants={t.name for t in cfg.tenants},
            run_id=context.run_id,
            max_attempts=config.max_attempts,
            systems=clients.systems,
        )
        report = executor.run(dry_run=config.dry_run, tenant=config.tenant)
    stats = clients.stats
    counts = report.counts()
    verb = "planned" if config.dry_run else "processed"
    context.log.info(f"corrections {verb}: {counts}\n{report.render()}")
    if config.dry_run:  # the run's header says it: a dry run, and what it would change
        context.instance.add_run_tags(context.run_id, dry_run_tags(report.render()))
    context.add_output_metadata(
        {
            "dry_run": config.dry_run,
            "corrections": MetadataValue.int(len(report.outcomes)),
            "by_status": MetadataValue.json(counts),
            "version_conflicts_retried": MetadataValue.int(report.conflicts_retried),
            "requests": MetadataValue.int(sum(s["requests"] for s in stats)),
            "rate_limited_429": MetadataValue.int(sum(s["rate_limited_429"] for s in stats)),
            "changes": MetadataValue.md(f"```\n{report.render()}\n```"),
            "blocked_tenants": MetadataValue.json(report.blocked),
        }
    )
    if report.blocked:  # these tenants' corrections stay open; the others' were processed
        raise Failure(
            description="\n".join(report.blocked.values()) + "\nThe corrections of other "
            "tenants were processed; their records are re-synced by the next sync.",
            allow_retries=False,
        )
    touched = {} if config.dry_run or not config.resync else report.touched()
    if touched:  # read by sync_after_writeback once this run succeeded
        by_tag: dict[str, list[str]] = {}
        for t in sorted(touched):
            by_tag.setdefault(
                TOUCHED_SEVDESK_TAG if clients.systems.get(t) == "sevdesk" else TOUCHED_TAG, []
            ).append(t)
        context.instance.add_run_tags(context.run_id, {tag: ",".join(ts) for tag, ts in by_tag.items()})
    return touched


@job(
    description="Apply analysts' corrections (writeback.corrections) to Lexware with version-checked "
    "updates; dry_run only plans. Afterwards sensor sync_after_writeback syncs the touched "
    "tenants and the models rebuild as after any sync.",
    executor_def=in_process_executor,
    tags={"kontor/writeback": "apply"},
)  # one such run at a time (.dagster/dagster.yaml run queue)
def apply_corrections() -> None:
    apply_pending_corrections()


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    monitored_jobs=[apply_corrections],
    request_job=lexware_sync_job,
    default_status=DefaultSensorStatus.RUNNING,
    description="After apply_corrections wrote to Lexware: the normal incremental sync "
    "of each touched tenant (one lexware_sync run per partition); the model "
    "automation then rebuilds and tests the models as after any sync. "
    "On by default.",
)
def sync_after_writeback(context: RunStatusSensorContext) -> SkipReason | list[RunRequest]:
    return _sync_requests(context, TOUCHED_TAG)


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    monitored_jobs=[apply_corrections],
    request_job=sevdesk_sync_job,
    default_status=DefaultSensorStatus.RUNNING,
    description="After apply_corrections wrote to sevDesk: the normal incremental sync of "
    "each touched sevDesk tenant (one sevdesk_sync run per partition). On by "
    "default.",
)
def sync_sevdesk_after_writeback(context: RunStatusSensorContext) -> SkipReason | list[RunRequest]:
    return _sync_requests(context, TOUCHED_SEVDESK_TAG)


def _sync_requests(context: RunStatusSensorContext, tag: str) -> SkipReason | list[RunRequest]:
    tenants = [t for t in context.dagster_run.tags.get(tag, "").split(",") if t]
    if not tenants:
        return SkipReason("nothing written: no sync needed")
    return [RunRequest(run_key=f"{context.dagster_run.run_id}:{t}", partition_key=t) for t in tenants]


DRY_RUN_TAG = "kontor/dry_run"
PLAN_TAG = "kontor/plan"  # the before/after diff, shown with the run's tags in its header
PLAN_TAG_MAX = 1000


def dry_run_tags(plan: str) -> dict[str, str]:
    """Tags of a dry run: marked as such, with its diff (cut at PLAN_TAG_MAX; the full one is in the
    run's metadata "changes")."""
    text = plan if len(plan) <= PLAN_TAG_MAX else plan[: PLAN_TAG_MAX - 40] + " ... (full diff: metadata)"
    return {DRY_RUN_TAG: "true", PLAN_TAG: text}


class DryRunConfig(Config):
    """Run config of `apply_corrections_dry_run`: which tenant only; it never writes."""

    tenant: str | None = Field(default=None, description="only this tenant's corrections (default: all)")


@config_mapping
def dry_run_config(config: DryRunConfig) -> dict[str, Any]:
    return {
        "ops": {
            "apply_pending_corrections": {
                "config": {
                    "dry_run": True,
                    "resync": False,
                    **({"tenant": config.tenant} if config.tenant else {}),
                }
            }
        }
    }


@job(
    name="apply_corrections_dry_run",
    config=dry_run_config,
    executor_def=in_process_executor,
    tags={"kontor/writeback": "dry-run", DRY_RUN_TAG: "true"},
    description="DRY RUN of apply_corrections: reads each open correction's record from Lexware and shows "
    'the before/after diff (run tag kontor/plan, metadata "changes", writeback.audit); writes '
    "nothing, and cannot be switched to writing.",
)
def apply_corrections_dry_run() -> None:
    apply_pending_corrections()


ACTIVE = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]


@sensor(
    job=apply_corrections,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Start apply_corrections when corrections are left to do in writeback.corrections "
    "(pending, or in_flight after an interrupted run): one run per distinct set, none "
    "while another apply_corrections run is active. Off by default: turn it on to write "
    "back unattended.",
)
def pending_corrections_sensor(
    context: SensorEvaluationContext, kontor: KontorConfigResource
) -> RunRequest | SkipReason:
    summary = pending_summary(kontor.load().warehouse)
    if summary is None:
        return SkipReason("warehouse busy or no writeback schema yet")
    count, digest = summary
    if not count:
        return SkipReason("no pending corrections")
    if context.instance.get_runs_count(RunsFilter(job_name=apply_corrections.name, statuses=ACTIVE)):
        return SkipReason("an apply_corrections run is active; its corrections are not started twice")
    return RunRequest(run_key=f"corrections-{digest[:16]}")

"""Near real time through Lexware webhooks: the sensor that turns stored events into targeted runs, and
the job + schedule that keep every tenant's event subscriptions in place (re-created after a 410, after
Lexware removed them for failed deliveries, or after a key rotation)."""

from datetime import UTC, datetime

from dagster import (
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Failure,
    MetadataValue,
    OpExecutionContext,
    RunConfig,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    job,
    op,
    schedule,
    sensor,
)

from assets.extraction import ExtractionConfig, KontorConfigResource, tenants_partitions
from core.config import ConfigError
from pipelines.lexware import settings
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import LexwareError
from pipelines.lexware.events import ensure_subscriptions, open_event_store

OP = "lexware_raw"
# an event run reads contacts by id and the voucher list (+ details, payments); profile and posting
# categories have no events and are left to the hourly sync
EVENT_TABLES = AssetSelection.assets(
    *[AssetKey(["raw_lexware", t]) for t in ("contacts", *settings.VOUCHER_TABLES)]
)

lexware_events_job = define_asset_job(
    "lexware_events",
    selection=EVENT_TABLES,
    config=RunConfig(ops={OP: ExtractionConfig(mode="events")}),
    description="Targeted run for a tenant's stored webhook events: GET exactly the changed contacts, the "
    "voucher list from its mark and the changed documents' details and payments; deletions "
    "confirmed by a 404 and flagged at once. Launched by the sensor lexware_events_sensor.",
)


@sensor(
    job=lexware_events_job,
    minimum_interval_seconds=15,
    default_status=DefaultSensorStatus.RUNNING,
    description="Every 15 s: one lexware_events run per tenant with new stored webhook events (a batch: "
    "all pending up to the newest). Runs of one tenant queue on its lock; events a failed run "
    "left pending get another run after 10 minutes (the hourly sync covers their data meanwhile).",
)
def lexware_events_sensor(
    context: SensorEvaluationContext, kontor: KontorConfigResource
) -> list[RunRequest] | SkipReason:
    config = kontor.load()
    if config.webhooks is None:
        return SkipReason("no `webhooks:` section in kontor.yaml: polling only")
    pending = open_event_store(config).pending_tenants()
    known = set(tenants_partitions.get_partition_keys())
    requests = [
        RunRequest(
            run_key=_run_key(tenant, newest, oldest),
            partition_key=tenant,
            run_config=RunConfig(ops={OP: ExtractionConfig(mode="events", events_up_to=newest)}),
            tags={"kontor/events_up_to": str(newest)},
        )
        for tenant, (newest, oldest) in sorted(pending.items())
        if tenant in known
    ]
    return requests or SkipReason("no new events")


def _run_key(tenant: str, newest: int, oldest_received: str) -> str:
    """One run per new batch; events still pending after EVENT_RETRY_AFTER (their run failed) get one
    more run per such interval."""
    retry = int((datetime.now(UTC) - datetime.fromisoformat(oldest_received)) / settings.EVENT_RETRY_AFTER)
    return f"events-{tenant}-{newest}" + (f"-retry-{retry}" if retry else "")


@op(description="List, verify and (re-)create every tenant's event subscriptions to the receiver.")
def ensure_event_subscriptions(context: OpExecutionContext, kontor: KontorConfigResource) -> None:
    config = kontor.load()
    if config.webhooks is None:
        context.log.info("no `webhooks:` section in kontor.yaml: nothing to subscribe")
        return
    failed = {}
    summary = {}
    for tenant in config.tenants:
        try:
            with LexwareClient(tenant) as client:
                report = ensure_subscriptions(client, config.webhooks.callback_url(tenant.name))
        except (LexwareError, ConfigError) as exc:
            context.log.error(f"tenant {tenant.name}: event subscriptions not ensured: {exc}")
            failed[tenant.name] = str(exc)
            continue
        summary[tenant.name] = {
            "kept": len(report.kept),
            "created": report.created,
            "removed": report.removed,
        }
        context.log.info(f"tenant {tenant.name}: {summary[tenant.name]}")
    context.add_output_metadata({"subscriptions": MetadataValue.json(summary)})
    if failed:
        raise Failure(
            description=f"event subscriptions failed for {sorted(failed)}",
            metadata={"errors": MetadataValue.json(failed)},
        )


@job(description="Keep every tenant's Lexware event subscriptions pointing at the receiver.")
def lexware_event_subscriptions() -> None:
    ensure_event_subscriptions()


@schedule(
    job=lexware_event_subscriptions,
    cron_schedule="*/15 * * * *",
    execution_timezone="Europe/Berlin",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every 15 minutes: re-create event subscriptions Lexware removed (1 request per "
    "tenant when all are in place; does nothing without `webhooks:` in kontor.yaml).",
)
def lexware_subscriptions_every_15_min(context: ScheduleEvaluationContext) -> RunRequest:
    return RunRequest(run_key=f"subscriptions-{context.scheduled_execution_time:%Y%m%dT%H%M}")

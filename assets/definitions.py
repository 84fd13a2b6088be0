"""The one Dagster code location of Kontor (loaded via workspace.yaml)."""

from typing import Any, NoReturn

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
    SensorDefinition,
    SensorEvaluationContext,
    in_process_executor,
    sensor,
)

from assets.events import (
    lexware_event_subscriptions,
    lexware_events_job,
    lexware_events_sensor,
    lexware_subscriptions_every_15_min,
)
from assets.extraction import CONFIG_ERROR, KontorConfigResource, lexware_raw, listing_checks
from assets.extraction_sevdesk import sevdesk_full_refresh_job, sevdesk_hourly, sevdesk_raw, sevdesk_sync_job
from assets.resources import WarehouseResource
from assets.schedules import lexware_backfill_job, lexware_full_refresh_job, lexware_hourly, lexware_sync_job
from assets.transforms import dbt_resource, kontor_models, transform_job
from assets.writeback import (
    apply_corrections,
    apply_corrections_dry_run,
    pending_corrections_sensor,
    sync_after_writeback,
    sync_sevdesk_after_writeback,
)
from core.config import ConfigError

# --- extraction (raw_lexware/*): add its assets, jobs, schedules and resources here ---
EXTRACTION_ASSETS: list[Any] = [lexware_raw, sevdesk_raw]
EXTRACTION_CHECKS: list[Any] = listing_checks
EXTRACTION_JOBS: list[Any] = [
    lexware_sync_job,
    lexware_backfill_job,
    lexware_full_refresh_job,
    lexware_events_job,
    lexware_event_subscriptions,
    sevdesk_sync_job,
    sevdesk_full_refresh_job,
]
EXTRACTION_SCHEDULES: list[Any] = [lexware_hourly, lexware_subscriptions_every_15_min, sevdesk_hourly]
EXTRACTION_SENSORS: list[Any] = [lexware_events_sensor]  # webhook events -> targeted runs
EXTRACTION_RESOURCES: dict[str, Any] = {"kontor": KontorConfigResource()}

# --- write-back: add its assets, jobs and resources here ---
WRITEBACK_ASSETS: list[Any] = []
WRITEBACK_JOBS: list[Any] = [apply_corrections, apply_corrections_dry_run]
WRITEBACK_SENSORS: list[Any] = [
    pending_corrections_sensor,
    sync_after_writeback,
    sync_sevdesk_after_writeback,
]
WRITEBACK_RESOURCES: dict[str, Any] = {"kontor": KontorConfigResource()}

# The SQL models rebuild after every sync (AutomationCondition.eager): this sensor evaluates that and is
# on from the start, so `make ui` keeps the CDM and marts current without a toggle in the UI.
model_automation = AutomationConditionSensorDefinition(
    "kontor_model_automation",
    target=AssetSelection.assets(kontor_models),
    default_status=DefaultSensorStatus.RUNNING,
    description="Rebuilds the staging/CDM/marts models after raw data changed (each model's "
    "AutomationCondition.eager); on by default.",
)


def config_error_sensor(error: str) -> SensorDefinition:
    """A sensor named for a bad kontor.yaml: on from the start, every tick fails with the one-line error
    (Overview and Automation show it red); the catalogue still loads, without tenants."""

    @sensor(
        name="kontor_config_invalid",
        minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.RUNNING,
        description=f"kontor.yaml is invalid - no tenant is synced until it is fixed: {error}",
    )
    def kontor_config_invalid(context: SensorEvaluationContext) -> NoReturn:
        raise ConfigError(error)

    return kontor_config_invalid


CONFIG_SENSORS: list[Any] = [config_error_sensor(CONFIG_ERROR)] if CONFIG_ERROR else []

defs = Definitions(
    assets=[*EXTRACTION_ASSETS, kontor_models, *WRITEBACK_ASSETS],
    asset_checks=[*EXTRACTION_CHECKS],
    jobs=[*EXTRACTION_JOBS, transform_job, *WRITEBACK_JOBS],
    schedules=[*EXTRACTION_SCHEDULES],
    sensors=[model_automation, *EXTRACTION_SENSORS, *WRITEBACK_SENSORS, *CONFIG_SENSORS],
    resources={
        "warehouse": WarehouseResource(),
        "dbt": dbt_resource(),
        **EXTRACTION_RESOURCES,
        **WRITEBACK_RESOURCES,
    },
    executor=in_process_executor,  # asset runs (automation, `asset materialize`): no process per step
)

"""The one Dagster code location of Kontor (loaded via workspace.yaml)."""

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
    in_process_executor,
)

from assets.extraction import KontorConfigResource, lexware_raw
from assets.resources import WarehouseResource
from assets.schedules import lexware_backfill_job, lexware_full_refresh_job, lexware_hourly, lexware_sync_job
from assets.transforms import dbt_resource, kontor_models, transform_job
from assets.writeback import apply_corrections, pending_corrections_sensor, sync_after_writeback

# --- extraction (raw_lexware/*): add its assets, jobs, schedules and resources here ---
EXTRACTION_ASSETS: list = [lexware_raw]
EXTRACTION_JOBS: list = [lexware_sync_job, lexware_backfill_job, lexware_full_refresh_job]
EXTRACTION_SCHEDULES: list = [lexware_hourly]
EXTRACTION_RESOURCES: dict = {"kontor": KontorConfigResource()}

# --- write-back: add its assets, jobs and resources here ---
WRITEBACK_ASSETS: list = []
WRITEBACK_JOBS: list = [apply_corrections]
WRITEBACK_SENSORS: list = [pending_corrections_sensor, sync_after_writeback]
WRITEBACK_RESOURCES: dict = {"kontor": KontorConfigResource()}

# The SQL models rebuild after every sync (AutomationCondition.eager): this sensor evaluates that and is
# on from the start, so `make ui` keeps the CDM and marts current without a toggle in the UI.
model_automation = AutomationConditionSensorDefinition(
    "kontor_model_automation",
    target=AssetSelection.assets(kontor_models),
    default_status=DefaultSensorStatus.RUNNING,
    description="Rebuilds the staging/CDM/marts models after raw data changed (each model's "
                "AutomationCondition.eager); on by default.",
)

defs = Definitions(
    assets=[*EXTRACTION_ASSETS, kontor_models, *WRITEBACK_ASSETS],
    jobs=[*EXTRACTION_JOBS, transform_job, *WRITEBACK_JOBS],
    schedules=[*EXTRACTION_SCHEDULES],
    sensors=[model_automation, *WRITEBACK_SENSORS],
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource(), **EXTRACTION_RESOURCES,
               **WRITEBACK_RESOURCES},
    executor=in_process_executor,  # asset runs (automation, `asset materialize`): no process per step
)

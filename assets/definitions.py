"""The one Dagster code location of Kontor (loaded via workspace.yaml)."""

from dagster import Definitions

from assets.checks import transform_checks
from assets.resources import WarehouseResource
from assets.transforms import sql_transforms, transform_job

# --- extraction (raw_lexware/*): add its assets, jobs, schedules and resources here ---
EXTRACTION_ASSETS: list = []
EXTRACTION_JOBS: list = []
EXTRACTION_SCHEDULES: list = []
EXTRACTION_RESOURCES: dict = {}

# --- write-back: add its assets, jobs and resources here ---
WRITEBACK_ASSETS: list = []
WRITEBACK_JOBS: list = []
WRITEBACK_RESOURCES: dict = {}

defs = Definitions(
    assets=[*EXTRACTION_ASSETS, sql_transforms, *WRITEBACK_ASSETS],
    asset_checks=transform_checks,
    jobs=[*EXTRACTION_JOBS, transform_job, *WRITEBACK_JOBS],
    schedules=[*EXTRACTION_SCHEDULES],
    resources={"warehouse": WarehouseResource(), **EXTRACTION_RESOURCES, **WRITEBACK_RESOURCES},
)

"""SQL transforms as Dagster assets: one asset per model file in ``transforms/`` (staging, cdm, marts,
quarantine), dependencies read from the SQL, built by ``transforms.runner`` after each sync."""

import datetime as dt

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    AutomationCondition,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    define_asset_job,
    in_process_executor,
    multi_asset,
)
from pydantic import Field

from assets.meta import OWNERS, documented_columns, layer_tags
from assets.resources import WarehouseResource
from pipelines.warehouse import publish_snapshot, warehouse_lock
from pipelines.writeback.store import SCHEMA_SQL as WRITEBACK_SCHEMA
from transforms.graph import Model, discover, model_deps, source_deps
from transforms.runner import ModelResult, build, quarantine_counts, quarantine_summary

MODELS = discover()
TRANSFORM_GROUPS = ("staging", "cdm", "marts", "quarantine")


def model_key(model: Model) -> AssetKey:
    """``["staging", "stg_lexware__x"]``, ``["cdm", "x"]``, ``["marts", "x"]``, ``["quarantine", "x"]``."""
    return AssetKey([model.schema, model.name])


def table_key(ref: str) -> AssetKey:
    """Asset key of a ``schema.table`` the SQL reads (raw tables are the extraction's assets)."""
    return AssetKey(ref.split(".", 1))


# Models that read no table (the as-of date, the status vocabulary) are built when missing and again
# each night, so the marts' default as-of date moves on with the calendar; every other model rebuilds
# when anything it reads changed (after each sync), in the same tick as what it depends on.
ROOT_CONDITION = (
    (AutomationCondition.missing() & ~AutomationCondition.in_progress())
    | AutomationCondition.on_cron("5 0 * * *", cron_timezone="Europe/Berlin")
)


def _spec(model: Model) -> AssetSpec:
    sources = {ref for ref in source_deps(model, MODELS) if not ref.split(".", 1)[1].startswith("_dlt")}
    deps = sorted(model_deps(model, MODELS) | sources)
    root = model.path.parents[2] if model.schema == "staging" else model.path.parents[1]
    metadata = {"sql_file": MetadataValue.path(str(model.path.relative_to(root)))}
    if model.key in documented_columns():  # cdm, marts, quarantine: the columns before the first build
        metadata["dagster/column_schema"] = MetadataValue.table_schema(documented_columns()[model.key])
    return AssetSpec(
        key=model_key(model),
        deps=[table_key(ref) for ref in deps],
        group_name=model.schema,
        kinds={"duckdb", "sql"},
        owners=OWNERS,
        tags=layer_tags(model.schema, "lexware" if model.schema == "staging" else "all"),
        description=model.description,
        metadata=metadata,
        automation_condition=AutomationCondition.eager() if deps else ROOT_CONDITION,
        skippable=True,
    )


class TransformConfig(Config):
    """Run config of a transform build."""

    as_of: str | None = Field(default=None, description="as-of date of the marts (yyyy-mm-dd; default today)")


def _metadata(result: ModelResult, quarantined: dict[str, int]) -> dict:
    documented = documented_columns().get(result.key)
    meaning = {c.name: c.description for c in documented.columns} if documented else {}
    meta = {
        "dagster/row_count": MetadataValue.int(result.rows or 0),
        "dagster/column_schema": MetadataValue.table_schema(TableSchema(columns=[
            TableColumn(name, type_, meaning.get(name)) for name, type_ in result.columns
        ])),
        "build_seconds": MetadataValue.float(round(result.seconds, 3)),
    }
    if quarantined or result.key.startswith("staging."):
        meta["quarantined_rejected"] = MetadataValue.int(quarantined.get("rejected", 0))
        meta["quarantined_flagged"] = MetadataValue.int(quarantined.get("flagged", 0))
    return meta


@multi_asset(specs=[_spec(m) for m in MODELS.values()], can_subset=True, name="sql_transforms")
def sql_transforms(context: AssetExecutionContext, config: TransformConfig, warehouse: WarehouseResource):
    """Rebuild the selected models in dependency order, each in its own transaction."""
    by_key = {model_key(m): k for k, m in MODELS.items()}
    select = {by_key[k] for k in context.selected_asset_keys}
    as_of = dt.date.fromisoformat(config.as_of) if config.as_of else None
    with warehouse_lock(warehouse.file):
        with warehouse.connect() as con:
            results = build(con, select, as_of)
            counts = {r.key: quarantine_counts(con, r.key) for r in results if r.status == "ok"}
            by_reason = quarantine_summary(con)
            con.execute(WRITEBACK_SCHEMA)  # analysts can record corrections once the models exist
        if all(r.status == "ok" for r in results):  # analysts never see half a rebuild
            publish_snapshot(warehouse.file)
    for r in results:
        if r.status == "ok":
            meta = _metadata(r, counts[r.key])
            if r.key == "quarantine.issues":
                meta["issues_by_reason"] = MetadataValue.json(by_reason)
            yield MaterializeResult(asset_key=model_key(MODELS[r.key]), metadata=meta)
        else:
            context.log.warning(f"{r.key} {r.status}: {r.error}")
    failed = [f"{r.key}: {r.error}" for r in results if r.status == "failed"]
    if failed:
        raise Failure(
            description=f"{len(failed)} model(s) failed; their previous tables stay readable and the "
                        "analysts' snapshot keeps the last complete build",
            metadata={"failed": MetadataValue.md("\n".join(f"- {f}" for f in failed))},
        )


transform_job = define_asset_job(
    "kontor_transform",
    selection=[model_key(m) for m in MODELS.values()],
    description="Rebuild staging, CDM, quarantine and marts from the raw tables (with their checks).",
    executor_def=in_process_executor,  # one step per asset check: a process each would cost ~1 s apiece
)

"""The dbt project in ``transforms/`` as Dagster assets: every model an asset (``staging/…``, ``cdm/…``,
``marts/…``, ``quarantine/…``, ``analyst/…``), every dbt test an asset check, lineage from the dlt assets
``raw_lexware/<table>`` (the dbt sources). Models rebuild after each sync (eager automation).

One build path: ``dbt build`` (models and tests in dependency order; an error-severity test that fails
skips everything downstream of its model), then the analysts' snapshot is published only when nothing
blocked. The UI, ``make sync``, the demo and write-back all run it through this asset.
"""

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    AutomationCondition,
    Config,
    Failure,
    MetadataValue,
    Output,
    TableColumn,
    TableSchema,
    define_asset_job,
    in_process_executor,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from filelock import FileLock
from pydantic import Field

from assets.meta import OWNERS, layer_tags
from assets.resources import WarehouseResource
from core.config import ConfigError, load_config
from core.warehouse import create_objects, engine_of, warehouse_lock
from pipelines.writeback.store import schema_sql as writeback_schema
from transforms.project import (
    PROFILES_DIR,
    PROJECT_DIR,
    TARGET_DIR,
    NodeOutcome,
    build_args,
    dbt_environment,
    dbt_executable,
    outcomes,
    parse,
    publish_if_complete,
)

KONTOR_DBT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROFILES_DIR, target_path=TARGET_DIR)
NOT_AN_ASSET = "_dlt_loads"  # dlt's load log: written with every raw table, no asset of its own


def _stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [PROJECT_DIR / "dbt_project.yml", *(PROJECT_DIR / d for d in ("models", "tests", "macros"))]
    return any(p.stat().st_mtime > built for s in sources for p in ([s] if s.is_file() else s.rglob("*")))


def prepare_manifest() -> Path:
    """``dbt parse`` when the manifest is missing or older than a model, test or macro (a fresh clone,
    an analyst's new model), against the configured warehouse so builds can parse partially."""
    with FileLock(str(TARGET_DIR.with_name(f"{TARGET_DIR.name}.lock"))):
        if _stale(KONTOR_DBT.manifest_path):
            try:
                warehouse = load_config().warehouse
            except ConfigError:
                warehouse = PROJECT_DIR.parent / "data" / "kontor.duckdb"
            with dbt_environment(warehouse):
                parse()
    return KONTOR_DBT.manifest_path


# Models that read no table (the as-of date, the status vocabulary) are built when missing and again
# each night, so the marts' default as-of date moves on with the calendar; every other model rebuilds
# when anything it reads changed (after each sync), in the same tick as what it depends on.
ROOT_CONDITION = (
    AutomationCondition.missing() & ~AutomationCondition.in_progress()
) | AutomationCondition.on_cron("5 0 * * *", cron_timezone="Europe/Berlin")


def _unfed_source(unique_id: str) -> bool:
    """A raw table of a source system no tenant of kontor.yaml uses (e.g. raw_sevdesk in a Lexware-only
    project): nothing ever loads it, so a model reading only such tables is built like a root model (when
    missing: empty, see transforms/macros/source.sql) instead of waiting forever for its raw data."""
    if not unique_id.startswith("source."):
        return False
    from assets.extraction import CONFIG_AT_LOAD

    systems = {t.system for t in CONFIG_AT_LOAD.tenants} if CONFIG_AT_LOAD else set()
    return unique_id.split(".")[2].removeprefix("raw_") not in systems


class KontorDbtTranslator(DagsterDbtTranslator):
    """Asset keys ``<schema>/<model>`` grouped by layer; sources keep the dlt assets' keys
    (``meta.dagster.asset_key`` in the sources YAML); owners, layer tags and eager automation."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            return AssetKey([dbt_resource_props["config"]["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model":
            return str(dbt_resource_props["config"]["schema"])
        return super().get_group_name(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return OWNERS

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        meta = dbt_resource_props.get("config", {}).get("meta", {})
        return layer_tags(meta.get("layer", "analyst"), meta.get("source", "all"))

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        metadata = dict(super().get_metadata(dbt_resource_props))
        columns = metadata.get("dagster/column_schema")
        if isinstance(columns, TableSchema):  # as the raw assets carry it
            metadata["dagster/column_schema"] = MetadataValue.table_schema(columns)
        if dbt_resource_props["resource_type"] == "model":
            metadata["sql_file"] = MetadataValue.path(str(dbt_resource_props["original_file_path"]))
            grain = dbt_resource_props.get("config", {}).get("meta", {}).get("grain")
            if grain:
                metadata["grain"] = ", ".join(grain)
        return metadata

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> AutomationCondition[Any] | None:
        if dbt_resource_props["resource_type"] != "model":
            return None
        reads = [n for n in dbt_resource_props.get("depends_on", {}).get("nodes", []) if not _unfed_source(n)]
        return AutomationCondition.eager() if reads else ROOT_CONDITION

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        deps = [d for d in spec.deps if d.asset_key.path[-1] != NOT_AN_ASSET]
        return spec.replace_attributes(deps=deps) if len(deps) != len(list(spec.deps)) else spec

    def get_asset_check_spec(
        self, asset_spec: AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=_test_description(manifest, unique_id),
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=spec.blocking,
        )


def _test_description(manifest: Mapping[str, Any], unique_id: str) -> str:
    """A dbt test's description from its YAML; for the grain test, what it asserts."""
    test = manifest["nodes"][unique_id]
    if test.get("description"):
        return str(test["description"])
    generic = test.get("test_metadata") or {}
    if generic.get("name") == "unique_key":
        return f"({', '.join(generic['kwargs']['columns'])}) is unique and never NULL (the model's grain)"
    return f"dbt test {test['name']}"


TRANSLATOR = KontorDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


class TransformConfig(Config):
    """Run config of a model build."""

    as_of: str | None = Field(default=None, description="as-of date of the marts (yyyy-mm-dd; default today)")


def _count(con: Any, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _quarantine_metadata(con: Any) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Quarantined rows per staging model and severity, and all of them by ``"<severity>: <reason>"``."""
    exists = _count(
        con,
        "SELECT count(*) FROM information_schema.tables"
        " WHERE table_schema = 'quarantine' AND table_name = 'issues'",
    )
    if not exists:
        return {}, {}
    per_model: dict[str, dict[str, int]] = {}
    rows = con.execute("SELECT model, severity, count(*) FROM quarantine.issues GROUP BY 1, 2").fetchall()
    for model, severity, n in rows:
        per_model.setdefault(model, {})[severity] = n
    by_reason = dict(
        con.execute(
            "SELECT severity || ': ' || reason, count(*) FROM quarantine.issues GROUP BY 1 ORDER BY 1"
        ).fetchall()
    )
    return per_model, by_reason


def _failing_sample(con: Any, relation: str | None, limit: int = 5) -> list[dict[str, str]]:
    """A few of a failed test's rows (dbt stores them as a view, see dbt_project.yml)."""
    if not relation:
        return []
    cur = con.execute(f"SELECT * FROM {relation} LIMIT {limit}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, (str(v) for v in row), strict=True)) for row in cur.fetchall()]


def _columns(con: Any, table: str, documented: TableSchema | None) -> TableSchema:
    """The built table's columns and types, with the meaning the dbt YAML gives them."""
    meaning = {c.name: c.description for c in documented.columns} if documented else {}
    schema, name = table.split(".", 1)
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?"
        " ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return TableSchema(columns=[TableColumn(c, t, meaning.get(c)) for c, t in rows])


def _with_metadata(
    context: AssetExecutionContext, events: list[Any], warehouse: WarehouseResource, nodes: list[NodeOutcome]
) -> Iterator[Any]:
    """dbt's events: each model's output with its row count, built columns and (staging, quarantine) its
    quarantine; each failed test with a sample of its rows."""
    relations = {n.unique_id: n.relation for n in nodes}
    with warehouse.connect() as con:
        per_model, by_reason = _quarantine_metadata(con)
        for event in events:
            if isinstance(event, AssetCheckResult):
                if not event.passed:
                    unique_id = str(getattr(event.metadata.get("unique_id"), "value", ""))
                    sample = _failing_sample(con, relations.get(unique_id))
                    event = event.with_metadata({**event.metadata, "sample": MetadataValue.json(sample)})
                yield event
                continue
            if not isinstance(event, Output):
                yield event
                continue
            key = context.asset_key_for_output(event.output_name)
            table = ".".join(key.path)
            rows_now = _count(con, f"SELECT count(*) FROM {table}")
            documented = context.assets_def.specs_by_key[key].metadata.get("dagster/column_schema")
            extra: dict[str, Any] = {
                "dagster/row_count": MetadataValue.int(rows_now),
                "dagster/column_schema": _columns(con, table, getattr(documented, "schema", documented)),
            }
            if key.path[0] == "staging":
                counts = per_model.get(table, {})
                extra["quarantined_rejected"] = MetadataValue.int(counts.get("rejected", 0))
                extra["quarantined_flagged"] = MetadataValue.int(counts.get("flagged", 0))
            if table == "quarantine.issues":
                extra["issues_by_reason"] = MetadataValue.json(by_reason)
            yield event.with_metadata({**event.metadata, **extra})
        # analysts can record corrections once the models exist
        create_objects(con, writeback_schema(engine_of(con)))


@dbt_assets(
    manifest=prepare_manifest(), project=KONTOR_DBT, dagster_dbt_translator=TRANSLATOR, name="kontor_models"
)
def kontor_models(
    context: AssetExecutionContext, config: TransformConfig, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """dbt build (models + tests) of the selection, then the snapshot if nothing blocked."""
    as_of = dt.date.fromisoformat(config.as_of) if config.as_of else None
    with (
        warehouse_lock(warehouse.file),
        dbt_environment(warehouse.file, memory_limit=warehouse.memory_limit or None, as_of=as_of),
    ):
        # one target folder for every build (they queue on the warehouse lock): dbt parses partially
        invocation = dbt.cli(
            build_args(), context=context, raise_on_error=False, target_path=TARGET_DIR / "dagster"
        )
        events = list(invocation.stream())
        try:
            nodes = outcomes(invocation.get_artifact("run_results.json"))
        except FileNotFoundError as exc:  # dbt stopped before building anything (project or profile error)
            raise Failure(description=f"dbt build did not start: {invocation.get_error()}") from exc
        published = publish_if_complete(warehouse.file, nodes)
        yield from _with_metadata(context, events, warehouse, nodes)
    blocked = [n for n in nodes if n.blocks]
    skipped = [n.name for n in nodes if n.status == "skipped" and n.is_model]
    context.log.info(f"dbt build: {len(nodes)} nodes, snapshot {'published' if published else 'kept'}")
    if blocked:
        raise Failure(
            description=f"{len(blocked)} model(s)/error test(s) failed, {len(skipped)} model(s) downstream "
            "skipped; their previous tables stay readable and the analysts' snapshot keeps the last "
            "complete build",
            metadata={
                "failed": MetadataValue.md("\n".join(f"- {n.name}: {n.message}" for n in blocked)),
                "skipped_models": MetadataValue.json(skipped),
            },
        )


def dbt_resource() -> DbtCliResource:
    """dbt from this environment (the venv's ``dbt``, whatever PATH says)."""
    return DbtCliResource(
        project_dir=KONTOR_DBT, profiles_dir=str(PROFILES_DIR), dbt_executable=str(dbt_executable())
    )


transform_job = define_asset_job(
    "kontor_transform",
    selection=[kontor_models],
    description="dbt build of the models and their tests (staging, CDM, quarantine, marts, analyst), then "
    "the analysts' snapshot when no model and no error-severity test failed.",
    executor_def=in_process_executor,
)

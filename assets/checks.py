"""Asset checks beside the SQL models: unique, not-null keys for every model with a declared grain,
and the data-quality checks in ``transforms/checks/*.sql`` (each returns offending rows)."""

from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from assets.resources import WarehouseResource
from assets.transforms import MODELS, model_key
from transforms.graph import Check, Model, discover_checks
from transforms.runner import grain_violations, quarantine_summary, run_check


def _grain_check(model: Model) -> AssetChecksDefinition:
    @asset_check(
        asset=model_key(model),
        name="key_unique_not_null",
        description=f"({', '.join(model.grain)}) is unique and never NULL",
    )
    def _check(warehouse: WarehouseResource) -> AssetCheckResult:
        with warehouse.connect() as con:
            dupes, nulls = grain_violations(con, model)
        return AssetCheckResult(
            passed=dupes == 0 and nulls == 0,
            metadata={"duplicate_keys": MetadataValue.int(dupes), "null_key_rows": MetadataValue.int(nulls)},
        )

    return _check


def _sql_check(check: Check) -> AssetChecksDefinition:
    @asset_check(
        asset=AssetKey(check.asset.split(".", 1)),
        name=check.name,
        description=check.description,
        additional_deps=[AssetKey(r.split(".", 1)) for r in sorted(check.refs) if r != check.asset],
    )
    def _check(warehouse: WarehouseResource) -> AssetCheckResult:
        with warehouse.connect() as con:
            count, sample = run_check(con, check)
        return AssetCheckResult(
            passed=count == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={"failing_rows": MetadataValue.int(count), "sample": MetadataValue.json(sample)},
        )

    return _check


def _quarantine_check() -> AssetChecksDefinition:
    @asset_check(
        asset=AssetKey(["quarantine", "issues"]),
        name="nothing_rejected",
        description="No source row was rejected (left out of the CDM); warns with the counts by reason",
    )
    def _check(warehouse: WarehouseResource) -> AssetCheckResult:
        with warehouse.connect() as con:
            summary = quarantine_summary(con)
        rejected = sum(n for k, n in summary.items() if k.startswith("rejected"))
        return AssetCheckResult(
            passed=rejected == 0,
            severity=AssetCheckSeverity.WARN,
            metadata={"rejected": rejected, "issues_by_reason": MetadataValue.json(summary)},
        )

    return _check


transform_checks: list[AssetChecksDefinition] = [
    *(_grain_check(m) for m in MODELS.values() if m.grain),
    *(_sql_check(c) for c in discover_checks().values()),
    _quarantine_check(),
]

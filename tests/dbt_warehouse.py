"""Build the dbt models on a fixture warehouse. Every build runs on one fixed file path (the path is part
of dbt's profile, so a fixed path lets dbt parse partially, which saves a full parse per test) and the
result is copied back to the test's own file."""

from __future__ import annotations

import atexit
import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from core.warehouse import snapshot_path
from transforms.project import (
    Build,
    NodeOutcome,
    build,
    dbt_environment,
    invoke,
    manifest_path,
    outcomes,
)

AS_OF = dt.date(2025, 12, 31)
WORK_DIR = Path(tempfile.mkdtemp(prefix="kontor-dbt-"))
WORK = WORK_DIR / "kontor.duckdb"
atexit.register(shutil.rmtree, WORK_DIR, ignore_errors=True)


def _copy(src: Path, dst: Path) -> None:
    """Copy a warehouse and its snapshot (times kept: a test can tell whether a build published)."""
    shutil.copy2(src, dst)
    if snapshot_path(src).exists():
        shutil.copy2(snapshot_path(src), snapshot_path(dst))
    else:
        snapshot_path(dst).unlink(missing_ok=True)


def build_at(path: Path, as_of: dt.date | None = AS_OF, select: tuple[str, ...] = ()) -> Build:
    """dbt build (models + tests, snapshot when complete) of the warehouse file ``path``."""
    _copy(path, WORK)
    try:
        return build(WORK, as_of, select)
    finally:
        _copy(WORK, path)


def fixture_warehouse(
    path: Path, *loaders: Callable[[duckdb.DuckDBPyConnection], None], as_of: dt.date | None = AS_OF
) -> Build:
    """A new warehouse at ``path`` with the raw rows of ``loaders``, built and tested."""
    with duckdb.connect(str(path)) as con:
        for load in loaders:
            load(con)
    return build_at(path, as_of)


def manifest() -> dict[str, Any]:
    """The dbt manifest (parsed when the Dagster definitions load, and by every build)."""
    from assets.transforms import prepare_manifest

    prepare_manifest()
    data: dict[str, Any] = json.loads(manifest_path().read_text(encoding="utf-8"))
    return data


def run_tests_at(path: Path, *select: str) -> list[NodeOutcome]:
    """``dbt test`` of the selected tests on the warehouse file ``path`` (the models as they are)."""
    _copy(path, WORK)
    try:
        with dbt_environment(WORK, as_of=AS_OF):
            return outcomes(invoke(["test", "--select", *select]))
    finally:
        _copy(WORK, path)


def materialize_at(path: Path, as_of: dt.date = AS_OF) -> Any:
    """A real Dagster run of every model and check (dagster-dbt, dbt in a subprocess) on ``path``."""
    from dagster import materialize

    from assets.resources import WarehouseResource
    from assets.transforms import dbt_resource, kontor_models

    _copy(path, WORK)
    try:
        return materialize(
            [kontor_models],
            resources={"dbt": dbt_resource(), "warehouse": WarehouseResource(path=str(WORK))},
            run_config={"ops": {"kontor_models": {"config": {"as_of": as_of.isoformat()}}}},
            raise_on_error=False,
        )
    finally:
        _copy(WORK, path)

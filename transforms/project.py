"""The dbt project in this folder: where it lives, how Kontor invokes it, what a build's outcome means.

One build path: ``dbt build`` (models and their tests in dependency order; a failing error-severity test
skips everything downstream of its model), then the analysts' snapshot is published only when no model
failed and no error-severity test failed (warnings are reported, they do not block). Dagster runs it
through dagster-dbt (``assets/transforms.py``); ``python -m transforms`` runs the same build by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.warehouse import Warehouse, dbt_env, postgres_profile_env, publish_snapshot

PROJECT_DIR = Path(__file__).resolve().parent
PROFILES_DIR = PROJECT_DIR
# dbt's own setting (its --target-path): one folder per concurrent user of this checkout (e.g. test workers)
TARGET_DIR = PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")
BLOCKING_STATUSES = frozenset({"error", "fail", "runtime error"})
AS_OF_VARIABLE = "KONTOR_AS_OF"  # the marts' date, read by macros/as_of.sql
# dbt's per-node cost: its debug log file formats and writes every event and statement (warnings and
# errors still reach logs/dbt.log); no version check. Set in the environment to override.
DBT_SPEED_FLAGS = {"DBT_LOG_LEVEL_FILE": "warn", "DBT_VERSION_CHECK": "false"}


@dataclass(frozen=True)
class NodeOutcome:
    """What ``dbt build`` did with one model or test."""

    unique_id: str
    status: str  # success | error | skipped (models); pass | fail | warn | error | skipped (tests)
    message: str
    failures: int | None
    seconds: float
    relation: str | None = None  # where dbt stored a test's failing rows / built a model

    @property
    def name(self) -> str:
        return self.unique_id.split(".")[-1] if self.is_model else self.unique_id.split(".")[2]

    @property
    def is_model(self) -> bool:
        return self.unique_id.startswith("model.")

    @property
    def blocks(self) -> bool:
        """A failed model or a failed error-severity test: the build is not complete."""
        return self.status in BLOCKING_STATUSES


def build_args(select: Sequence[str] = ()) -> list[str]:
    """Arguments of the one ``dbt build`` every launcher runs (the marts' date: ``dbt_environment``)."""
    args = ["build"]
    if select:
        args += ["--select", *select]
    return args


def outcomes(run_results: Mapping[str, Any]) -> list[NodeOutcome]:
    """Every node of a ``run_results.json`` (models, tests), in execution order; the project's on-run-start
    hook (an ``operation.`` node) only when it failed."""
    return [
        NodeOutcome(
            r["unique_id"],
            str(r["status"]),
            (r.get("message") or "").splitlines()[0] if r.get("message") else "",
            r.get("failures"),
            float(r.get("execution_time") or 0.0),
            r.get("relation_name"),
        )
        for r in run_results.get("results", [])
        if not (r["unique_id"].startswith("operation.") and r["status"] == "success")
    ]


def publish_if_complete(warehouse: Warehouse, nodes: Sequence[NodeOutcome]) -> bool:
    """Publish the analysts' snapshot when nothing blocks; else keep the last complete one (returns
    whether it published; PostgreSQL has no snapshot: true when complete). Call while holding the
    warehouse lock."""
    if any(n.blocks for n in nodes):
        return False
    publish_snapshot(warehouse)
    return True


@contextmanager
def dbt_environment(
    warehouse: Warehouse,
    threads: int | None = None,
    memory_limit: str | None = None,
    postgres_url: str | None = None,
    as_of: dt.date | None = None,
) -> Iterator[None]:
    """Point ``profiles.yml`` at this warehouse (its target: duckdb or postgres) for dbt invocations made
    inside the block (``postgres_url``: build on that PostgreSQL database instead; ``as_of``: the marts'
    date, default today; an environment variable, so a new date re-parses one model, not the project)."""
    values = {
        **dbt_env(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        AS_OF_VARIABLE: as_of.isoformat() if as_of else "",
    }
    values.update({k: v for k, v in DBT_SPEED_FLAGS.items() if k not in os.environ})
    if threads:
        values["DBT_THREADS"] = str(threads)
    if memory_limit:
        values["KONTOR_DUCKDB_MEMORY_LIMIT"] = memory_limit
    if postgres_url:
        values.update(postgres_profile_env(postgres_url))
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def invoke(args: Sequence[str]) -> dict[str, Any]:
    """Run dbt in this process (``dbtRunner``); returns its ``run_results.json`` (empty for parse)."""
    from dbt.cli.main import dbtRunner

    try:
        result = dbtRunner().invoke(
            [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR), "--quiet"]
        )
    finally:
        _release_duckdb()
    if result.exception is not None:
        raise RuntimeError(f"dbt {args[0]} failed: {result.exception}")
    run_results = TARGET_DIR / "run_results.json"
    if args[0] == "parse" or not run_results.exists():
        return {}
    data: dict[str, Any] = json.loads(run_results.read_text(encoding="utf-8"))
    return data


def _release_duckdb() -> None:
    """Close the DuckDB handle dbt-duckdb keeps for the process, so the warehouse file is free again."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()  # type: ignore[no-untyped-call]


def dbt_executable() -> Path:
    """The ``dbt`` installed beside this Python (the venv's, whatever PATH says)."""
    return Path(sys.executable).with_name("dbt")


def parse() -> Path:
    """``dbt parse`` in a child process (writes ``target/manifest.json``); a clear error if it fails."""
    cmd = [
        str(dbt_executable()),
        "parse",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROFILES_DIR),
    ]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise RuntimeError(f"dbt parse failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    return manifest_path()


def manifest_path() -> Path:
    """The parsed manifest (``dbt parse`` writes it; Dagster's catalogue reads it)."""
    return TARGET_DIR / "manifest.json"


@dataclass(frozen=True)
class Build:
    """The outcome of one build: every node, and whether the analysts' snapshot was published."""

    nodes: list[NodeOutcome]
    published: bool

    @property
    def ok(self) -> bool:
        return not any(n.blocks for n in self.nodes)

    def status(self, name: str) -> str:
        """Status of the model or test called ``name`` (``"not run"`` when dbt did not list it)."""
        return next((n.status for n in self.nodes if n.name == name), "not run")


def build(
    warehouse: Warehouse,
    as_of: dt.date | None = None,
    select: Sequence[str] = (),
    threads: int | None = None,
    memory_limit: str | None = None,
) -> Build:
    """Build and test the models in this process, then publish the snapshot if complete (holds the
    warehouse's write lock throughout)."""
    from core.warehouse import warehouse_lock

    with warehouse_lock(warehouse), dbt_environment(warehouse, threads, memory_limit, as_of=as_of):
        nodes = outcomes(invoke(build_args(select)))
        return Build(nodes, publish_if_complete(warehouse, nodes))

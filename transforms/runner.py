"""Build the SQL models into DuckDB in dependency order, one transaction per model.

Each model becomes ``CREATE OR REPLACE TABLE <schema>.<name> AS <the file's SELECT>`` inside its own
transaction: a model that fails is rolled back, so the previous version of its table stays readable, and
every model downstream of it is skipped in this run.

Command line (takes the warehouse's write lock like every writer; publishes the analysts' snapshot when
every model built): ``python -m transforms.runner [WAREHOUSE.duckdb] [--as-of YYYY-MM-DD]
[--select schema.name ...]`` (default: kontor.yaml's warehouse).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.config import ConfigError, load_config
from pipelines.warehouse import connect, publish_snapshot, warehouse_lock
from transforms.graph import Check, Model, build_order, discover, model_deps, source_deps

AS_OF_VARIABLE = "kontor_as_of"


@dataclass
class ModelResult:
    """Outcome of building one model."""

    key: str
    status: str  # "ok" | "failed" | "skipped"
    rows: int | None = None
    seconds: float = 0.0
    error: str | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """``schema.table`` of every table and view in the database."""
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables"
        " WHERE table_catalog = current_database()"
    ).fetchall()
    return {r[0] for r in rows}


def table_columns(con: duckdb.DuckDBPyConnection, key: str) -> list[tuple[str, str]]:
    """(column, type) pairs of a table, in order."""
    schema, name = key.split(".", 1)
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?"
        " ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()


def set_as_of(con: duckdb.DuckDBPyConnection, as_of: dt.date | None) -> None:
    """Fix the marts' as-of date for this connection (``None``: today)."""
    if as_of is None:
        con.execute(f"RESET VARIABLE {AS_OF_VARIABLE}")
    else:
        con.execute(f"SET VARIABLE {AS_OF_VARIABLE} = DATE '{as_of.isoformat()}'")


def build_model(con: duckdb.DuckDBPyConnection, model: Model) -> ModelResult:
    """Create or replace one model's table transactionally."""
    started = time.perf_counter()
    body = model.sql.strip().rstrip(";")
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {model.schema}")
        con.execute(f"CREATE OR REPLACE TABLE {model.key} AS\n{body}")
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        message = str(exc).splitlines()[0]
        return ModelResult(
            model.key, "failed", seconds=time.perf_counter() - started, error=f"{model.path.name}: {message}"
        )
    rows = con.execute(f"SELECT count(*) FROM {model.key}").fetchone()[0]
    return ModelResult(
        model.key, "ok", rows, time.perf_counter() - started, columns=table_columns(con, model.key)
    )


def build(
    con: duckdb.DuckDBPyConnection,
    select: set[str] | None = None,
    as_of: dt.date | None = None,
) -> list[ModelResult]:
    """Build the selected models (default: all) in dependency order; returns one result per model."""
    models = discover()
    set_as_of(con, as_of)
    present = existing_tables(con)
    broken: set[str] = set()
    results = []
    for model in build_order(models, select):
        missing = sorted(ref for ref in source_deps(model, models) if ref not in present)
        upstream = sorted(model_deps(model, models) & broken)
        if missing or upstream:
            why = f"missing source tables {missing}" if missing else f"upstream models failed: {upstream}"
            results.append(ModelResult(model.key, "skipped", error=why))
            broken.add(model.key)
            continue
        result = build_model(con, model)
        if result.status != "ok":
            broken.add(model.key)
        else:
            present.add(model.key)
        results.append(result)
    return results


def run_check(con: duckdb.DuckDBPyConnection, check: Check, sample: int = 5) -> tuple[int, list[dict]]:
    """Run a check; returns (number of offending rows, a few of them as dicts)."""
    body = check.sql.strip().rstrip(";")
    count = con.execute(f"SELECT count(*) FROM ({body})").fetchone()[0]
    cur = con.execute(f"SELECT * FROM ({body}) LIMIT {sample}")
    names = [d[0] for d in cur.description]
    return count, [dict(zip(names, (str(v) for v in row), strict=True)) for row in cur.fetchall()]


def grain_violations(con: duckdb.DuckDBPyConnection, model: Model) -> tuple[int, int]:
    """(duplicate keys, rows with a null key column) for a model with a declared grain."""
    cols = ", ".join(model.grain)
    nulls = " OR ".join(f"{c} IS NULL" for c in model.grain)
    dupes = con.execute(
        f"SELECT count(*) FROM (SELECT {cols} FROM {model.key} GROUP BY ALL HAVING count(*) > 1)"
    ).fetchone()[0]
    null_rows = con.execute(f"SELECT count(*) FROM {model.key} WHERE {nulls}").fetchone()[0]
    return dupes, null_rows


def quarantine_counts(con: duckdb.DuckDBPyConnection, model_key: str) -> dict[str, int]:
    """Quarantined rows of one staging model, by severity (``rejected`` / ``flagged``)."""
    if "quarantine.issues" not in existing_tables(con):
        return {}
    rows = con.execute(
        "SELECT severity, count(*) FROM quarantine.issues WHERE model = ? GROUP BY ALL", [model_key]
    ).fetchall()
    return dict(rows)


def quarantine_summary(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """All quarantined rows counted by ``"<severity>: <reason>"`` (empty when nothing is quarantined)."""
    if "quarantine.issues" not in existing_tables(con):
        return {}
    rows = con.execute(
        "SELECT severity || ': ' || reason, count(*) FROM quarantine.issues GROUP BY ALL ORDER BY 1"
    ).fetchall()
    return dict(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", nargs="?", help="the DuckDB file (default: kontor.yaml's `warehouse:`)")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--select", nargs="*", default=None)
    args = parser.parse_args(argv)
    try:
        path = Path(args.warehouse) if args.warehouse else load_config().warehouse
    except ConfigError as exc:
        parser.error(str(exc))
    with warehouse_lock(path):
        with connect(path) as con:
            results = build(con, set(args.select) if args.select else None, args.as_of)
        if all(r.status == "ok" for r in results):
            publish_snapshot(path)
    for r in results:
        print(f"{r.status:8} {r.key:45} rows={r.rows!s:>10} {r.seconds:7.2f}s {r.error or ''}")
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

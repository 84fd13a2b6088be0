"""Build, test and publish the models by hand: ``python -m transforms [WAREHOUSE.duckdb] [--as-of
YYYY-MM-DD] [--select dbt-selector ...]`` (default: kontor.yaml's warehouse). Dagster runs the same build
as the assets of ``assets/transforms.py``; this is for a shell without Dagster."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from core.config import ConfigError, load_config
from core.warehouse import Warehouse, is_postgres
from transforms.project import build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "warehouse",
        nargs="?",
        help="a DuckDB file (default: kontor.yaml's `warehouse:`, DuckDB or PostgreSQL)",
    )
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--select", nargs="*", default=[])
    args = parser.parse_args(argv)
    try:
        path: Warehouse = Path(args.warehouse) if args.warehouse else load_config().warehouse
        result = build(path, args.as_of, args.select)  # PostgreSQL: its URL's variable must be set
    except ConfigError as exc:
        parser.error(str(exc))
    for n in result.nodes:
        print(f"{n.status:8} {n.name:60} {n.seconds:7.2f}s {n.message if n.status != 'success' else ''}")
    if is_postgres(path):  # no snapshot: analysts read the database
        print("build complete" if result.ok else "build INCOMPLETE (failed models keep their last tables)")
    else:
        kept = "snapshot NOT published (the last complete one stays)"
        print("snapshot published" if result.published else kept)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

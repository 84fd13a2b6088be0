"""Build, test and publish the models by hand: ``python -m transforms [WAREHOUSE.duckdb] [--as-of
YYYY-MM-DD] [--select dbt-selector ...]`` (default: kontor.yaml's warehouse). Dagster runs the same build
as the assets of ``assets/transforms.py``; this is for a shell without Dagster."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from core.config import ConfigError, load_config
from transforms.project import build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("warehouse", nargs="?", help="the DuckDB file (default: kontor.yaml's `warehouse:`)")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--select", nargs="*", default=[])
    args = parser.parse_args(argv)
    try:
        path = Path(args.warehouse) if args.warehouse else load_config().warehouse
    except ConfigError as exc:
        parser.error(str(exc))
    result = build(path, args.as_of, args.select)
    for n in result.nodes:
        print(f"{n.status:8} {n.name:60} {n.seconds:7.2f}s {n.message if n.status != 'success' else ''}")
    kept = "snapshot NOT published (the last complete one stays)"
    print("snapshot published" if result.published else kept)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m report [--warehouse FILE] [--out reports]` (what `make report` runs).

Reads the analysts' snapshot of the warehouse named in kontor.yaml (or $KONTOR_CONFIG) unless
`--warehouse` names another DuckDB file; never blocks a running sync.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import kontor
from core.config import ConfigError, load_config
from report.render import ReportError, render


def default_warehouse() -> Path:
    """The snapshot of the configured warehouse (the warehouse itself if no snapshot exists yet)."""
    try:
        return kontor.open().path
    except kontor.WarehouseNotFound:
        return load_config().warehouse  # render() explains what to run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m report", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", help="DuckDB file with the marts (default: the configured snapshot)")
    parser.add_argument("--out", default="reports", help="output folder (default: reports/)")
    args = parser.parse_args(argv)
    try:
        warehouse = Path(args.warehouse) if args.warehouse else default_warehouse()
        report = render(warehouse, Path(args.out))
    except (ConfigError, ReportError) as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    for t in report.tenants:
        print(
            f"{t.tenant}: open receivables {t.open_amount:,.2f} EUR as of {t.as_of}, "
            f"net revenue {sum(t.revenue.values()):,.2f} EUR over {len(t.revenue)} months"
        )
    print(f"report: {report.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

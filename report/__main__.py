"""`python -m report [--warehouse FILE] [--out reports]` (what `make report` runs).

Reads the warehouse named in kontor.yaml (or $KONTOR_CONFIG) as analysts do - a DuckDB warehouse's snapshot,
a PostgreSQL database itself - unless `--warehouse` names a DuckDB file; never blocks a running sync.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import kontor
from core.config import ConfigError
from core.warehouse import WarehouseUnreachable
from report.render import ReportError, render


def default_warehouse() -> kontor.Warehouse:
    """The configured warehouse as analysts read it (`kontor.open()`)."""
    try:
        return kontor.open()
    except (kontor.WarehouseNotFound, WarehouseUnreachable) as exc:
        raise ReportError(str(exc)) from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m report", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", help="DuckDB file with the marts (default: the configured warehouse)")
    parser.add_argument("--out", default="reports", help="output folder (default: reports/)")
    args = parser.parse_args(argv)
    try:
        warehouse: kontor.Warehouse | Path = Path(args.warehouse) if args.warehouse else default_warehouse()
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

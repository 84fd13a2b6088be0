"""`python -m kontor sql [--warehouse FILE]` (what `make sql` runs): a SQL console on the warehouse as
analysts read it, read-only: Harlequin (a terminal SQL IDE) with the catalogue on the left, the editor top
right, results below. DuckDB: the analysts' snapshot (Harlequin runs on the same DuckDB library as Kontor,
so it reads our files). PostgreSQL: the database, through Harlequin's postgres adapter (the `postgres`
extra, harlequin-postgres), the URL from the variable named in kontor.yaml, its password passed in the
environment, never on the command line. `--print` shows the command."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from importlib.metadata import entry_points
from pathlib import Path

import kontor
from core.config import ConfigError
from core.warehouse import ConsoleTarget, Warehouse, WarehouseUnreachable, console_target


def console_command(warehouse: Warehouse) -> list[str]:
    """Harlequin on `warehouse` (a DuckDB file or a PostgreSQL database), read-only, without the user's
    harlequin config or DuckDB init file."""
    harlequin = shutil.which("harlequin", path=str(Path(sys.executable).parent)) or "harlequin"
    target = console_target(warehouse)
    return [harlequin, "--adapter", target.adapter, *target.args]


def console_env(target: ConsoleTarget | None = None) -> dict[str, str]:
    """The environment with a locale (Harlequin otherwise opens with a "System Locale Not Set" dialog) and
    the target's connection settings (PostgreSQL: password, read-only session)."""
    env = dict(os.environ)
    if not (env.get("LC_ALL") or env.get("LANG")):
        env["LANG"] = "C.UTF-8"
    return {**env, **(target.env if target else {})}


def adapter_installed(name: str) -> bool:
    """Whether Harlequin has the adapter plug-in `name` (`duckdb` is built in; `postgres` is an extra)."""
    return name in {e.name for e in entry_points(group="harlequin.adapter")}


def missing_adapter(target: ConsoleTarget) -> str:
    """The one-line hint when Harlequin lacks the adapter: install the extra, or use another client."""
    return (
        f"kontor sql: Harlequin's {target.adapter} adapter is not installed (`.venv/bin/pip install -e "
        f"'.[{target.adapter}]'`); or connect with {target.elsewhere}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kontor", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sql = sub.add_parser("sql", help="open a SQL console on the warehouse as analysts read it (read-only)")
    sql.add_argument("--warehouse", help="DuckDB file (default: the configured warehouse, its snapshot)")
    sql.add_argument("--print", action="store_true", help="print the console command instead of running it")
    args = parser.parse_args(argv)
    try:
        wh = kontor.open(args.warehouse)
        target = console_target(wh.target)
    except (kontor.WarehouseNotFound, ConfigError, WarehouseUnreachable) as exc:
        print(f"kontor sql: {exc}", file=sys.stderr)
        return 2
    cmd = console_command(wh.target)
    if args.print:
        print(shlex.join(cmd))
        return 0
    if not adapter_installed(target.adapter):
        print(missing_adapter(target), file=sys.stderr)
        return 2
    print(f"kontor sql: {target.shown} (read-only; {target.note})", flush=True)
    os.execve(cmd[0], cmd, console_env(target))
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())

"""`python -m kontor sql [--warehouse FILE]` (what `make sql` runs): a SQL console on the analysts'
snapshot, read-only. Harlequin (a terminal SQL IDE on the same DuckDB library as Kontor, so it reads our
files) with the catalogue on the left, the editor top right, results below; `--print` shows the command."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path

import kontor
from core.config import ConfigError


def console_command(database: Path) -> list[str]:
    """Harlequin on `database`, read-only, without the user's harlequin config or DuckDB init file."""
    harlequin = shutil.which("harlequin", path=str(Path(sys.executable).parent)) or "harlequin"
    return [harlequin, "--adapter", "duckdb", "--read-only", "--no-init", str(database)]


def console_env() -> dict[str, str]:
    """The environment with a locale (Harlequin otherwise opens with a "System Locale Not Set" dialog)."""
    env = dict(os.environ)
    if not (env.get("LC_ALL") or env.get("LANG")):
        env["LANG"] = "C.UTF-8"
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kontor", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sql = sub.add_parser("sql", help="open a SQL console on the analysts' snapshot (read-only)")
    sql.add_argument("--warehouse", help="DuckDB file (default: the snapshot of the configured warehouse)")
    sql.add_argument("--print", action="store_true", help="print the console command instead of running it")
    args = parser.parse_args(argv)
    try:
        database = kontor.open(args.warehouse).path
    except (kontor.WarehouseNotFound, ConfigError) as exc:
        print(f"kontor sql: {exc}", file=sys.stderr)
        return 2
    cmd = console_command(database)
    if args.print:
        print(shlex.join(cmd))
        return 0
    print(f"kontor sql: {database} (read-only; a sync replaces the snapshot, reopen to see it)", flush=True)
    os.execve(cmd[0], cmd, console_env())
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())

"""Command line for analysts without SQL or Dagster at hand.

    python -m pipelines.writeback import fixes.csv     # or .yaml: rows -> writeback.corrections
    python -m pipelines.writeback plan                 # dry run: before/after of every open correction
    python -m pipelines.writeback apply                # apply them (the Dagster job also re-syncs)

Uses kontor.yaml (or $KONTOR_CONFIG) for the tenants and the warehouse file.
"""

from __future__ import annotations

import argparse
import logging
import sys

from core.config import CONFIG_ENV, ConfigError, load_config
from pipelines.writeback.clients import TenantClients
from pipelines.writeback.executor import CorrectionExecutor
from pipelines.writeback.inputs import CorrectionFileError, import_corrections_file
from pipelines.writeback.store import WritebackStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.writeback", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--config", default=None, help="kontor.yaml (default: $KONTOR_CONFIG or the repo's)")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import a CSV/YAML corrections file")
    imp.add_argument("file")
    for name in ("plan", "apply"):
        p = sub.add_parser(name, help="dry run" if name == "plan" else "apply open corrections")
        p.add_argument("--tenant", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        config = load_config(args.config)
        if getattr(args, "tenant", None) is not None:
            config.tenant(args.tenant)  # unknown: ConfigError naming the file read and KONTOR_CONFIG
        store = WritebackStore.open(config.warehouse)
        tenants = {t.name for t in config.tenants}
        if args.command == "import":
            ids = import_corrections_file(
                store, args.file, tenants, systems={t.name: t.system for t in config.tenants}
            )
            for c in (store.get(i) for i in ids):
                print(f"#{c.id} {c.status}" + (f": {c.reason}" if c.reason else ""))
            return 0
        with TenantClients(config) as clients:
            executor = CorrectionExecutor(store, clients, known_tenants=tenants, systems=clients.systems)
            report = executor.run(dry_run=args.command == "plan", tenant=args.tenant)
        print(report.render())
        print(f"\n{report.counts()}")
        for line in report.blocked.values():
            print(f"error: {line}", file=sys.stderr)
        if any((o.reason or "").startswith("unknown tenant") for o in report.outcomes):
            print(
                f"note: tenants are read from {config.path}; set {CONFIG_ENV} (or pass --config) to "
                "use another kontor.yaml",
                file=sys.stderr,
            )
        return 1 if report.blocked else 0
    except (ConfigError, CorrectionFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

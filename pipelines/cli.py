"""Headless sync: `python -m pipelines.cli sync [--tenant NAME ...] [--mode incremental|backfill|full]
[--from yyyy-MM-dd --to yyyy-MM-dd]`. Tenants run in parallel processes (each has its own budget);
writes queue on the warehouse lock. Exit code 1 if any tenant failed."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict

from pipelines.config import ConfigError, load_config
from pipelines.lexware.errors import LexwareError
from pipelines.lexware.helpers import backfill_window
from pipelines.lexware.sync import sync_tenant


def _run(config_path: str, tenant: str, mode: str, start: str | None, end: str | None) -> dict:
    try:
        result = sync_tenant(load_config(config_path), tenant, mode, *backfill_window(mode, start, end))
        return {"ok": True, **asdict(result)}
    except (LexwareError, ConfigError, ValueError) as exc:
        return {"ok": False, "tenant": tenant, "error": str(exc)}
    except Exception as exc:  # a bug, not a user mistake: its traceback goes to stderr, the others go on
        logging.getLogger(__name__).exception("tenant %s: sync failed", tenant)
        return {"ok": False, "tenant": tenant, "error": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sync = sub.add_parser("sync", help="sync tenants into the warehouse")
    sync.add_argument("--config", default=None, help="kontor.yaml (default: KONTOR_CONFIG or repo root)")
    sync.add_argument("--tenant", action="append", help="tenant name (repeatable; default: all)")
    sync.add_argument("--mode", choices=("incremental", "backfill", "full"), default="incremental")
    sync.add_argument("--from", dest="start", help="backfill: first voucher date (yyyy-MM-dd)")
    sync.add_argument("--to", dest="end", help="backfill: last voucher date (inclusive)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    try:
        config = load_config(args.config)
        tenants = args.tenant or [t.name for t in config.tenants]
        for name in tenants:
            config.tenant(name)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    try:
        backfill_window(args.mode, args.start, args.end)
    except ValueError as exc:
        parser.error(str(exc))
    with ProcessPoolExecutor(max_workers=len(tenants)) as pool:
        results = list(pool.map(_run, [str(config.path)] * len(tenants), tenants, [args.mode] * len(tenants),
                                [args.start] * len(tenants), [args.end] * len(tenants)))
    for result in results:
        print(json.dumps(result, default=str))
    failed = [r for r in results if not r["ok"]]
    for r in failed:  # last, in plain words, so nothing printed later hides them
        print(f"sync FAILED: {r['error']}", file=sys.stderr)
    if failed:
        print(f"sync: {len(failed)} of {len(results)} tenant(s) failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

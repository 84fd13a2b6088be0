"""Headless sync: `python -m pipelines.cli sync [--tenant NAME ...] [--mode incremental|backfill|full]
[--from yyyy-MM-dd --to yyyy-MM-dd] [--workers N]`. Tenants sync concurrently in threads of this one
process, at most `--workers` at a time (each tenant has its own rate budget and dlt pipeline); writes
queue on the warehouse lock. Exit code 1 if any tenant failed or could not be listed completely
(see `incomplete` in its result line).

`python -m pipelines.cli check-config` checks kontor.yaml (schema, key variables set, warehouse folder
writable) without a request: exit 2 with one line per problem.
`python -m pipelines.cli rebind --tenant NAME [--purge | --keep-rows]` binds a tenant deliberately to the
Lexware organisation its key answers for now (docs/operations.md, "Tenant binding")."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from typing import Any

from core.config import ConfigError, KontorConfig, PostgresWarehouse, load_config
from core.warehouse import WarehouseUnreachable, connect
from pipelines.lexware import Mode, binding
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import LexwareError
from pipelines.lexware.helpers import backfill_window
from pipelines.lexware.sync import sync_tenant

# Tenants synced at once by one process: a tenant mostly waits for its rate budget (2 req/s at Lexware),
# so a thread each is cheap; the bound keeps memory (a dlt pipeline and buffers per tenant) in check.
DEFAULT_WORKERS = 64
GC_YOUNG = 50_000  # allocations between collections of the youngest generation (CPython's default: 700)


def _run(config_path: str, tenant: str, mode: Mode, start: str | None, end: str | None) -> dict[str, Any]:
    try:
        config = load_config(config_path)
        if config.tenant(tenant).system == "sevdesk":  # dispatch on the tenant's system
            from pipelines.sevdesk.sync import sync_tenant as sync_sevdesk

            if start or end:
                raise ValueError("sevDesk tenants have no backfill window; use --mode full")
            return {"ok": True, **asdict(sync_sevdesk(config, tenant, mode))}
        result = sync_tenant(config, tenant, mode, *backfill_window(mode, start, end))
        # a listing that could not be proven complete fails the tenant (what was reachable is loaded)
        return {"ok": result.complete, **asdict(result)}
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
    sync.add_argument(
        "--workers",
        type=_positive,
        default=DEFAULT_WORKERS,
        help=f"tenants synced at once in this process (default {DEFAULT_WORKERS})",
    )
    check = sub.add_parser("check-config", help="check kontor.yaml without any request")
    check.add_argument("--config", default=None, help="kontor.yaml (default: KONTOR_CONFIG or repo root)")
    rebind = sub.add_parser("rebind", help="bind a tenant to the organisation its key answers for now")
    rebind.add_argument("--config", default=None, help="kontor.yaml (default: KONTOR_CONFIG or repo root)")
    rebind.add_argument("--tenant", required=True)
    rows = rebind.add_mutually_exclusive_group()
    rows.add_argument(
        "--purge",
        action="store_true",
        help="delete the tenant's raw rows and extraction state (the next sync reads afresh)",
    )
    rows.add_argument("--keep-rows", action="store_true", help="keep rows of the previous organisation")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    if args.command == "check-config":
        return check_config(args.config)
    if args.command == "rebind":
        return _rebind(args.config, args.tenant, args.purge, args.keep_rows)
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
    _quiet_gc()  # this process's own setting: the command runs nothing else
    results = sync_all(str(config.path), tenants, args.mode, args.start, args.end, args.workers)
    failed = [r for r in results if not r["ok"]]
    for r in failed:  # last, in plain words, so nothing printed later hides them
        print(f"sync FAILED: {r['error']}", file=sys.stderr)
    if failed:
        print(f"sync: {len(failed)} of {len(results)} tenant(s) failed", file=sys.stderr)
    return 1 if failed else 0


def sync_all(
    config_path: str,
    tenants: list[str],
    mode: Mode,
    start: str | None,
    end: str | None,
    workers: int = DEFAULT_WORKERS,
) -> list[dict[str, Any]]:
    """Sync `tenants` in a bounded thread pool; print each result line as its tenant finishes and return
    the results in the order of `tenants`."""
    with ThreadPoolExecutor(max_workers=min(workers, len(tenants)), thread_name_prefix="tenant") as pool:
        futures = [pool.submit(_run, config_path, name, mode, start, end) for name in tenants]
        for future in as_completed(futures):
            print(json.dumps(future.result(), default=str), flush=True)
        return [f.result() for f in futures]


def _quiet_gc() -> None:
    """Fewer, shorter stops of the garbage collector: a collection stops every thread, and a tenant
    whose token fell due during a stop loses that time for good (its budget paces at the server's
    rate); a full pass over 50 tenants' dlt objects took up to 0.5 s. Start-up's objects (modules,
    dlt's registries) are frozen out of every pass, and the young generation is collected per
    GC_YOUNG allocations instead of 700 (the sync makes few reference cycles). bench/bench_tenants.py."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG, middle, old)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def check_config(path: str | None) -> int:
    """Schema, key variables and warehouse folder; prints every problem on its own line."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    problems = [
        f"{config.path}: tenant {t.name!r}: field 'api_key_env': environment variable "
        f"{t.api_key_env} is not set"
        for t in config.tenants
        if not os.environ.get(t.api_key_env)
    ]
    problems += [
        f"{config.path}: coordination: environment variable {name} is not set"
        for name in config.coordination.env_names
        if not os.environ.get(name)
    ]
    problems += _warehouse_problems(config)
    for line in problems:
        print(f"config error: {line}", file=sys.stderr)
    if problems:
        return 2
    names = ", ".join(t.name for t in config.tenants)
    print(f"{config.path}: OK - {len(config.tenants)} tenant(s) ({names}); warehouse {config.warehouse}")
    return 0


def _warehouse_problems(config: KontorConfig) -> list[str]:
    """Create the warehouse folder and a scratch file in it, as the first sync would."""
    try:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=config.data_dir, prefix=".kontor-check-"):
            pass
    except OSError as exc:
        return [f"{config.path}: field 'warehouse': cannot write to {config.data_dir} ({exc.strerror})"]
    if isinstance(config.warehouse, PostgresWarehouse):  # the URL is set and the database answers
        try:
            with connect(config.warehouse) as con:
                con.execute("SELECT 1").fetchone()
        except (ConfigError, WarehouseUnreachable) as exc:
            return [f"{config.path}: {exc}"]
    return []


def _rebind(path: str | None, tenant_name: str, purge: bool, keep_rows: bool) -> int:
    try:
        config = load_config(path)
        tenant = config.tenant(tenant_name)
        with LexwareClient(tenant) as client:
            result = binding.rebind(config, tenant, client, purge=purge, keep_rows=keep_rows)
    except (ConfigError, LexwareError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        json.dumps(
            {
                "tenant": result.tenant,
                "organization_id": result.current.id,
                "company": result.current.company,
                "previous_organization_id": result.previous.id if result.previous else None,
                "purged_rows": result.purged_rows,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Many tenants in one process: `python -m pipelines.cli sync` over N tenants with small books in one
sandbox at Lexware's real limit, 2 requests/second per key (200-300 ms latency).

`--scenario burst` (default, N=50): every tenant syncing at once. Prints the aggregate request rate the
sandbox served over the common span (from the last tenant's first request to the first tenant's last
request: every tenant requesting) vs N x 2 (target >= 95 %), how the tenants' first and last requests
spread, the 429s served, the number of processes of the sync and its peak total RSS over the process
tree (psutil; target <= 2 GiB for 50 tenants). The sandbox's request counters are sampled every 0.25 s.

`--scenario quiet` (default N=500): a first sync of N tenants with tiny books, then the measured quiet
incremental cycle (nothing changed at the source): wall time, CPU-seconds per tenant (user + system of
the sync process), requests per tenant, peak RSS.

`--warehouse duckdb|postgres` (postgres: a fresh database on $KONTOR_BENCH_POSTGRES, default the test
server, dropped afterwards) and `--coordination local|redis` (rate budgets in SQLite files or in Redis at
$KONTOR_BENCH_REDIS; keys removed afterwards).

Run: `.venv/bin/python bench/bench_tenants.py [--scenario burst|quiet] [--tenants N] [--workers 64]
[--warehouse postgres --coordination redis]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import load_config
from pipelines.cli import DEFAULT_WORKERS
from sandbox.process import start_sandbox

ROOT = Path(__file__).resolve().parent.parent
LIMIT_RPS = 2.0
LATENCY = {"latency_ms": 250, "latency_jitter": 0.2}  # 200-300 ms
SMALL = {"contacts": 10, "invoices": 24, "vouchers": 8, "credit_notes": 2}  # about 40 s of requests
TINY = {"contacts": 2, "invoices": 2, "vouchers": 1, "credit_notes": 1}  # the 500-tenant cycle
SAMPLE_S = 0.25
GIB = 1024**3
POSTGRES = os.environ.get("KONTOR_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("KONTOR_BENCH_REDIS", "redis://127.0.0.1:6379/0")


def _env(name: str) -> str:
    return f"KONTOR_BENCH_{name.upper()}_KEY"


@contextlib.contextmanager
def _postgres() -> Iterator[str]:
    """A fresh database for the warehouse; dropped afterwards."""
    import psycopg2

    name = f"kontor_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(POSTGRES)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(POSTGRES)._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@contextlib.contextmanager
def _redis_prefix() -> Iterator[str]:
    import redis

    prefix = f"kontor_bench:{uuid.uuid4().hex[:8]}:"
    client = redis.Redis.from_url(REDIS)
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


def write_config(folder: Path, base_url: str, names: list[str], warehouse: str, prefix: str | None) -> Path:
    lines = (
        ["warehouse:", "  engine: postgres", "  url_env: KONTOR_BENCH_WAREHOUSE", "  data_dir: data"]
        if warehouse == "postgres"
        else ["warehouse: data/warehouse.duckdb"]
    )
    if prefix is not None:
        lines += [
            "coordination:",
            "  backend: redis",
            "  url_env: KONTOR_BENCH_REDIS_URL",
            f"  key_prefix: '{prefix}'",
        ]
    lines.append("tenants:")
    for name in names:
        lines += [
            f"  - name: {name}",
            f"    base_url: {base_url}",
            f"    api_key_env: {_env(name)}",
            f"    rps: {LIMIT_RPS}",
        ]
    (folder / "kontor.yaml").write_text("\n".join(lines) + "\n")
    load_config(folder / "kontor.yaml")  # fails here, not in the sync, if the file is wrong
    return folder / "kontor.yaml"


def _tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """(total RSS in bytes, number of processes) of `proc` and its descendants."""
    members = [proc, *proc.children(recursive=True)]
    total = 0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += member.memory_info().rss
    return total, len(members)


def _firsts_lasts(
    samples: list[tuple[float, dict[str, int]]], tenants: list[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """Each tenant's first and last request time, on the sampled counters."""
    first = {t: next(ts for ts, counts in samples if counts.get(t, 0) > 0) for t in tenants}
    final = {t: samples[-1][1].get(t, 0) for t in tenants}
    last = {t: next(ts for ts, counts in samples if counts.get(t, 0) >= final[t]) for t in tenants}
    return first, last


def _common_span(samples: list[tuple[float, dict[str, int]]], tenants: list[str]) -> tuple[float, int]:
    """(seconds, requests served) from the last tenant's first request to the first tenant's last one,
    on the sampled counters."""
    first, last = _firsts_lasts(samples, tenants)
    start, end = max(first.values()), min(last.values())
    at_start = next(counts for ts, counts in samples if ts >= start)
    at_end = next(counts for ts, counts in samples if ts >= end)
    return end - start, sum(at_end.get(t, 0) - at_start.get(t, 0) for t in tenants)


def _sync(cfg: Path, workers: int, sb, sample: bool, mode: str = "incremental") -> dict:
    """Run one `pipelines.cli sync` of every tenant; sample its tree's RSS (and the sandbox's counters)."""
    sb.reset_stats()
    # stdout to a file too: a pipe read only at the end fills up (64 KiB of result lines) and stalls the sync
    log = (cfg.parent / f"sync-{mode}.log").open("w")
    out_file = (cfg.parent / f"sync-{mode}.out").open("w+")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "sync",
            "--config",
            str(cfg),
            "--workers",
            str(workers),
            "--mode",
            mode,
        ],
        cwd=ROOT,
        stdout=out_file,
        stderr=log,
        text=True,
    )
    watched = psutil.Process(proc.pid)
    samples: list[tuple[float, dict[str, int]]] = []
    peak_rss, most_processes = 0, 0
    while proc.poll() is None:
        try:
            rss, processes = _tree_rss(watched)
        except psutil.NoSuchProcess:
            break
        peak_rss, most_processes = max(peak_rss, rss), max(most_processes, processes)
        if sample:
            samples.append(
                (time.monotonic() - started, {t: s["requests"] for t, s in sb.stats()["tenants"].items()})
            )
        time.sleep(SAMPLE_S)
    proc.wait()
    wall = time.monotonic() - started
    log.close()
    out_file.seek(0)
    out = out_file.read()
    out_file.close()
    if proc.returncode != 0 or not out.strip():
        tail = (cfg.parent / f"sync-{mode}.log").read_text()[-3000:]
        print(f"sync exit code {proc.returncode}; its log ends:\n{tail}", file=sys.stderr)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stats = sb.stats()["tenants"]
    samples.append((wall, {t: s["requests"] for t, s in stats.items()}))
    results = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {
        "code": proc.returncode,
        "results": results,
        "wall": wall,
        "stats": stats,
        "samples": samples,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_rss": peak_rss,
        "processes": most_processes,
    }


@contextlib.contextmanager
def _setup(folder: Path, n: int, books: dict, warehouse: str, coordination: str) -> Iterator[tuple]:
    keys = {f"t{i:03d}": f"key-{i}" for i in range(n)}
    with contextlib.ExitStack() as stack:
        prefix = stack.enter_context(_redis_prefix()) if coordination == "redis" else None
        if warehouse == "postgres":
            os.environ["KONTOR_BENCH_WAREHOUSE"] = stack.enter_context(_postgres())
        os.environ["KONTOR_BENCH_REDIS_URL"] = REDIS
        sb = stack.enter_context(
            start_sandbox(tenants=keys, rate_limit=LIMIT_RPS, seed=7, **LATENCY, **books)
        )
        for name, key in keys.items():
            os.environ[_env(name)] = key
        yield sb, write_config(folder, sb.base_url, list(keys), warehouse, prefix), list(keys)


def _header(what: str, n: int, workers: int, warehouse: str, coordination: str, books: dict) -> None:
    print(
        f"== {what}: {n} tenants, one `pipelines.cli sync` (--workers {workers}), warehouse {warehouse}, "
        f"budgets {coordination}, 2 req/s per key, 200-300 ms latency, books {books} =="
    )
    print(
        f"load average         {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min, "
        f"{os.cpu_count()} CPUs, shared machine)"
    )


def burst(folder: Path, n: int, workers: int, warehouse: str, coordination: str) -> None:
    with _setup(folder, n, SMALL, warehouse, coordination) as (sb, cfg, tenants):
        run = _sync(cfg, workers, sb, sample=True)
    stats, results = run["stats"], run["results"]
    failed = [r["tenant"] for r in results if not r["ok"]]
    span, in_span = _common_span(run["samples"], tenants)
    first, last = _firsts_lasts(run["samples"], tenants)
    total = sum(s["requests"] for s in stats.values())
    served_429 = sum(s["status"].get("429", 0) for s in stats.values())
    rate, target = in_span / span, n * LIMIT_RPS
    per_tenant = [(run["samples"][-1][1][t]) / (last[t] - first[t]) for t in tenants if last[t] > first[t]]
    _header("all at once", n, workers, warehouse, coordination, SMALL)
    print(f"exit code            {run['code']}  ({len(results)} result lines, failed: {failed or 'none'})")
    print(
        f"requests served      {total}  ({min(s['requests'] for s in stats.values())}-"
        f"{max(s['requests'] for s in stats.values())} per tenant)"
    )
    print(
        f"first requests       {min(first.values()):.1f}-{max(first.values()):.1f} s after start; "
        f"last requests {min(last.values()):.1f}-{max(last.values()):.1f} s"
    )
    print(
        f"per tenant, own span {min(per_tenant):.2f} / {statistics.median(per_tenant):.2f} / "
        f"{max(per_tenant):.2f} req/s (min/median/max, first to last request)"
    )
    print(f"common span          {span:.1f} s (every tenant requesting), {in_span} requests in it")
    print(
        f"aggregate rate       {rate:.2f} req/s vs {n} x {LIMIT_RPS:g} = {target:g} -> {rate / target:.1%} "
        f"(target >= 95 %)"
    )
    print(f"429s served          {served_429}")
    print(f"processes            {run['processes']} at most (the sync and its children)")
    print(f"peak RSS (tree)      {run['peak_rss'] / GIB:.2f} GiB  (target <= 2 GiB)")
    print(f"CPU                  {run['cpu']:.0f} s user+system ({run['cpu'] / n:.2f} s per tenant)")
    print(f"wall time            {run['wall']:.1f} s incl. start-up and the {n} loads")


def quiet(folder: Path, n: int, workers: int, warehouse: str, coordination: str) -> None:
    with _setup(folder, n, TINY, warehouse, coordination) as (sb, cfg, _):
        first = _sync(cfg, workers, sb, sample=False, mode="full")
        cycle = _sync(cfg, workers, sb, sample=False)
    _header("quiet incremental cycle", n, workers, warehouse, coordination, TINY)
    for label, run in (("first sync", first), ("quiet cycle", cycle)):
        failed = [r["tenant"] for r in run["results"] if not r["ok"]]
        requests = sum(s["requests"] for s in run["stats"].values())
        served_429 = sum(s["status"].get("429", 0) for s in run["stats"].values())
        print(
            f"{label:<13} exit {run['code']} ({len(run['results'])} results, {len(failed)} failed); "
            f"wall {run['wall']:.1f} s; CPU {run['cpu']:.0f} s = {run['cpu'] / n:.2f} s per tenant; "
            f"{requests / n:.1f} requests per tenant, 429s {served_429}; "
            f"peak RSS {run['peak_rss'] / GIB:.2f} GiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=("burst", "quiet"), default="burst")
    parser.add_argument("--tenants", type=int, default=None, help="default: 50 (burst), 500 (quiet)")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--warehouse", choices=("duckdb", "postgres"), default="duckdb")
    parser.add_argument("--coordination", choices=("local", "redis"), default="local")
    args = parser.parse_args()
    run = burst if args.scenario == "burst" else quiet
    n = args.tenants or (50 if args.scenario == "burst" else 500)
    with tempfile.TemporaryDirectory(prefix="kontor-bench-") as tmp:
        run(Path(tmp), n, args.workers, args.warehouse, args.coordination)


if __name__ == "__main__":
    main()

"""Many tenants in one process: `python -m pipelines.cli sync` over N tenants (default 50) with small books
in one sandbox at Lexware's real limit, 2 requests/second per key (200-300 ms latency).

Prints the aggregate request rate the sandbox served over the common span (from the last tenant's first
request to the first tenant's last request: every tenant requesting) vs N x 2 (target >= 95 %), the
429s served, the number of processes of the sync and its peak total RSS over the process tree (psutil;
target <= 2 GiB for 50 tenants). The sandbox's request counters are sampled every 0.25 s.

Run: `.venv/bin/python bench/bench_tenants.py [--tenants 50] [--workers 64]` (about 4 minutes;
the loads queue on the warehouse lock at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from bench.sandbox_sync import write_config
from pipelines.cli import DEFAULT_WORKERS
from sandbox.process import start_sandbox

ROOT = Path(__file__).resolve().parent.parent
LIMIT_RPS = 2.0
LATENCY = {"latency_ms": 250, "latency_jitter": 0.2}  # 200-300 ms
SMALL = {"contacts": 10, "invoices": 24, "vouchers": 8, "credit_notes": 2}  # about 40 s of requests
SAMPLE_S = 0.25
GIB = 1024**3


def _env(name: str) -> str:
    return f"KONTOR_BENCH_{name.upper()}_KEY"


def _tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """(total RSS in bytes, number of processes) of `proc` and its descendants."""
    members = [proc, *proc.children(recursive=True)]
    total = 0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += member.memory_info().rss
    return total, len(members)


def _common_span(samples: list[tuple[float, dict[str, int]]], tenants: list[str]) -> tuple[float, int]:
    """(seconds, requests served) from the last tenant's first request to the first tenant's last one,
    on the sampled counters."""
    first = {t: next(ts for ts, counts in samples if counts.get(t, 0) > 0) for t in tenants}
    final = {t: samples[-1][1].get(t, 0) for t in tenants}
    last = {t: next(ts for ts, counts in samples if counts.get(t, 0) >= final[t]) for t in tenants}
    start, end = max(first.values()), min(last.values())
    at_start = next(counts for ts, counts in samples if ts >= start)
    at_end = next(counts for ts, counts in samples if ts >= end)
    return end - start, sum(at_end.get(t, 0) - at_start.get(t, 0) for t in tenants)


def run(folder: Path, n: int, workers: int) -> None:
    keys = {f"t{i:02d}": f"key-{i}" for i in range(n)}
    tenants = list(keys)
    with start_sandbox(tenants=keys, rate_limit=LIMIT_RPS, seed=7, **LATENCY, **SMALL) as sb:
        for name, key in keys.items():
            os.environ[_env(name)] = key
        cfg = write_config(folder, sb.base_url, {name: _env(name) for name in keys}, rps=LIMIT_RPS)
        sb.reset_stats()
        started = time.monotonic()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "sync",
                "--config",
                str(cfg.path),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
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
            counts = {t: s["requests"] for t, s in sb.stats()["tenants"].items()}
            samples.append((time.monotonic() - started, counts))
            time.sleep(SAMPLE_S)
        out, _ = proc.communicate()
        wall = time.monotonic() - started
        stats = sb.stats()["tenants"]
        samples.append((wall, {t: s["requests"] for t, s in stats.items()}))
    results = [json.loads(line) for line in out.splitlines()]
    failed = [r["tenant"] for r in results if not r["ok"]]
    span, in_span = _common_span(samples, tenants)
    total = sum(s["requests"] for s in stats.values())
    served_429 = sum(s["status"].get("429", 0) for s in stats.values())
    rate, target = in_span / span, n * LIMIT_RPS
    print(
        f"== {n} tenants, one `pipelines.cli sync` (--workers {workers}), 2 req/s per key, "
        f"200-300 ms latency, books {SMALL} =="
    )
    print(
        f"exit code            {proc.returncode}  ({len(results)} result lines, failed: {failed or 'none'})"
    )
    print(
        f"requests served      {total}  ({min(s['requests'] for s in stats.values())}-"
        f"{max(s['requests'] for s in stats.values())} per tenant)"
    )
    print(f"common span          {span:.1f} s (every tenant requesting), {in_span} requests in it")
    print(
        f"aggregate rate       {rate:.2f} req/s vs {n} x {LIMIT_RPS:g} = {target:g} -> {rate / target:.1%} "
        f"(target >= 95 %)"
    )
    print(f"429s served          {served_429}")
    print(f"processes            {most_processes} at most (the sync and its children)")
    print(f"peak RSS (tree)      {peak_rss / GIB:.2f} GiB  (target <= 2 GiB)")
    print(f"wall time            {wall:.1f} s incl. start-up and the {n} loads")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kontor-bench-") as tmp:
        run(Path(tmp), args.tenants, args.workers)


if __name__ == "__main__":
    main()

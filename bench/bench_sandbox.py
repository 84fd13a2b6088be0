"""Sandbox figures: startup time per size and latency of 250-row list pages (no added latency).

Run: .venv/bin/python bench/bench_sandbox.py [--size medium]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from sandbox.process import start_sandbox

PAGES = {
    "contacts p0": ("/v1/contacts", {"page": 0, "size": 250}),
    "contacts p7": ("/v1/contacts", {"page": 7, "size": 250}),
    "voucherlist any p0": ("/v1/voucherlist", {"voucherType": "any", "voucherStatus": "any", "size": 250}),
    "voucherlist any p39": (
        "/v1/voucherlist",
        {"voucherType": "any", "voucherStatus": "any", "size": 250, "page": 39},
    ),
    "voucherlist invoice open, updatedDate sort": (
        "/v1/voucherlist",
        {
            "voucherType": "invoice",
            "voucherStatus": "open,paid",
            "size": 250,
            "sort": "updatedDate,ASC",
            "updatedDateFrom": "2025-01-01",
        },
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="medium")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    started = time.perf_counter()
    with start_sandbox(rate_limit=0, size=args.size) as sb:
        startup = time.perf_counter() - started
        print(f"startup ({args.size}): {startup:.2f} s  (process launch -> /_sandbox/health ok)")
        with httpx.Client(base_url=sb.base_url, headers={"Authorization": "Bearer sandbox-demo-key"}) as c:
            for name, (path, params) in PAGES.items():
                c.get(path, params=params).raise_for_status()  # warm caches
                times = []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    r = c.get(path, params=params)
                    times.append((time.perf_counter() - t) * 1000)
                    r.raise_for_status()
                n = len(r.json()["content"])
                print(
                    f"{name:45s} rows={n:3d}  median {statistics.median(times):6.1f} ms  "
                    f"p95 {sorted(times)[int(0.95 * len(times)) - 1]:6.1f} ms"
                )
            t = time.perf_counter()
            export = sb.export()
            print(f"export: {time.perf_counter() - t:.2f} s, voucherlist rows={len(export['voucherlist'])}")


if __name__ == "__main__":
    main()

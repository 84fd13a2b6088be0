"""The command-line options every emulator shares (server, limits, latency, faults, churn, state) and
the `serve` step, so `python -m sandbox` and `python -m sandbox.sevdesk` read the same way."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from sandbox.serve import serve


def add_server_options(p: argparse.ArgumentParser, port: int) -> None:
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=port, help=f"port (default {port})")


def add_behaviour_options(p: argparse.ArgumentParser, rate_limit: float, rate_help: str) -> None:
    """Rate limit, latency, fault draws, churn, persistence and logging (not the fault spec itself,
    whose form differs per emulator)."""
    p.add_argument("--rate-limit", type=float, default=rate_limit, help=rate_help)
    p.add_argument(
        "--burst",
        type=int,
        default=None,
        help="token-bucket capacity per key (default: max(2, rate) = one second's worth; 2 at 2/s)",
    )
    p.add_argument(
        "--retry-after", action="store_true", help="send a Retry-After header on 429 (default off)"
    )
    p.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="mean added latency per API request, uniformly jittered by --latency-jitter (default 0)",
    )
    p.add_argument(
        "--latency-jitter",
        type=float,
        default=0.5,
        help="jitter of the added latency as a fraction of the mean: 0.5 = 50-150%% (default), 0.2 = "
        "80-120%%",
    )
    p.add_argument(
        "--fault-seed", type=int, default=0, help="seed of the per-tenant fault draw sequences (default 0)"
    )
    p.add_argument(
        "--slow-seconds",
        type=float,
        default=35.0,
        help="delay of a 'slow' fault, past a typical client timeout (default 35)",
    )
    p.add_argument(
        "--churn",
        type=float,
        default=0.0,
        metavar="RATE",
        help="background edits per second by 'another user' (default 0 = off)",
    )
    p.add_argument(
        "--state",
        default=None,
        metavar="FILE",
        help="persist the books to FILE (loaded at start if present, saved within 1 s of a change "
        "and at shutdown); default: in memory",
    )
    p.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")


def run(
    name: str,
    args: argparse.Namespace,
    make_sandbox: Callable[[], Any],
    build_app: Callable[[Any], Any],
    api_path: str = "",
) -> int:
    """Seed the emulator (`make_sandbox()`) and serve it with the server options of `args`."""
    started = time.perf_counter()
    return serve(
        name,
        make_sandbox(),
        build_app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        started=started,
        api_path=api_path,
    )

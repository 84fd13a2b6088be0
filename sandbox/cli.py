"""`python -m sandbox serve ...` — start the Lexware Office emulator."""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time

from .config import PLANS, SandboxConfig, TenantSpec
from .faults import parse_spec
from .seed import SIZES, Counts

EPILOG = """\
fault spec: comma-separated KIND=PROBABILITY, KIND in 429,500,502,503,504,reset,slow,malformed, e.g.
  --faults 429=0.05,500=0.02,503=0.02,reset=0.01,slow=0.01,malformed=0.02
  429/500/502/503/reset: the request is NOT performed; 504/slow/malformed: it IS performed, then the
  response is replaced by a 504, delayed by --slow-seconds, or truncated.
operator API (outside /v1): /_sandbox/health, /stats, /stats/reset, /tenants/NAME/export,
  /tenants/NAME/edit, /churn, /reset, /webhook-public-key, /webhooks/deliveries. See sandbox/README.md.
"""


def _pair(text: str, what: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"{what} must look like NAME=VALUE, got '{text}'")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Lexware Office API sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "serve", help="run the emulator", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument(
        "--tenant",
        action="append",
        default=[],
        metavar="NAME=API_KEY",
        type=lambda s: _pair(s, "--tenant"),
        help="a Lexware organisation and its API key (repeatable; default demo=sandbox-demo-key)",
    )
    p.add_argument(
        "--plan",
        action="append",
        default=[],
        metavar="NAME=xl|partner|none",
        type=lambda s: _pair(s, "--plan"),
        help="what a tenant's key may call: xl (public API, default), partner (+ partner-only "
        "endpoints), none (403 everywhere)",
    )
    p.add_argument("--seed", type=int, default=42, help="data seed; same seed -> same data byte for byte")
    p.add_argument(
        "--size",
        choices=sorted(SIZES),
        default="small",
        help="data size preset: small (60 contacts, 200 invoices, 100 vouchers, 20 credit notes), "
        "medium (2000/10000/5000/500), large (8000/40000/20000/2000)",
    )
    for name in ("contacts", "invoices", "vouchers", "credit-notes"):
        p.add_argument(f"--{name}", type=int, default=None, help=f"number of {name} (overrides --size)")
    p.add_argument(
        "--rate-limit",
        type=float,
        default=2.0,
        help="requests/second per API key, token bucket over all endpoints (default 2; 0 = off)",
    )
    p.add_argument(
        "--burst",
        type=int,
        default=None,
        help="token-bucket capacity per key (default: max(2, rate) = one second's worth; 2 at the real rate)",
    )
    p.add_argument(
        "--retry-after", action="store_true", help="send a Retry-After header on 429 (default off)"
    )
    p.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="mean added latency per /v1 request, uniformly jittered 50-150%% (default 0)",
    )
    p.add_argument("--faults", default="", metavar="SPEC", help="fault injection spec, see below")
    p.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draw sequence (default 0)")
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
    p.add_argument(
        "--stale-version-status",
        type=int,
        choices=(406, 409),
        default=406,
        help="contacts: status for a stale/missing version (406 IssueList naming 'version' as "
        "observed live; 409 as documented). Vouchers always answer 409",
    )
    p.add_argument(
        "--unknown-method-status",
        type=int,
        choices=(403, 404, 405),
        default=404,
        help="answer to a known path with an unsupported method (404 as observed live)",
    )
    p.add_argument(
        "--webhook-retry-seconds",
        default="10,20,40,80,160",
        metavar="LIST",
        help="delays between webhook delivery retries (default 10,20,40,80,160 = the real phase 1)",
    )
    p.add_argument("--webhook-timeout", type=float, default=5.0, help="webhook read timeout (default 5 s)")
    p.add_argument(
        "--no-webhook-head-check",
        action="store_true",
        help="skip the HEAD probe of a callback URL on subscription create",
    )
    p.add_argument(
        "--ocr-seconds",
        type=float,
        default=1.0,
        help="time until an uploaded file's blank voucher becomes unchecked (default 1)",
    )
    p.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    tenants = [TenantSpec(n, k) for n, k in args.tenant] or [TenantSpec("demo", "sandbox-demo-key")]
    names = {t.name for t in tenants}
    for name, plan in args.plan:
        if name not in names or plan not in PLANS:
            raise SystemExit(f"--plan {name}={plan}: unknown tenant or plan (plans: {', '.join(PLANS)})")
        next(t for t in tenants if t.name == name).plan = plan
    counts = dict(SIZES[args.size])
    for key in ("contacts", "invoices", "vouchers", "credit_notes"):
        if getattr(args, key) is not None:
            counts[key] = getattr(args, key)
    try:
        parse_spec(args.faults)
        retries = tuple(float(x) for x in args.webhook_retry_seconds.split(",") if x.strip())
    except ValueError as exc:
        raise SystemExit(f"bad option: {exc}") from None
    return SandboxConfig(
        tenants=tenants,
        seed=args.seed,
        counts=Counts(**counts),
        rate_limit=args.rate_limit,
        burst=args.burst if args.burst is not None else max(2, math.ceil(args.rate_limit)),
        retry_after=args.retry_after,
        latency_ms=args.latency_ms,
        faults=args.faults,
        fault_seed=args.fault_seed,
        slow_seconds=args.slow_seconds,
        churn=args.churn,
        state_file=args.state,
        stale_version_status=args.stale_version_status,
        unknown_method_status=args.unknown_method_status,
        webhook_retry_seconds=retries,
        webhook_timeout=args.webhook_timeout,
        webhook_head_check=not args.no_webhook_head_check,
        ocr_seconds=args.ocr_seconds,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import uvicorn

    from . import state
    from .app import Sandbox, build_asgi
    from .operator import build_operator_app

    config = config_from_args(args)
    started = time.perf_counter()
    sb = Sandbox(config)
    if config.state_file and state.load(sb, config.state_file):
        print(f"sandbox: loaded state from {config.state_file}", file=sys.stderr)
    app = build_asgi(sb, build_operator_app(sb))
    print(
        f"sandbox: seeded {', '.join(sb.tenants)} in {time.perf_counter() - started:.2f}s; "
        f"listening on http://{args.host}:{args.port}",
        file=sys.stderr,
        flush=True,
    )
    logging.basicConfig(level=args.log_level.upper())
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    return 0

"""`python -m sandbox.sevdesk serve ...` — start the sevDesk emulator (options as the Lexware sandbox's)."""

from __future__ import annotations

import argparse

from sandbox.cli_options import add_behaviour_options, add_server_options, run
from sandbox.faults import parse_spec

from .seed import SIZES, Counts

EPILOG = """\
fault spec: comma-separated KIND=PROBABILITY, KIND in 429,500,502,503,504,reset,slow,malformed (as the
  Lexware sandbox): 429/500/502/503/reset are NOT performed; 504/slow/malformed ARE performed, then the
  response is replaced, delayed by --slow-seconds or truncated.
operator API (outside /api/v1): /_sandbox/health, /stats, /stats/reset, /tenants/NAME/export,
  /tenants/NAME/edit, /churn, /clock, /reset. See sandbox/README.md ("The sevDesk sandbox").
"""


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=API_KEY, got '{text}'")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox.sevdesk", description="sevDesk API sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "serve", help="run the emulator", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_server_options(p, port=8767)
    p.add_argument(
        "--tenant",
        action="append",
        default=[],
        type=_pair,
        metavar="NAME=API_KEY",
        help="a sevDesk client with its own books and token (repeatable; default demo=sandbox-demo-key)",
    )
    p.add_argument("--seed", type=int, default=42, help="data seed (default 42)")
    p.add_argument("--size", choices=sorted(SIZES), default="small", help="book size preset (default small)")
    for key in ("contacts", "invoices", "vouchers", "credit-notes"):
        p.add_argument(f"--{key}", type=int, default=None, metavar="N", help=f"override the {key} count")
    add_behaviour_options(
        p,
        rate_limit=0.0,
        rate_help="requests/second per token; 0 (default) = none, as no limit is published or observed",
    )
    p.add_argument("--faults", default="", metavar="SPEC", help="fault injection spec, see below")
    return parser


def config_from_args(args: argparse.Namespace):
    from .app import SevdeskConfig

    try:
        parse_spec(args.faults)
    except ValueError as exc:
        raise SystemExit(f"bad option --faults {args.faults}: {exc}") from None
    counts = dict(SIZES[args.size])
    for key in counts:
        value = getattr(args, key)
        if value is not None:
            if value < 0:
                raise SystemExit(f"bad option --{key.replace('_', '-')} {value}: must be >= 0")
            counts[key] = value
    return SevdeskConfig(
        tenants=dict(args.tenant) or {"demo": "sandbox-demo-key"},
        seed=args.seed,
        counts=Counts(**counts),
        rate_limit=args.rate_limit,
        burst=args.burst or max(2, int(args.rate_limit)),
        retry_after=args.retry_after,
        latency_ms=args.latency_ms,
        latency_jitter=args.latency_jitter,
        faults=args.faults,
        fault_seed=args.fault_seed,
        slow_seconds=args.slow_seconds,
        churn=args.churn,
        state_file=args.state,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .app import Sandbox, build_asgi, build_operator_app

    config = config_from_args(args)
    return run(
        "sevdesk sandbox",
        args,
        lambda: Sandbox(config),
        lambda sb: build_asgi(sb, build_operator_app(sb)),
        api_path="/api/v1",
    )

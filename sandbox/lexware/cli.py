"""`python -m sandbox serve ...` — start the Lexware Office emulator."""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict

from sandbox.cli_options import add_behaviour_options, add_server_options, run
from sandbox.faults import parse_spec

from .config import DENY_STATUSES, PLANS, SandboxConfig, TenantSpec
from .seed import SIZES, Counts

COUNT_FLAGS = ("contacts", "invoices", "vouchers", "credit-notes")
COUNT_KEYS = tuple(k.replace("-", "_") for k in COUNT_FLAGS)
EPILOG = """\
fault spec: comma-separated KIND=PROBABILITY, KIND in 429,500,502,503,504,reset,slow,malformed, e.g.
  --faults 429=0.05,500=0.02,503=0.02,reset=0.01,slow=0.01,malformed=0.02
  429/500/502/503/reset: the request is NOT performed; 504/slow/malformed: it IS performed, then the
  response is replaced by a 504, delayed by --slow-seconds, or truncated.
per-tenant data and faults (one process, different books): --size, --contacts/--invoices/--vouchers/
  --credit-notes and --faults are repeatable; a bare value is the default for every tenant, a value
  prefixed with a tenant overrides it for that tenant only (the most specific setting wins):
  --size NAME=PRESET, --contacts NAME=N, --faults NAME:SPEC (':' because SPEC itself holds '='), e.g.
  --tenant big=k1 --tenant tiny=k2 --size big=medium --contacts big=500 --faults tiny:429=0.03
  ('--faults big:' = no faults for big). Each tenant draws its faults from its own seeded sequence.
operator API (outside /v1): /_sandbox/health, /stats, /stats/reset, /tenants/NAME/export,
  /tenants/NAME/edit, /tenants/NAME/bulk-edit, /churn, /clock, /reset, /webhook-public-key,
  /webhooks/deliveries. See sandbox/README.md.
"""


def _pair(text: str, what: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"{what} must look like NAME=VALUE, got '{text}'")
    return name, value


def _scoped(text: str, sep: str) -> tuple[str | None, str]:
    """`NAME<sep>VALUE` -> (NAME, VALUE) for one tenant; a bare VALUE -> (None, VALUE) for all."""
    name, found, value = text.partition(sep)
    return (name, value) if found else (None, text)


def _size(text: str) -> tuple[str | None, str]:
    name, preset = _scoped(text, "=")
    if preset not in SIZES or name == "":
        raise argparse.ArgumentTypeError(f"expected [NAME=]{'|'.join(SIZES)}, got '{text}'")
    return name, preset


def _count(text: str) -> tuple[str | None, int]:
    name, value = _scoped(text, "=")
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0 or name == "":
        raise argparse.ArgumentTypeError(f"expected [NAME=]N with N >= 0, got '{text}'")
    return name, number


def _faults(text: str) -> tuple[str | None, str]:
    name, spec = _scoped(text, ":")
    if name == "":
        raise argparse.ArgumentTypeError(f"expected [NAME:]SPEC, got '{text}'")
    return name, spec


def _deny(text: str) -> tuple[str, str, int]:
    """`NAME:/v1/path[=STATUS]` -> (tenant, path prefix, status; 403 by default)."""
    name, found, rest = text.partition(":")
    prefix, _, status = rest.partition("=")
    allowed = [str(x) for x in DENY_STATUSES]
    if not (found and name and prefix.startswith("/v1/")) or (status and status not in allowed):
        raise argparse.ArgumentTypeError(f"expected NAME:/v1/PATH[={'|'.join(allowed)}], got '{text}'")
    return name, prefix.rstrip("/"), int(status or 403)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Lexware Office API sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "serve", help="run the emulator", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_server_options(p, port=8765)
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
    p.add_argument(
        "--deny",
        action="append",
        default=[],
        metavar="NAME:/v1/PATH[=STATUS]",
        type=_deny,
        help="one endpoint (and everything below it) outside a tenant's key, answered with STATUS "
        "(401, 402 contract issue, 403 missing scope (default), 404); repeatable",
    )
    p.add_argument("--seed", type=int, default=42, help="data seed; same seed -> same data byte for byte")
    p.add_argument(
        "--size",
        action="append",
        default=[],
        metavar="[NAME=]small|medium|large",
        type=_size,
        help="data size preset (default small): small (60 contacts, 200 invoices, 100 vouchers, 20 credit "
        "notes), medium (2000/10000/5000/500), large (8000/40000/20000/2000); NAME= for one tenant",
    )
    for name in COUNT_FLAGS:
        p.add_argument(
            f"--{name}",
            action="append",
            default=[],
            metavar="[NAME=]N",
            type=_count,
            help=f"number of {name} (overrides --size; NAME= for one tenant)",
        )
    add_behaviour_options(
        p,
        rate_limit=2.0,
        rate_help="requests/second per API key, token bucket over all endpoints (default 2; 0 = off)",
    )
    p.add_argument(
        "--faults",
        action="append",
        default=[],
        metavar="[NAME:]SPEC",
        type=_faults,
        help="fault injection spec, see below (NAME: for one tenant)",
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
        "--voucher-write-dates",
        choices=("date", "datetime"),
        default="date",
        help="bookkeeping-voucher POST/PUT dates: only yyyy-MM-dd (documented, default) or also the full "
        "dateTimes a GET returns (their Berlin day is kept; disputed live)",
    )
    p.add_argument(
        "--unchecked-voucher-put",
        choices=("finalize-only", "keep"),
        default="finalize-only",
        help="PUT of an unchecked voucher without voucherStatus 'open': 406 (documented since "
        "14.07.2026, default) or accepted, the voucher staying unchecked (disputed live)",
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
    p.add_argument(
        "--search-window",
        type=int,
        default=10_000,
        help="rows one filter combination returns on any paged list (default 10000 as documented; "
        "smaller only to test slicing on small books)",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    tenants = [TenantSpec(n, k) for n, k in args.tenant] or [TenantSpec("demo", "sandbox-demo-key")]
    names = {t.name for t in tenants}
    for name, plan in args.plan:
        if name not in names or plan not in PLANS:
            raise SystemExit(f"--plan {name}={plan}: unknown tenant or plan (plans: {', '.join(PLANS)})")
        next(t for t in tenants if t.name == name).plan = plan
    for name, prefix, status in args.deny:
        if name not in names:
            raise SystemExit(f"--deny {name}:{prefix}: unknown tenant (tenants: {', '.join(sorted(names))})")
        next(t for t in tenants if t.name == name).denied.append((prefix, status))
    for flag in ("size", "faults", *COUNT_FLAGS):
        unknown = sorted({n for n, _ in getattr(args, flag.replace("-", "_")) if n is not None} - names)
        if unknown:
            known = ", ".join(sorted(names))
            raise SystemExit(f"--{flag}: unknown tenant {', '.join(unknown)} (tenants: {known})")
    default_counts = _counts(args, None, None)
    for t in tenants:
        if any(n == t.name for key in ("size", *COUNT_KEYS) for n, _ in getattr(args, key)):
            t.counts = _counts(args, t.name, default_counts)
        t.faults = _last(args.faults, t.name)
    faults = _last(args.faults, None) or ""
    for scope, spec in [("", faults), *((f"{t.name}:", t.faults) for t in tenants if t.faults)]:
        try:
            parse_spec(spec)
        except ValueError as exc:
            raise SystemExit(f"bad option --faults {scope}{spec}: {exc}") from None
    if args.search_window < 1:
        raise SystemExit(f"bad option --search-window {args.search_window}: must be at least 1")
    if not 0 <= args.latency_jitter <= 1:
        raise SystemExit(f"bad option --latency-jitter {args.latency_jitter:g}: must be between 0 and 1")
    try:
        retries = tuple(float(x) for x in args.webhook_retry_seconds.split(",") if x.strip())
    except ValueError as exc:
        raise SystemExit(f"bad option: {exc}") from None
    return SandboxConfig(
        tenants=tenants,
        seed=args.seed,
        counts=default_counts,
        rate_limit=args.rate_limit,
        burst=args.burst if args.burst is not None else max(2, math.ceil(args.rate_limit)),
        retry_after=args.retry_after,
        latency_ms=args.latency_ms,
        latency_jitter=args.latency_jitter,
        faults=faults,
        fault_seed=args.fault_seed,
        slow_seconds=args.slow_seconds,
        churn=args.churn,
        state_file=args.state,
        stale_version_status=args.stale_version_status,
        unknown_method_status=args.unknown_method_status,
        voucher_write_dates=args.voucher_write_dates,
        unchecked_voucher_put=args.unchecked_voucher_put,
        webhook_retry_seconds=retries,
        webhook_timeout=args.webhook_timeout,
        webhook_head_check=not args.no_webhook_head_check,
        ocr_seconds=args.ocr_seconds,
        search_window=args.search_window,
    )


def _last(values: list[tuple[str | None, object]], tenant: str | None):
    """The last value given for `tenant` (None: the bare, all-tenant one), or None."""
    return next((v for n, v in reversed(values) if n == tenant), None)


def _counts(args: argparse.Namespace, tenant: str | None, default: Counts | None) -> Counts:
    """Counts from --size and the count flags for `tenant` (None: the all-tenant values); a tenant
    without its own --size starts from `default` (the all-tenant counts)."""
    size = _last(args.size, tenant)
    counts = dict(SIZES[size or "small"]) if size or default is None else asdict(default)
    for key in COUNT_KEYS:
        value = _last(getattr(args, key), tenant)
        if value is not None:
            counts[key] = value
    return Counts(**counts)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .app import Sandbox, build_asgi
    from .operator import build_operator_app

    config = config_from_args(args)
    return run("sandbox", args, lambda: Sandbox(config), lambda sb: build_asgi(sb, build_operator_app(sb)))

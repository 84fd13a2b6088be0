"""Sandbox settings (filled by the CLI; see `python -m sandbox serve --help`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .seed import SIZES, Counts

PLANS = ("xl", "partner", "none")
DENY_STATUSES = (401, 402, 403, 404)  # how "not available" may look (reference §7)


@dataclass
class TenantSpec:
    name: str
    api_key: str
    plan: str = "xl"
    counts: Counts | None = None  # None: the process-wide SandboxConfig.counts
    faults: str | None = None  # None: the process-wide SandboxConfig.faults
    denied: list[tuple[str, int]] = field(default_factory=list)  # (path prefix, status) this key may not call


@dataclass
class SandboxConfig:
    tenants: list[TenantSpec] = field(default_factory=lambda: [TenantSpec("demo", "sandbox-demo-key")])
    seed: int = 42
    counts: Counts = field(default_factory=lambda: Counts(**SIZES["small"]))
    rate_limit: float = 2.0
    burst: int = 2
    retry_after: bool = False
    latency_ms: float = 0.0
    latency_jitter: float = 0.5  # the added latency is uniform in mean * (1 +- jitter)
    faults: str = ""
    fault_seed: int = 0
    slow_seconds: float = 35.0
    churn: float = 0.0
    state_file: str | None = None
    stale_version_status: int = 406
    unknown_method_status: int = 404
    voucher_write_dates: str = "date"  # "datetime": voucher writes also take full dateTimes (disputed)
    unchecked_voucher_put: str = "finalize-only"  # "keep": an unchecked voucher may be PUT as is (disputed)
    webhook_retry_seconds: tuple[float, ...] = (10, 20, 40, 80, 160)
    webhook_timeout: float = 5.0
    webhook_head_check: bool = True
    ocr_seconds: float = 1.0
    search_window: int = 10_000  # reference §3.1; smaller only to test slicing on small books

    def counts_for(self, tenant: TenantSpec) -> Counts:
        return tenant.counts or self.counts

    def faults_for(self, tenant: TenantSpec) -> str:
        return self.faults if tenant.faults is None else tenant.faults

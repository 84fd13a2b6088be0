"""The demo's world: three Lexware tenants in one Lexware sandbox process, one sevDesk tenant in a sevDesk
sandbox process beside it, and the config Kontor reads for them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bench.bench_sevdesk import minimum_requests as sevdesk_sync_cost
from bench.sandbox_sync import full_sync_cost
from core.config import load_config
from pipelines.sevdesk.settings import TABLES as SEVDESK_TABLES

BERLIN = ZoneInfo("Europe/Berlin")
RATE_LIMIT = 100  # sandbox requests/second per API key (the real API allows 2; see README)
BUDGET_RPS = 90  # Kontor's per-tenant budget, a margin under the sandbox's limit
MAX_IN_FLIGHT = 8
FAULTS_ELBE = "429=0.03"  # injected 429s for elbe only: retries are part of the story


@dataclass(frozen=True)
class Books:
    contacts: int
    invoices: int
    vouchers: int
    credit_notes: int

    def flags(self) -> dict[str, int]:
        return {
            "contacts": self.contacts,
            "invoices": self.invoices,
            "vouchers": self.vouchers,
            "credit_notes": self.credit_notes,
        }

    def __str__(self) -> str:
        return (
            f"{self.contacts:,} contacts, {self.invoices:,} invoices, {self.vouchers:,} vouchers, "
            f"{self.credit_notes:,} credit notes"
        )


LARGE = Books(500, 1500, 600, 80)
LARGE_QUICK = Books(150, 400, 150, 20)  # `--quick` (tests)
SMALL = Books(60, 200, 100, 20)  # the sandbox's `small` preset


@dataclass(frozen=True)
class Tenant:
    name: str
    story: str
    denied: tuple[str, str] | None = None  # (endpoint its key may not call, the raw table it feeds)
    system: str = "lexware"

    @property
    def key(self) -> str:
        return f"demo-{self.name}-key"  # sandbox keys, not secrets

    @property
    def key_env(self) -> str:
        return f"KONTOR_DEMO_{self.name.upper()}_KEY"


NORDLICHT = Tenant("nordlicht", "large-ish books")
ELBE = Tenant("elbe", "small books, 3 % injected 429s, write-back target")
SPREE = Tenant(
    "spree",
    "small books; its key may not read posting categories (403): that table is skipped, the rest syncs",
    denied=("/v1/posting-categories", "posting_categories"),
)
TENANTS = (NORDLICHT, ELBE, SPREE)  # the Lexware tenants (one Lexware sandbox)
ISAR = Tenant(
    "isar",
    "sevDesk books (both tax schemes, SR cancellations, locked documents), no rate "
    "limit (sevDesk publishes none), one compare-before-write correction",
    system="sevdesk",
)
SEVDESK_TENANTS = (ISAR,)  # in the sevDesk sandbox
ALL_TENANTS = TENANTS + SEVDESK_TENANTS
SEVDESK_BOOKS = Books(40, 80, 40, 8)  # the sevDesk sandbox's `small` preset


def books_of(quick: bool) -> dict[str, Books]:
    """Each tenant's books (`quick`: smaller large-ish books, for tests)."""
    return {NORDLICHT.name: LARGE_QUICK if quick else LARGE, ELBE.name: SMALL, SPREE.name: SMALL}


def sandbox_options(books: dict[str, Books]) -> dict:
    """`start_sandbox` options for one process holding every tenant: keys, denied endpoints, per-tenant
    counts and per-tenant faults (`--contacts nordlicht=500 ... --faults elbe:429=0.03`)."""
    counts = {
        flag: [f"{name}={b.flags()[flag]}" for name, b in books.items()]
        for flag in ("contacts", "invoices", "vouchers", "credit_notes")
    }
    return {
        "tenants": {t.name: t.key for t in TENANTS},
        "rate_limit": RATE_LIMIT,
        "deny": [f"{t.name}:{t.denied[0]}" for t in TENANTS if t.denied],
        "faults": [f"{ELBE.name}:{FAULTS_ELBE}"],
        **counts,
    }


def sevdesk_sandbox_options(books: Books = SEVDESK_BOOKS) -> dict:
    """`start_sandbox(system="sevdesk", ...)` options: the sevDesk tenant's token and books, no rate
    limit (as live: none published or observed), no faults."""
    return {"system": "sevdesk", "tenants": {t.name: t.key for t in SEVDESK_TENANTS}, **books.flags()}


def write_config(path: Path, base_urls: dict[str, str]) -> Path:
    """kontor.yaml for the demo tenants (`base_urls`: tenant -> URL; a sevDesk tenant's is its sandbox's
    root, `/api/v1` is appended); the keys stay in the environment. sevDesk tenants keep their system's
    default budget."""
    lexware = [
        {
            "name": t.name,
            "system": "lexware",
            "base_url": base_urls[t.name],
            "api_key_env": t.key_env,
            "rps": BUDGET_RPS,
            "max_in_flight": MAX_IN_FLIGHT,
        }
        for t in TENANTS
    ]
    sevdesk = [
        {
            "name": t.name,
            "system": "sevdesk",
            "base_url": f"{base_urls[t.name]}/api/v1",
            "api_key_env": t.key_env,
        }
        for t in SEVDESK_TENANTS
        if t.name in base_urls
    ]
    doc = {"warehouse": "warehouse.duckdb", "tenants": lexware + sevdesk}
    path.write_text(
        "# Written by `make demo` (python -m demo); regenerated on every run.\n"
        + yaml.safe_dump(doc, sort_keys=False),
        encoding="utf-8",
    )
    load_config(path)  # the same schema check as every entry point: a ConfigError line, not a failed run
    return path


def transform_run_config(as_of: date) -> dict:
    """The one place the demo hands its as-of date to the models: the run config of a kontor_transform
    build. The sandbox's books end on its own clock (not the machine's), so the marts are computed as of
    the sandbox's date; without it most receivables would look 90+ days overdue and none not yet due."""
    return {"ops": {"kontor_models": {"config": {"as_of": as_of.isoformat()}}}}


def sandbox_date(now: datetime) -> date:
    """The sandbox clock's calendar date in Europe/Berlin (the date Lexware's books are on)."""
    return now.astimezone(BERLIN).date()


def save_sandbox(path: Path, options: dict, base_url: str, sevdesk: dict | None = None) -> Path:
    """What `make demo-ui` needs to bring the same sandboxes back: their options and their ports
    (`sevdesk`: {"options", "base_url"} of the sevDesk sandbox)."""
    doc = {"options": options, "base_url": base_url, **({"sevdesk": sevdesk} if sevdesk else {})}
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def minimum_full_sync_requests(export: dict) -> int:
    """The fewest requests a first sync can make: profile, posting categories, list pages (250 rows),
    one detail per invoice / credit note / voucher and one payments GET per voucher that has them,
    unless the list tells the answer (`bench.sandbox_sync.full_sync_cost`)."""
    return full_sync_cost(export)


def minimum_sevdesk_sync_requests(export: dict) -> int:
    """The fewest requests a sevDesk sync can make (first or incremental: positions, transactions and
    payment links have no update filter, so every run lists them): one page per 1000 rows of each
    table, at least one, plus the tax rules."""
    return sevdesk_sync_cost(export)


def expected_sevdesk_raw(export: dict) -> dict[str, dict[str, dict]]:
    """Ground truth per raw_sevdesk table: id -> the whole record (sevDesk has no version to compare)."""
    return {table: {r["id"]: r for r in export[table]} for table in SEVDESK_TABLES}


def expected_raw(export: dict) -> dict[str, dict[str, int | None]]:
    """Ground truth per raw table: id -> version (None where the resource has none)."""

    def versions(records: list[dict]) -> dict[str, int | None]:
        return {r["id"]: r.get("version") for r in records}

    return {
        "profile": {export["organizationId"]: None},
        "posting_categories": {c["id"]: None for c in export["posting_categories"]},
        "contacts": versions(export["contacts"]),
        "articles": versions(export["articles"]),
        "voucherlist": {e["id"]: None for e in export["voucherlist"]},
        "invoices": versions(export["invoices"]),
        "credit_notes": versions(export["credit_notes"]),
        "vouchers": versions(export["vouchers"]),
        "payments": {i: None for i in export["payments"]},
    }

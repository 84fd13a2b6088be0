"""What a sync of a sandbox tenant should cost: a kontor.yaml pointing at a running sandbox, and the
minimum requests a first sync or a detail fetch needs, predicted from the sandbox's ground truth
(`export`). Shared by the benchmarks and the extraction tests."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

from core.config import KontorConfig, load_config

DETAIL_TABLES = {
    "invoice": "invoices",
    "creditnote": "credit_notes",
    "salesinvoice": "vouchers",
    "salescreditnote": "vouchers",
    "purchaseinvoice": "vouchers",
    "purchasecreditnote": "vouchers",
}


def write_config(
    folder: Path, base_url: str, tenants: dict[str, str], rps: float = 400, system: str = "lexware"
) -> KontorConfig:
    """kontor.yaml in `folder` with tenants {name: api_key_env}; warehouse `folder/data/warehouse.duckdb`.
    `system="sevdesk"`: sevDesk tenants (then `base_url` is the sandbox root; `/api/v1` is appended)."""
    lines = ["warehouse: data/warehouse.duckdb", "tenants:"]
    if system == "sevdesk":
        base_url = f"{base_url}/api/v1"
    for name, env in tenants.items():
        lines += [
            f"  - name: {name}",
            f"    system: {system}",
            f"    base_url: {base_url}",
            f"    api_key_env: {env}",
            f"    rps: {rps}",
        ]
    (folder / "kontor.yaml").write_text("\n".join(lines) + "\n")
    return load_config(folder / "kontor.yaml")


def listed_unpaid(entry: dict) -> bool:
    """An open document (listed `open`, or `overdue` and not under direct debit: the sandbox has no
    sepadebit documents) whose list entry shows nothing paid (open amount = total): the payments
    answer is known from the list, so a sync needs no call for it."""
    total, open_amount = entry.get("totalAmount"), entry.get("openAmount")
    return (
        entry["voucherStatus"] in ("open", "overdue")
        and open_amount is not None
        and total is not None
        and Decimal(str(total)) > 0
        and Decimal(str(open_amount)) == Decimal(str(total))
    )


def detail_cost(export: dict, ids: set[str], payments_from_list: bool = True) -> int:
    """Requests to fetch details + payments of these voucherlist ids (what the source should spend): a
    payments call for each document with payment information, except the ones the list shows unpaid,
    plus one list page of the sepadebit documents if one of those is `overdue` (it tells which are
    open). `payments_from_list=False`: a payments call for every document with payment information
    (the minimum before the source read the answers from the list)."""
    entries = {e["id"]: e for e in export["voucherlist"]}
    details = sum(1 for i in ids if i in entries and entries[i]["voucherType"] in DETAIL_TABLES)
    paying = [entries[i] for i in ids if i in export["payments"]]
    if not payments_from_list:
        return details + len(paying)
    calls = sum(1 for e in paying if not listed_unpaid(e))
    sepadebit_page = any(e["voucherStatus"] == "overdue" and listed_unpaid(e) for e in paying)
    return details + calls + sepadebit_page


def full_sync_cost(export: dict, payments_from_list: bool = True) -> int:
    """The minimum requests of a first sync: profile, posting categories, list pages, details."""
    pages = sum(math.ceil(len(export[name]) / 250) for name in ("contacts", "articles", "voucherlist"))
    return 2 + pages + detail_cost(export, {e["id"] for e in export["voucherlist"]}, payments_from_list)

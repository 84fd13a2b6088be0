"""Bookkeeping-voucher payload validation (legacy IssueList, 406) and totals checks."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from .documents import day_of, voucher_item_tax
from .errors import issue
from .masterdata import CATEGORY_TYPES
from .validate_sales import DATETIME

TYPES = {"salesinvoice", "salescreditnote", "purchaseinvoice", "purchasecreditnote"}
RATES = {0, 5, 7, 16, 19}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TOLERANCE = Decimal("0.01")


def _dec(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _day(value: object, source: str, issues: list, required: bool, datetimes: bool) -> None:
    if value is None:
        if required:
            issues.append(issue("missing_entity", source))
        return
    try:
        if isinstance(value, str) and datetimes and DATETIME.match(value):
            ok = bool(day_of(value))
        else:
            ok = isinstance(value, str) and bool(_DAY.match(value)) and bool(date.fromisoformat(value))
    except ValueError:
        ok = False
    if not ok:
        issues.append(issue("invalid_value", source))


def validate_voucher(
    body: object, contacts: dict, files: dict, status: str, datetimes: bool = False
) -> list[dict]:
    """status: the status the voucher will have ('open' or 'unchecked'); datetimes: dates may also be
    full dateTimes (--voucher-write-dates datetime), not only yyyy-MM-dd."""
    if not isinstance(body, dict):
        return [issue("invalid_value", None)]
    issues: list[dict] = []
    unchecked = status == "unchecked"
    vtype = body.get("type")
    if vtype not in TYPES:
        issues.append(issue("missing_entity" if vtype is None else "invalid_value", "type"))
    if not unchecked and not body.get("voucherNumber"):
        issues.append(issue("missing_entity", "voucherNumber"))
    _day(body.get("voucherDate"), "voucherDate", issues, not unchecked, datetimes)
    _day(body.get("dueDate"), "dueDate", issues, False, datetimes)
    _day(body.get("shippingDate"), "shippingDate", issues, False, datetimes)
    tax_type = body.get("taxType")
    if tax_type not in ("net", "gross"):
        issues.append(issue("missing_entity" if tax_type is None else "invalid_value", "taxType"))
    elif unchecked and tax_type == "net":
        issues.append(issue("invalid_value", "taxType"))
    if body.get("useCollectiveContact"):
        pass
    elif body.get("contactId") is not None:
        if body["contactId"] not in contacts:
            issues.append(issue("invalid_value", "contactId"))
        if body.get("contactName"):
            issues.append(issue("custom_contact_name_for_referenced_contact_not_allowed", "contactName"))
    elif not unchecked:
        issues.append(issue("missing_entity", "contactId"))
    for fid in body.get("files") or []:
        if fid not in files:
            issues.append(issue("invalid_value", "files"))
    gross, tax = _dec(body.get("totalGrossAmount")), _dec(body.get("totalTaxAmount"))
    if gross is None:
        issues.append(issue("missing_entity", "totalGrossAmount"))
    if tax is None:
        issues.append(issue("missing_entity", "totalTaxAmount"))
    items = body.get("voucherItems")
    if not isinstance(items, list) or (not items and not unchecked):
        issues.append(issue("missing_entity", "voucherItems"))
        return issues
    sum_amount, sum_tax = Decimal(0), Decimal(0)
    for i, item in enumerate(items):
        src = f"voucherItems[{i}]"
        if not isinstance(item, dict):
            issues.append(issue("invalid_value", src))
            continue
        amount, item_tax, rate = (
            _dec(item.get("amount")),
            _dec(item.get("taxAmount")),
            _dec(item.get("taxRatePercent")),
        )
        for name, value in (("amount", amount), ("taxAmount", item_tax), ("taxRatePercent", rate)):
            if value is None:
                issues.append(issue("missing_entity", f"{src}.{name}"))
        if rate is not None and rate not in RATES:
            issues.append(issue("invalid_value", f"{src}.taxRatePercent"))
        cat = item.get("categoryId")
        expected = "income" if str(vtype).startswith("sales") else "outgo"
        if CATEGORY_TYPES.get(cat) != expected:
            issues.append(issue("invalid_value", f"{src}.categoryId"))
        if None in (amount, item_tax, rate) or tax_type not in ("net", "gross"):
            continue
        if abs(voucher_item_tax(amount, rate, tax_type) - item_tax) > TOLERANCE:
            issues.append(issue("invalid_taxamount", f"{src}.taxAmount"))
        sum_amount += amount + (item_tax if tax_type == "net" else 0)
        sum_tax += item_tax
    if issues or gross is None or tax is None:
        return issues
    if items and abs(sum_amount - gross) > Decimal("0.001"):
        issues.append(issue("invalid_total_amount", "totalGrossAmount"))
    if items and abs(sum_tax - tax) > Decimal("0.001"):
        issues.append(issue("invalid_total_amount", "totalTaxAmount"))
    return issues

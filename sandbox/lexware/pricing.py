"""Sales-voucher arithmetic (invoices, credit notes): line amounts, tax groups and totals to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .util import money, num, whole

Q4 = Decimal("0.0001")
GROSS_TYPES = {"gross"}


def _q4(value: Decimal) -> Decimal:
    return value.quantize(Q4, ROUND_HALF_UP)


def price_lines(line_items: list[dict], tax_type: str, total_discount_pct: Decimal = Decimal(0)) -> dict:
    """Return {"lineItems", "totalPrice", "taxAmounts"} with every read-only amount computed.

    Net mode: prices are net, tax is computed per rate on the discounted net sum.
    Gross mode: prices are gross, the tax is extracted per rate from the discounted gross sum.
    """
    gross_mode = tax_type in GROSS_TYPES
    groups: dict[Decimal, Decimal] = {}
    out_items = []
    for item in line_items:
        item = dict(item)
        if item.get("type") == "text":
            out_items.append({k: v for k, v in item.items() if k in ("type", "name", "description")})
            continue
        price = dict(item["unitPrice"])
        rate = Decimal(str(price["taxRatePercentage"]))
        factor = 1 + rate / 100
        if gross_mode:
            gross = _q4(Decimal(str(price["grossAmount"])))
            net = _q4(gross / factor)
        else:
            net = _q4(Decimal(str(price["netAmount"])))
            gross = _q4(net * factor)
        price = {
            "currency": "EUR",
            "netAmount": num(net),
            "grossAmount": num(gross),
            "taxRatePercentage": whole(rate),
        }
        item["unitPrice"] = price
        qty = Decimal(str(item["quantity"]))
        disc = Decimal(str(item.get("discountPercentage", 0) or 0))
        amount = money((gross if gross_mode else net) * qty * (1 - disc / 100))
        item["quantity"] = whole(qty)
        item["discountPercentage"] = whole(disc)
        item["lineItemAmount"] = num(amount)
        groups[rate] = groups.get(rate, Decimal(0)) + amount
        out_items.append(item)
    tax_amounts, total_net, total_tax = [], Decimal(0), Decimal(0)
    keep = 1 - total_discount_pct / 100
    for rate in sorted(groups, reverse=True):
        base = money(groups[rate] * keep)
        if gross_mode:
            net = money(base / (1 + rate / 100))
            tax = base - net
        else:
            net, tax = base, money(base * rate / 100)
        total_net += net
        total_tax += tax
        tax_amounts.append({"taxRatePercentage": whole(rate), "taxAmount": num(tax), "netAmount": num(net)})
    total = {
        "currency": "EUR",
        "totalNetAmount": num(total_net),
        "totalGrossAmount": num(total_net + total_tax),
        "totalTaxAmount": num(total_tax),
    }
    if total_discount_pct:
        undiscounted = sum(groups.values(), Decimal(0))
        total["totalDiscountAbsolute"] = num(money(undiscounted - undiscounted * keep))
        total["totalDiscountPercentage"] = whole(total_discount_pct)
    return {"lineItems": out_items, "totalPrice": total, "taxAmounts": tax_amounts}

"""Invoice / credit-note create payload validation (regular error format, 406 with details)."""

from __future__ import annotations

import re
from datetime import datetime

from .errors import NOTNULL, detail
from .masterdata import COUNTRY_CODES

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$")
TAX_TYPES = {
    "net",
    "gross",
    "vatfree",
    "intraCommunitySupply",
    "constructionService13b",
    "externalService13b",
    "thirdPartyCountryService",
    "thirdPartyCountryDelivery",
    "photovoltaicEquipment",
}
SHIPPING_TYPES = {"service", "serviceperiod", "delivery", "deliveryperiod", "none"}
ITEM_TYPES = {"custom", "material", "service", "text"}
SALES_RATES = {0, 7, 19}
MAX_ITEMS = 300


class Checker:
    def __init__(self) -> None:
        self.details: list[dict] = []

    def fail(self, field: str, violation: str, message: str) -> None:
        self.details.append(detail(field, violation, message))

    def missing(self, field: str) -> None:
        self.fail(field, "NOTNULL", NOTNULL)

    def datetime(self, value: object, field: str, required: bool = True) -> None:
        if value is None:
            if required:
                self.missing(field)
        elif not isinstance(value, str) or not DATETIME.match(value) or not _parses(value):
            self.fail(field, "PATTERN", "muss dem Format yyyy-MM-dd'T'HH:mm:ss.SSSXXX entsprechen")

    def number(self, value: object, field: str, required: bool = True) -> None:
        if value is None:
            if required:
                self.missing(field)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(field, "TYPE", "muss eine Zahl sein")

    def enum(self, value: object, field: str, allowed: set[str]) -> None:
        if value is None:
            self.missing(field)
        elif value not in allowed:
            self.fail(field, "ENUM", f"ungültiger Wert '{value}'")

    def text(self, value: object, field: str, required: bool = False, max_len: int | None = None) -> None:
        if value is None or value == "":
            if required:
                self.fail(field, "NOTBLANK", "darf nicht leer sein")
        elif not isinstance(value, str):
            self.fail(field, "TYPE", "muss eine Zeichenkette sein")
        elif max_len and len(value) > max_len:
            self.fail(field, "SIZE", f"Größe muss zwischen 0 und {max_len} sein")


def _parses(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def _obj(body: dict, key: str) -> dict:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def validate_sales(body: object, kind: str, contact_lookup) -> list[dict]:
    """kind 'invoice' or 'creditnote'. contact_lookup(id) -> contact or None."""
    c = Checker()
    if not isinstance(body, dict):
        c.fail("", "TYPE", "Ungültiger Request-Body")
        return c.details
    c.datetime(body.get("voucherDate"), "voucherDate")
    address = body.get("address")
    tax_type = _obj(body, "taxConditions").get("taxType")
    if not isinstance(address, dict):
        c.missing("address")
    elif address.get("contactId") is not None:
        contact = contact_lookup(address["contactId"])
        if contact is None:
            c.fail("address.contactId", "INVALID", "Kontakt existiert nicht")
        elif kind == "invoice" and "customer" not in contact["roles"]:
            c.fail("address.contactId", "INVALID", "Kontakt hat keine Kundenrolle")
    else:
        c.text(address.get("name"), "address.name", required=True)
        if address.get("countryCode") not in COUNTRY_CODES:
            c.fail("address.countryCode", "INVALID_COUNTRY", "ungültiger Ländercode")
        if tax_type not in (None, "net", "gross", "vatfree"):
            c.fail("address.contactId", "NOTNULL", NOTNULL)
    c.enum(tax_type, "taxConditions.taxType", TAX_TYPES)
    if _obj(body, "totalPrice").get("currency") != "EUR":
        c.enum(_obj(body, "totalPrice").get("currency"), "totalPrice.currency", {"EUR"})
    items = body.get("lineItems")
    if not isinstance(items, list) or not items:
        c.fail("lineItems", "NOTEMPTY", "darf nicht leer sein")
    elif len(items) > MAX_ITEMS:
        c.fail("lineItems", "SIZE", f"Größe muss zwischen 1 und {MAX_ITEMS} sein")
    else:
        for i, item in enumerate(items):
            _line_item(c, item, f"lineItems[{i}]", tax_type)
    for key, limit in (("title", 25), ("introduction", 2000), ("remark", 2000)):
        c.text(body.get(key), key, max_len=limit)
    if body.get("language", "de") not in ("de", "en"):
        c.enum(body.get("language"), "language", {"de", "en"})
    if kind == "invoice":
        ship = body.get("shippingConditions")
        if not isinstance(ship, dict):
            c.fail("shippingConditions", "NOTNULL", "The shipping conditions must not be null")
        else:
            c.enum(ship.get("shippingType"), "shippingConditions.shippingType", SHIPPING_TYPES)
            st = ship.get("shippingType")
            c.datetime(
                ship.get("shippingDate"), "shippingConditions.shippingDate", required=st not in ("none", None)
            )
            c.datetime(
                ship.get("shippingEndDate"),
                "shippingConditions.shippingEndDate",
                required=st in ("serviceperiod", "deliveryperiod"),
            )
        pc = body.get("paymentConditions")
        if pc is not None:
            term = pc.get("paymentTermDuration") if isinstance(pc, dict) else "x"
            if isinstance(term, bool) or not isinstance(term, int) or term < 0:
                c.fail("paymentConditions.paymentTermDuration", "TYPE", "muss eine positive Ganzzahl sein")
    return c.details


def _line_item(c: Checker, item: object, src: str, tax_type: object) -> None:
    if not isinstance(item, dict):
        c.fail(src, "TYPE", "ungültige Position")
        return
    c.enum(item.get("type"), f"{src}.type", ITEM_TYPES)
    if item.get("type") == "text":
        if not item.get("name") and not item.get("description"):
            c.missing(f"{src}.name")
        return
    c.text(item.get("name"), f"{src}.name", required=True, max_len=255)
    c.text(item.get("description"), f"{src}.description", max_len=2000)
    if item.get("type") in ("material", "service") and not item.get("id"):
        c.missing(f"{src}.id")
    c.number(item.get("quantity"), f"{src}.quantity")
    c.text(item.get("unitName"), f"{src}.unitName", required=True)
    c.number(item.get("discountPercentage"), f"{src}.discountPercentage", required=False)
    price = item.get("unitPrice")
    if not isinstance(price, dict):
        c.missing(f"{src}.unitPrice")
        return
    c.enum(price.get("currency"), f"{src}.unitPrice.currency", {"EUR"})
    key = "grossAmount" if tax_type == "gross" else "netAmount"
    c.number(price.get(key), f"{src}.unitPrice.{key}")
    rate = price.get("taxRatePercentage")
    c.number(rate, f"{src}.unitPrice.taxRatePercentage")
    if isinstance(rate, int | float) and not isinstance(rate, bool):
        allowed = SALES_RATES if tax_type in ("net", "gross") else {0}
        if rate not in allowed:
            c.fail(f"{src}.unitPrice.taxRatePercentage", "INVALID_TAX_RATE", "ungültiger Steuersatz")

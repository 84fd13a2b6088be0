"""Organisation-independent master data: posting categories, countries, payment conditions."""

from __future__ import annotations

import uuid

_NS = uuid.UUID("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f")


def _cid(name: str) -> str:
    return str(uuid.uuid5(_NS, name))


# (id, name, type, contactRequired, splitAllowed, groupName); documented fixed ids for sales categories.
POSTING_CATEGORIES: list[dict] = [
    {"id": i, "name": n, "type": t, "contactRequired": c, "splitAllowed": True, "groupName": g}
    for i, n, t, c, g in [
        ("8f8664a8-fd86-11e1-a21f-0800200c9a66", "Warenverkäufe", "income", False, "Einnahmen"),
        ("8f8664a0-fd86-11e1-a21f-0800200c9a66", "Dienstleistungen", "income", False, "Einnahmen"),
        ("8f8664a1-fd86-11e1-a21f-0800200c9a66", "Einnahmen", "income", False, "Einnahmen"),
        (
            "9075a4e3-66de-4795-a016-3889feca0d20",
            "Innergemeinschaftliche Lieferung",
            "income",
            True,
            "Einnahmen",
        ),
        ("380a20cb-d04c-426e-b49c-84c22adfa362", "Fremdleistungen §13b", "income", True, "Einnahmen"),
        (
            "93d24c20-ea84-424e-a731-5e1b78d1e6a9",
            "Ausfuhrlieferungen an Drittländer",
            "income",
            False,
            "Einnahmen",
        ),
        (
            "ef5b1a6e-f690-4004-9a19-91276348894f",
            "Dienstleistungen an Drittländer",
            "income",
            False,
            "Einnahmen",
        ),
        (
            "f5c7fee8-f184-4e7a-ab04-8f7e7ad6c207",
            "Einnahmen als Kleinunternehmer",
            "income",
            False,
            "Einnahmen",
        ),
        (_cid("Wareneingang"), "Wareneingang", "outgo", False, "Material & Waren"),
        (_cid("Fremdleistungen"), "Fremdleistungen", "outgo", False, "Material & Waren"),
        (_cid("Bürobedarf"), "Bürobedarf", "outgo", False, "Verwaltung"),
        (_cid("Porto"), "Porto", "outgo", False, "Verwaltung"),
        (_cid("Telefon & Internet"), "Telefon & Internet", "outgo", False, "Verwaltung"),
        (_cid("Software"), "Software", "outgo", False, "Verwaltung"),
        (_cid("Miete"), "Miete & Pacht", "outgo", False, "Raumkosten"),
        (_cid("Strom"), "Strom, Gas, Wasser", "outgo", False, "Raumkosten"),
        (_cid("Kfz-Kosten"), "Kfz-Kosten", "outgo", False, "Fahrzeug"),
        (_cid("Reisekosten"), "Reisekosten", "outgo", False, "Reisen"),
        (_cid("Bewirtung"), "Bewirtung", "outgo", False, "Reisen"),
        (_cid("Werbung"), "Werbekosten", "outgo", False, "Marketing"),
        (_cid("Versicherungen"), "Versicherungen", "outgo", False, "Versicherungen & Beiträge"),
        (_cid("Beratung"), "Rechts- und Beratungskosten", "outgo", False, "Verwaltung"),
        (_cid("Bauleistungen13b"), "Bauleistungen §13b", "outgo", True, "Material & Waren"),
    ]
]
INCOME_IDS = [c["id"] for c in POSTING_CATEGORIES if c["type"] == "income" and not c["contactRequired"]][:3]
OUTGO_IDS = [c["id"] for c in POSTING_CATEGORIES if c["type"] == "outgo" and not c["contactRequired"]]
CATEGORY_TYPES = {c["id"]: c["type"] for c in POSTING_CATEGORIES}

_EU = [
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
]
_COUNTRY_NAMES = {
    "DE": ("Deutschland", "Germany"),
    "AT": ("Österreich", "Austria"),
    "BE": ("Belgien", "Belgium"),
    "BG": ("Bulgarien", "Bulgaria"),
    "CY": ("Zypern", "Cyprus"),
    "CZ": ("Tschechien", "Czechia"),
    "DK": ("Dänemark", "Denmark"),
    "EE": ("Estland", "Estonia"),
    "ES": ("Spanien", "Spain"),
    "FI": ("Finnland", "Finland"),
    "FR": ("Frankreich", "France"),
    "GR": ("Griechenland", "Greece"),
    "HR": ("Kroatien", "Croatia"),
    "HU": ("Ungarn", "Hungary"),
    "IE": ("Irland", "Ireland"),
    "IT": ("Italien", "Italy"),
    "LT": ("Litauen", "Lithuania"),
    "LU": ("Luxemburg", "Luxembourg"),
    "LV": ("Lettland", "Latvia"),
    "MT": ("Malta", "Malta"),
    "NL": ("Niederlande", "Netherlands"),
    "PL": ("Polen", "Poland"),
    "PT": ("Portugal", "Portugal"),
    "RO": ("Rumänien", "Romania"),
    "SE": ("Schweden", "Sweden"),
    "SI": ("Slowenien", "Slovenia"),
    "SK": ("Slowakei", "Slovakia"),
    "CH": ("Schweiz", "Switzerland"),
    "GB": ("Vereinigtes Königreich", "United Kingdom"),
    "US": ("Vereinigte Staaten", "United States"),
    "NO": ("Norwegen", "Norway"),
    "LI": ("Liechtenstein", "Liechtenstein"),
    "TR": ("Türkei", "Türkiye"),
    "CN": ("China", "China"),
    "JP": ("Japan", "Japan"),
    "ES_CN": ("Kanarische Inseln", "Canary Islands"),
    "GR_69": ("Berg Athos", "Mount Athos"),
}
COUNTRIES: list[dict] = [
    {
        "countryCode": code,
        "countryNameDE": de,
        "countryNameEN": en,
        "taxClassification": "de"
        if code == "DE"
        else "intraCommunity"
        if code in _EU
        else "thirdPartyCountry",
    }
    for code, (de, en) in _COUNTRY_NAMES.items()
]
COUNTRY_CODES = {c["countryCode"] for c in COUNTRIES}

PAYMENT_CONDITIONS: list[dict] = [
    {
        "id": _cid("pc14"),
        "organizationDefault": True,
        "paymentTermLabelTemplate": "Zahlbar in {paymentRange} Tagen",
        "paymentTermDuration": 14,
    },
    {
        "id": _cid("pc30"),
        "organizationDefault": False,
        "paymentTermLabelTemplate": "Zahlbar in {paymentRange} Tagen netto",
        "paymentTermDuration": 30,
    },
    {
        "id": _cid("pc30s"),
        "organizationDefault": False,
        "paymentTermLabelTemplate": "Zahlbar in {paymentRange} Tagen, {discountRange} Tage {discount} Skonto",
        "paymentTermDuration": 30,
        "paymentDiscountConditions": {"discountPercentage": 2, "discountRange": 10},
    },
    {
        "id": _cid("pc0"),
        "organizationDefault": False,
        "paymentTermLabelTemplate": "Zahlbar sofort, rein netto",
        "paymentTermDuration": 0,
    },
]

PRINT_LAYOUT_ID = _cid("print-layout-default")

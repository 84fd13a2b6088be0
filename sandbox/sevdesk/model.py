"""The sevDesk wire format (reference §2): Berlin timestamps without milliseconds, amounts as unpadded
decimal strings, string ids, `{"id", "objectName"}` references, and the resource table."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sandbox.clock import BERLIN

CENT = Decimal("0.01")

# model name (the URL path) -> export/raw table name. Order: parents before children.
RESOURCES = {
    "Contact": "contacts",
    "ContactAddress": "contact_addresses",
    "CommunicationWay": "communication_ways",
    "Part": "parts",
    "Invoice": "invoices",
    "InvoicePos": "invoice_positions",
    "CreditNote": "credit_notes",
    "CreditNotePos": "credit_note_positions",
    "Voucher": "vouchers",
    "VoucherPos": "voucher_positions",
    "CheckAccount": "check_accounts",
    "CheckAccountTransaction": "check_account_transactions",
    "CheckAccountTransactionLog": "check_account_transaction_logs",
    "TaxRule": "tax_rules",
    "AccountDatev": "account_datev",
    "Unity": "unities",
    "StaticCountry": "static_countries",
}
# Lists newest first (a live /Invoice list came back id-descending, reference §3); the rest ascending.
NEWEST_FIRST = {"Invoice", "CreditNote", "Voucher", "CheckAccountTransaction"}
DOCUMENTS = {"Invoice": "InvoicePos", "CreditNote": "CreditNotePos", "Voucher": "VoucherPos"}
PARENT_FIELD = {
    "InvoicePos": "invoice",
    "CreditNotePos": "creditNote",
    "VoucherPos": "voucher",
    "ContactAddress": "contact",
    "CommunicationWay": "contact",
}


def fmt_ts(dt: datetime) -> str:
    """`2026-09-28T20:17:21+02:00`: seconds, Europe/Berlin offset, no milliseconds (reference §2.3)."""
    return dt.astimezone(BERLIN).replace(microsecond=0).isoformat()


def fmt_date(d: date) -> str:
    """A date-only field: Berlin local midnight."""
    return fmt_ts(datetime(d.year, d.month, d.day, tzinfo=BERLIN))


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def dec(value: Decimal | int | str | float) -> str:
    """`"39.2"`, `"-46.65"`, `"30"`, `"0"`: a decimal string without padding (reference §2.2)."""
    d = Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def money(value: Decimal | int | str | float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def number(value: Decimal) -> int | float:
    """`paidAmount` and `amountPaid` are JSON numbers: 0, 87.49."""
    value = money(value)
    return int(value) if value == value.to_integral_value() else float(value)


def ref(model: str, rec_id: str | int) -> dict:
    return {"id": str(rec_id), "objectName": model}


def flag(value: bool) -> str:
    return "1" if value else "0"


SEV_CLIENT = "SevClient"
# Update 2.0 tax rules (reference §1.4), with the codes seen live where known.
TAX_RULES = [
    (1, "USTPFL_UMS_EINN", "Umsatzsteuerpflichtige Umsätze"),
    (2, "AUSFUHREN", "Ausfuhren"),
    (3, "INNERGEM_LIEF", "Innergemeinschaftliche Lieferungen"),
    (4, "STEUERFREIE_UMS_4", "Steuerfreie Umsätze §4 UStG"),
    (5, "REV_CHARGE", "Reverse Charge gem. §13b UStG"),
    (8, "INNERGEM_ERWERB", "Innergemeinschaftliche Erwerbe"),
    (9, "VORST_ABZUGSF_AUFW", "Vorsteuerabziehbare Aufwendungen"),
    (10, "NICHT_VORST_ABZUGSF_AUFW", "Nicht vorsteuerabziehbare Aufwendungen"),
    (11, "KLEINUNTERNEHMER", "Steuer nicht erhoben nach §19 UStG"),
    (12, "REV_CHARGE_13B_MIT_VORST_ABZUG_0", "Reverse Charge §13b Abs. 2 mit Vorsteuerabzug 0% (19%)"),
    (13, "REV_CHARGE_13B_OHNE_VORST_ABZUG_0", "Reverse Charge §13b ohne Vorsteuerabzug 0% (19%)"),
    (14, "REV_CHARGE_13B_EU_0", "Reverse Charge §13b Abs. 1 EU Umsätze 0% (19%)"),
    (16, "NICHT_STEUERBAR_EXPENSE", "Nicht steuerbar (Aufwand)"),
    (17, "NICHT_IM_INLAND_STEUERBAR", "Nicht im Inland steuerbare Leistung"),
    (22, "NICHT_STEUERBAR_REVENUE", "Nicht steuerbar (Erlös)"),
]
# Update 2.0 booking accounts: (id, SKR04 number, SKR04 name, SKR03 number, SKR03 name, expense?)
ACCOUNTS_DATEV = [
    (4285, "4400", "Erlöse 19 % USt", "8400", "Erlöse 19 % USt", False),
    (4286, "4300", "Erlöse 7 % USt", "8300", "Erlöse 7 % USt", False),
    (
        4287,
        "4125",
        "Steuerfreie innergemeinschaftliche Lieferungen",
        "8125",
        "Steuerfreie ig. Lieferungen",
        False,
    ),
    (5012, "6815", "Bürobedarf", "4930", "Bürobedarf", True),
    (5013, "6310", "Miete (unbewegliche Wirtschaftsgüter)", "4210", "Miete", True),
    (5014, "6530", "Laufende Kfz-Betriebskosten", "4530", "Laufende Kfz-Betriebskosten", True),
    (5015, "6805", "Telefon", "4920", "Telefon", True),
    (5016, "5200", "Wareneingang", "3200", "Wareneingang", True),
    (5017, "6640", "Bewirtungskosten", "4650", "Bewirtungskosten", True),
    (5018, "6650", "Reisekosten Arbeitnehmer Übernachtungsaufwand", "4676", "Reisekosten Übernachtung", True),
    (5019, "6600", "Werbekosten", "4600", "Werbekosten", True),
    (5020, "6825", "Rechts- und Beratungskosten", "4950", "Rechts- und Beratungskosten", True),
    (
        5021,
        "6837",
        "Aufwendungen für die zeitlich befristete Überlassung von Rechten",
        "4964",
        "Lizenzen",
        True,
    ),
    (5022, "6400", "Versicherungen", "4360", "Versicherungen", True),
    (5099, "9999", "Verrechnungskonto (ausgeblendet)", "9999", "Verrechnungskonto", True),  # hidden
]
HIDDEN_ACCOUNTS = {5099}
# 1.0 booking accounts (AccountingType ids) used by legacy voucher positions
ACCOUNTING_TYPES = {"expense": 26, "revenue": 20}
UNITIES = [
    (1, "Stk", "UNITY_PIECE", "C62"),
    (2, "m²", "UNITY_SQUARE_METER", "MTK"),
    (3, "m", "UNITY_METER", "MTR"),
    (4, "kg", "UNITY_KILOGRAM", "KGM"),
    (5, "t", "UNITY_TON", "TNE"),
    (7, "l", "UNITY_LITER", "LTR"),
    (8, "Pauschal", "UNITY_FLAT_RATE", "C62"),
    (9, "Std", "UNITY_HOUR", "HUR"),
    (10, "km", "UNITY_KILOMETER", "KMT"),
    (14, "Tag(e)", "UNITY_DAY", "DAY"),
    (15, "Monat(e)", "UNITY_MONTH", "MON"),
]
# id 1 = Germany (reference §5.12); the live list has ~250 rows, these are the ones Kontor needs
COUNTRIES = [
    (1, "DE", "Deutschland", "Germany"),
    (2, "BE", "Belgien", "Belgium"),
    (3, "BG", "Bulgarien", "Bulgaria"),
    (4, "DK", "Dänemark", "Denmark"),
    (5, "EE", "Estland", "Estonia"),
    (6, "FI", "Finnland", "Finland"),
    (7, "FR", "Frankreich", "France"),
    (8, "GR", "Griechenland", "Greece"),
    (9, "GB", "Großbritannien", "United Kingdom"),
    (10, "IE", "Irland", "Ireland"),
    (11, "IT", "Italien", "Italy"),
    (12, "HR", "Kroatien", "Croatia"),
    (13, "LV", "Lettland", "Latvia"),
    (14, "LT", "Litauen", "Lithuania"),
    (15, "LU", "Luxemburg", "Luxembourg"),
    (16, "MT", "Malta", "Malta"),
    (17, "NL", "Niederlande", "Netherlands"),
    (18, "AT", "Österreich", "Austria"),
    (19, "PL", "Polen", "Poland"),
    (20, "PT", "Portugal", "Portugal"),
    (21, "RO", "Rumänien", "Romania"),
    (22, "SE", "Schweden", "Sweden"),
    (23, "CH", "Schweiz", "Switzerland"),
    (24, "SK", "Slowakei", "Slovakia"),
    (25, "SI", "Slowenien", "Slovenia"),
    (26, "ES", "Spanien", "Spain"),
    (27, "CZ", "Tschechien", "Czech Republic"),
    (28, "HU", "Ungarn", "Hungary"),
    (29, "US", "Vereinigte Staaten", "United States"),
    (30, "CY", "Zypern", "Cyprus"),
    (31, "NO", "Norwegen", "Norway"),
    (32, "TR", "Türkei", "Turkey"),
    (33, "CN", "China", "China"),
    (34, "JP", "Japan", "Japan"),
    (35, "CA", "Kanada", "Canada"),
    (36, "AU", "Australien", "Australia"),
]
COUNTRY_IDS = {code: cid for cid, code, _, _ in COUNTRIES}

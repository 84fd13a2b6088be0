"""Constants of the sevDesk source (see ../shared/reference/sevdesk-api.md); every endpoint path is here."""

from datetime import timedelta

SOURCE_SYSTEM = "sevdesk"
DATASET = "raw_sevdesk"
DEFAULT_BASE_URL = "https://my.sevdesk.de/api/v1"
PAGE_SIZE = 1000  # the largest page (reference §3); larger limits are silently capped
RELIST_ATTEMPTS = 3  # list again if rows moved while paging (offset paging over a changing list)
RECONCILE_EVERY = timedelta(hours=24)  # full ID scan of the updateAfter resources
# The updateAfter mark trails the newest listed `update` by the listing time plus this (second
# resolution of `update`, inclusive/exclusive filter unknown): a smaller one risks a missed edit.
LWM_MARGIN = timedelta(seconds=5)

# HTTP (the retry policy and its limits are the Lexware client's)
USER_AGENT = "Kontor data platform (sevDesk extraction)"

# table -> (list path, fixed query). `updateAfter` exists (and works as unix seconds) only here:
INCREMENTAL = {
    "contacts": ("/Contact", {"depth": "1"}),  # depth=1: persons too, not only organisations
    "invoices": ("/Invoice", {"showAll": "true"}),
    "vouchers": ("/Voucher", {}),
}
# Everything else is read in full every run and diffed against the last run (positions, transactions
# and payment links have no update filter; master data is small).
SCANNED: dict[str, tuple[str, dict[str, str]]] = {
    "contact_addresses": ("/ContactAddress", {}),
    "communication_ways": ("/CommunicationWay", {}),
    "parts": ("/Part", {}),
    "credit_notes": ("/CreditNote", {}),
    "invoice_positions": ("/InvoicePos", {}),
    "credit_note_positions": ("/CreditNotePos", {}),
    "voucher_positions": ("/VoucherPos", {}),
    "check_accounts": ("/CheckAccount", {}),
    "check_account_transactions": ("/CheckAccountTransaction", {}),
    "check_account_transaction_logs": ("/CheckAccountTransactionLog", {}),
    "account_datev": ("/AccountDatev", {}),
    "unities": ("/Unity", {}),
    "static_countries": ("/StaticCountry", {}),
}
# Not paged: one call.
TAX_RULES = (
    "/TaxRule/Factory/getTaxRulesForCountry",
    {"clientCountry[id]": "1", "clientCountry[objectName]": "StaticCountry"},
)
TABLES = (*INCREMENTAL, *SCANNED, "tax_rules")

# How a record that vanished from a complete scan is confirmed gone before it is flagged deleted:
# a GET by id that answers 404 (deleted transactions still answer, with `deletedAt` set) ...
DETAIL_PATHS = {
    "contacts": "/Contact",
    "invoices": "/Invoice",
    "vouchers": "/Voucher",
    "credit_notes": "/CreditNote",
    "contact_addresses": "/ContactAddress",
    "communication_ways": "/CommunicationWay",
    "parts": "/Part",
    "check_accounts": "/CheckAccount",
    "check_account_transactions": "/CheckAccountTransaction",
    "account_datev": "/AccountDatev",
}
# ... or, for positions, the list of the parent's positions no longer holding it.
POSITION_PARENTS = {
    "invoice_positions": ("/InvoicePos", "invoice", "Invoice"),
    "credit_note_positions": ("/CreditNotePos", "creditNote", "CreditNote"),
    "voucher_positions": ("/VoucherPos", "voucher", "Voucher"),
}

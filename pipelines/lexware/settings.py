"""Constants of the Lexware Office source (see ../shared/reference/lexware-office-api.md)."""

from datetime import timedelta

SOURCE_SYSTEM = "lexware"
DATASET = "raw_lexware"
PAGE_SIZE = 250  # the largest page every list endpoint accepts (voucherlist rejects 251)
RELIST_ATTEMPTS = 3  # list a voucherlist window again if rows moved while paging
SEARCH_WINDOW = 10_000  # a filter combination returns at most this many rows; slice beyond it
BERLIN = "Europe/Berlin"  # voucherlist date filters are whole days in CET/CEST
RECONCILE_EVERY = timedelta(hours=24)  # full ID scan of the voucher list (list pages only)
# The voucherlist low-water mark trails the newest listed updatedDate by the listing time plus this
# (server-side rounding, clock-rate drift): a smaller one risks a missed edit, a larger one costs nothing
LWM_MARGIN = timedelta(seconds=5)

# HTTP
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0  # the gateway itself gives up after 30 s (504)
MAX_ATTEMPTS = 8
BACKOFF_INITIAL = 0.25  # seconds, doubled per attempt, with jitter
BACKOFF_MAX = 15.0

# voucherlist type -> (raw table, detail endpoint). Types not listed (quotations, order confirmations,
# delivery notes, down payment invoices) stay in `voucherlist` only.
DETAIL_ENDPOINTS = {
    "invoice": ("invoices", "/v1/invoices"),
    "creditnote": ("credit_notes", "/v1/credit-notes"),
    "salesinvoice": ("vouchers", "/v1/vouchers"),
    "salescreditnote": ("vouchers", "/v1/vouchers"),
    "purchaseinvoice": ("vouchers", "/v1/vouchers"),
    "purchasecreditnote": ("vouchers", "/v1/vouchers"),
}
# Payment information exists for these types once they left draft/unchecked (reference §4.9).
PAYMENT_TYPES = frozenset(
    {"invoice", "creditnote", "downpaymentinvoice", "salesinvoice", "salescreditnote", "purchaseinvoice",
     "purchasecreditnote"}
)
NO_PAYMENT_STATUSES = frozenset({"draft", "unchecked", "blank"})

# Master data read by a full list scan every run (only changed versions are emitted): table -> path.
# A record missing from a complete scan is confirmed by a 404 on `<path>/<id>` before it is flagged deleted.
SCANNED_LISTS = {"contacts": "/v1/contacts", "articles": "/v1/articles"}

# Every raw table and the endpoint it comes from (for 403 "not in plan" reporting).
TABLES = ("contacts", "voucherlist", "invoices", "credit_notes", "vouchers", "payments",
          "posting_categories", "profile", "articles")
VOUCHER_TABLES = ("voucherlist", "invoices", "credit_notes", "vouchers", "payments")
DETAIL_ENDPOINTS_BY_TABLE = {table: path for table, path in DETAIL_ENDPOINTS.values()}

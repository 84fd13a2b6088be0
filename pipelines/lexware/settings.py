"""Constants of the Lexware Office source (see ../shared/reference/lexware-office-api.md)."""

from datetime import date, timedelta

SOURCE_SYSTEM = "lexware"
DATASET = "raw_lexware"
PAGE_SIZE = 250  # the largest page every list endpoint accepts (voucherlist rejects 251)
RELIST_ATTEMPTS = 3  # list a voucherlist window again if rows moved while paging
SEARCH_WINDOW = 10_000  # a filter combination returns at most this many rows; slice beyond it
# Filter values a listing at the window is split by (reference §4.3, §5): `any` covers them all; a
# value Lexware adds later is only listed while its slice stays below the window (docs/operations.md)
VOUCHER_TYPES = (
    "invoice",
    "creditnote",
    "downpaymentinvoice",
    "orderconfirmation",
    "quotation",
    "deliverynote",
    "salesinvoice",
    "salescreditnote",
    "purchaseinvoice",
    "purchasecreditnote",
)
# `overdue` is derived from open/sepadebit (which return those rows): not a slice of its own
SLICE_STATUSES = (
    "draft",
    "open",
    "paid",
    "paidoff",
    "voided",
    "transferred",
    "sepadebit",
    "accepted",
    "rejected",
    "unchecked",
    "blank",
)
UNDATED_STATUSES = frozenset({"unchecked", "blank"})  # bookkeeping vouchers may lack a voucherDate
DATE_FLOOR = date(2000, 1, 1)  # slicing an open date range starts halving here (Lexware is younger)
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
    {
        "invoice",
        "creditnote",
        "downpaymentinvoice",
        "salesinvoice",
        "salescreditnote",
        "purchaseinvoice",
        "purchasecreditnote",
    }
)
NO_PAYMENT_STATUSES = frozenset({"draft", "unchecked", "blank"})
# The `paymentStatus` of an open document follows its type (reference §4.9): revenue or expense
OPEN_PAYMENT_STATUS = {
    "invoice": "openRevenue",
    "downpaymentinvoice": "openRevenue",
    "creditnote": "openRevenue",
    "salesinvoice": "openRevenue",
    "salescreditnote": "openRevenue",
    "purchaseinvoice": "openExpense",
    "purchasecreditnote": "openExpense",
}

# Master data read by a full list scan every run (only changed versions are emitted): table -> path.
# A record missing from a complete scan is confirmed by a 404 on `<path>/<id>` before it is flagged deleted.
SCANNED_LISTS = {"contacts": "/v1/contacts", "articles": "/v1/articles"}

# Every raw table and the endpoint it comes from (for 403 "not in plan" reporting).
TABLES = (
    "contacts",
    "voucherlist",
    "invoices",
    "credit_notes",
    "vouchers",
    "payments",
    "posting_categories",
    "profile",
    "articles",
)
VOUCHER_TABLES = ("voucherlist", "invoices", "credit_notes", "vouchers", "payments")
DETAIL_ENDPOINTS_BY_TABLE = {table: path for table, path in DETAIL_ENDPOINTS.values()}

# The organisation a key answers for (`organizationId`): read first by every run (tenant binding)
PROFILE_PATH = "/v1/profile"
# Event subscriptions (webhooks, reference §4.13): the events Kontor subscribes to per tenant, and which
# raw table each event's resourceId belongs to (payment.changed names the invoice/credit note/voucher).
EVENT_SUBSCRIPTIONS_PATH = "/v1/event-subscriptions"
EVENT_TABLES = {
    "contact": "contacts",
    "invoice": "invoices",
    "credit-note": "credit_notes",
    "voucher": "vouchers",
}
EVENT_TYPES = tuple(
    [f"{resource}.{event}" for resource in EVENT_TABLES for event in ("created", "changed", "deleted")]
    + [f"{resource}.status.changed" for resource in ("invoice", "credit-note", "voucher")]
    + ["payment.changed"]
)
# Lexware's published key for X-Lxo-Signature (RSA-SHA512); `webhooks.public_key` in kontor.yaml overrides
WEBHOOK_PUBLIC_KEY_URL = "https://developers.lexware.io/webhookSignature/public/public_key.pub"
# Events still pending this long (their run failed) get another run even if no new event arrives
EVENT_RETRY_AFTER = timedelta(minutes=10)
# With webhooks on, the incremental run lists contacts in full only this often (events carry the rest)
CONTACT_SCAN_EVERY = timedelta(hours=24)

"""dlt source for one Lexware Office tenant (see docs/architecture.md, raw layer contract).

Resources: `profile`, `posting_categories`, `contacts` (full list scan, only rows whose `version`
changed are emitted), `voucherlist` (incremental on `updatedDate`, queried by Berlin day and re-read
from the start of the cursor's day; dlt drops rows already loaded) and the transformers `invoices`,
`credit_notes`, `vouchers`, `payments` that fetch details only for voucherlist rows that changed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Literal

import dlt
from dlt.extract.resource import DltResource

from pipelines.lexware import settings
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import NotFoundError, NotInPlanError, ValidationError
from pipelines.lexware.helpers import RunReport, berlin_day, complete_listing, parse_ts, row, windowed_pages

Mode = Literal["incremental", "backfill", "full"]
PRIMARY_KEY = ("tenant_id", "id")
COLUMNS = {
    "tenant_id": {"data_type": "text", "nullable": False},
    "source_system": {"data_type": "text"},
    "id": {"data_type": "text", "nullable": False},
    "version": {"data_type": "bigint", "nullable": True},
    "raw": {"data_type": "json"},
    "is_deleted": {"data_type": "bool"},
}
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
# One query covers every voucher type and status: a quiet incremental run costs one request.
# Sorted by voucher date ascending (the one sort confirmed live): edits do not move rows, new
# vouchers mostly append; `windowed_pages` re-lists if rows still moved while paging.
VOUCHERLIST_QUERY = {"voucherType": "any", "voucherStatus": "any", "sort": "voucherDate,ASC"}


def _merge(name: str, **kw: object) -> dict:
    return {"name": name, "primary_key": PRIMARY_KEY, "write_disposition": "merge", "columns": COLUMNS, **kw}


@dlt.source(name="lexware", max_table_nesting=1)
def lexware_source(
    client: LexwareClient | None = None,
    report: RunReport | None = None,
    mode: Mode = "incremental",
    voucher_date_from: date | None = None,
    voucher_date_to: date | None = None,
    reconcile: bool | None = None,
) -> list[DltResource]:
    """All resources of one tenant.

    mode `incremental`: everything changed since the stored cursors; `reconcile` adds a full ID scan
    of the voucher list (list pages only) so records that vanished get flagged `is_deleted`; by
    default (None) that happens when the last reconciliation is older than RECONCILE_EVERY.
    mode `backfill`: re-extract voucherlist + details for vouchers dated `voucher_date_from` to
    `voucher_date_to` (inclusive); the incremental cursor is neither used nor moved.
    mode `full`: re-extract everything (ignoring contact versions), reconcile deletes, and move the
    cursor as a first sync would; the caller resets the stored cursor first (`sync.reset_cursor`).
    `client=None` only builds the resource graph (for Dagster asset definitions).
    """
    tenant = client.name if client else "unbound"
    report = report or RunReport(tenant)
    if mode == "backfill" and not (voucher_date_from and voucher_date_to):
        raise ValueError("a backfill needs voucher_date_from and voucher_date_to")

    def guarded(table: str, calls: Iterator) -> Iterator:
        """Run a resource's generator; a 403 skips that table (reported), the sync goes on."""
        if table in report.not_in_plan:
            return
        try:
            yield from calls
        except NotInPlanError as exc:
            report.skip(table, str(exc))

    @dlt.resource(**_merge("profile"))
    def profile() -> Iterator[dict]:
        def calls() -> Iterator[dict]:
            body = client.get("/v1/profile")
            yield row(tenant, body, body["organizationId"])
        yield from guarded("profile", calls())

    @dlt.resource(**_merge("posting_categories"))
    def posting_categories() -> Iterator[list[dict]]:
        def calls() -> Iterator[list[dict]]:
            items = client.get("/v1/posting-categories")
            report.complete_scans["posting_categories"] = {i["id"] for i in items}
            yield [row(tenant, i) for i in items]
        yield from guarded("posting_categories", calls())

    @dlt.resource(**_merge("contacts"))
    def contacts() -> Iterator[list[dict]]:
        def calls() -> Iterator[list[dict]]:
            state = dlt.current.resource_state()
            known: dict[str, int | None] = {} if mode == "full" else state.get("versions", {})
            seen: dict[str, int | None] = {}
            for page in complete_listing(client, "/v1/contacts", {}):
                seen.update((item["id"], item.get("version")) for item in page)
                changed = [row(tenant, i) for i in page if known.get(i["id"], -1) != i.get("version")]
                if changed:
                    yield changed
            state["versions"] = seen  # committed with the load package, atomically
            report.complete_scans["contacts"] = set(seen)
        yield from guarded("contacts", calls())

    @dlt.resource(**_merge("voucherlist"))
    def voucherlist(
        updated: dlt.sources.incremental[datetime] = dlt.sources.incremental(  # noqa: B008
            "updatedDate", initial_value=EPOCH),
    ) -> Iterator[list[dict]]:
        def calls() -> Iterator[list[dict]]:
            state = dlt.current.source_state()
            due = time.time() - state.get("reconciled_at", 0) >= settings.RECONCILE_EVERY.total_seconds()
            full_scan = mode == "full" or (mode == "incremental" and (
                updated.last_value in (None, EPOCH) or (due if reconcile is None else reconcile)))
            if mode == "backfill":
                pages = windowed_pages(client, VOUCHERLIST_QUERY, "voucher", voucher_date_from,
                                       voucher_date_to)
            else:
                # Re-read the whole Berlin day of the cursor (the filter has day granularity);
                # a reconciliation lists everything, and dlt still drops rows already loaded.
                since = EPOCH if full_scan else (updated.last_value or EPOCH)
                pages = windowed_pages(client, VOUCHERLIST_QUERY, "updated", berlin_day(since))
            seen: set[str] = set()
            for page in pages:
                seen.update(e["id"] for e in page)
                yield [row(tenant, e, updatedDate=parse_ts(e["updatedDate"])) for e in page]
            if full_scan:
                report.complete_scans["voucherlist"] = seen
                state["reconciled_at"] = time.time()  # committed only with this run's load
        yield from guarded("voucherlist", calls())

    # Credit notes linked to an invoice carry no payment information (the API answers 406), which only
    # the credit note's detail tells. Whichever of `credit_notes` / `payments` meets a credit note
    # first fetches its detail; the other reuses it, so each detail is requested once.
    credit_note_bodies: dict[str, dict] = {}  # fetched by `payments`, not yet emitted by `credit_notes`
    linked: dict[str, bool] = {}  # credit note id -> linked to an invoice

    def details(table: str) -> DltResource:
        @dlt.transformer(**_merge(table))
        def fetch(entries: list[dict]) -> Iterator[list[dict]]:
            def calls() -> Iterator[list[dict]]:
                wanted = [e["id"] for e in entries
                          if settings.DETAIL_ENDPOINTS.get(e.get("voucherType"), ("",))[0] == table]
                yield _details(table, wanted)
            yield from guarded(table, calls())
        return fetch

    @dlt.transformer(**_merge("payments"))
    def payments(entries: list[dict]) -> Iterator[list[dict]]:
        def calls() -> Iterator[list[dict]]:
            candidates = [e for e in entries if e.get("voucherType") in settings.PAYMENT_TYPES
                          and e.get("voucherStatus") not in settings.NO_PAYMENT_STATUSES]
            unknown = [e["id"] for e in candidates
                       if e["voucherType"] == "creditnote" and e["id"] not in linked]
            if unknown and "credit_notes" not in report.not_in_plan:
                try:
                    credit_note_bodies.update(_fetch("credit_notes", unknown))
                except NotInPlanError as exc:  # credit notes not in plan: payments still go on
                    report.skip("credit_notes", str(exc))
            wanted = [e["id"] for e in candidates if not linked.get(e["id"], False)]
            yield [row(tenant, body, i) for i, body in _fetch("payments", wanted).items()]
        yield from guarded("payments", calls())

    def _details(table: str, ids: list[str]) -> list[dict]:
        bodies = {i: credit_note_bodies.pop(i) for i in ids if i in credit_note_bodies}
        bodies.update(_fetch(table, [i for i in ids if i not in bodies]))
        return [row(tenant, bodies[i], i) for i in ids if i in bodies]

    def _fetch(table: str, ids: list[str]) -> dict[str, dict]:
        """GET the records in parallel (bounded); a 404/406 on one record is counted and skipped, a 403
        skips the table, anything else (retries exhausted, malformed body) fails the run."""
        prefix = "/v1/payments" if table == "payments" else settings.DETAIL_ENDPOINTS_BY_TABLE[table]
        bodies: dict[str, dict] = {}
        for path, body in client.fetch_each(f"{prefix}/{i}" for i in ids):
            record_id = path.rsplit("/", 1)[1]
            if isinstance(body, NotInPlanError):
                raise body
            if isinstance(body, NotFoundError | ValidationError):
                report.skipped_details[table] = report.skipped_details.get(table, 0) + 1
                continue
            if isinstance(body, Exception):
                raise body
            bodies[record_id] = body
            if table == "credit_notes":
                linked[record_id] = bool(body.get("relatedVouchers"))
        return bodies

    vouchers_list = voucherlist()
    if mode == "backfill":  # a bounded window: reads from the epoch, never moves the cursor
        vouchers_list = voucherlist(updated=dlt.sources.incremental(
            "updatedDate", initial_value=EPOCH, end_value=FAR_FUTURE))
    voucher_resources = [vouchers_list, vouchers_list | details("invoices"),
                         vouchers_list | details("credit_notes"), vouchers_list | details("vouchers"),
                         vouchers_list | payments]
    if mode == "backfill":
        return voucher_resources
    return [profile(), posting_categories(), contacts(), *voucher_resources]

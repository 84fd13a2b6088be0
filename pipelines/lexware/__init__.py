"""dlt source for one Lexware Office tenant (see docs/architecture.md, raw layer contract).

Resources: `profile`, `posting_categories`, `contacts` and `articles` (full list scans, only rows whose
`version` changed are emitted), `voucherlist` (see below) and the transformers `invoices`, `credit_notes`,
`vouchers`, `payments` that fetch details only for voucherlist rows that changed. No request is made
whose answer the list already tells: `payments` of an open document the list shows unpaid (open amount
= total) is that answer, written without a call (`helpers.unpaid_payments`; for documents listed
`overdue`, one page of the sepadebit documents tells which of them are open).

The voucherlist is read from the Berlin day of a low-water mark `lwm` (every change before it is
loaded) and emits a row when its `updatedDate` is >= lwm and differs from `known` ({id: updatedDate}
of the rows >= lwm as last listed); both live in the resource's dlt state, committed with the load
package. dlt's `incremental` is deliberately not used: its max-cursor assumes a read in cursor order
or a consistent snapshot, but the list is paged by `voucherDate` while other users edit, so an edit to
an already-read page followed by a newer edit on a later page would put the first below the cursor
for good. The mark instead trails the newest listed change by the listing's duration (+ a margin), so
any edit racing the listing is listed again by the next run.

Listings reaching the 10,000-row search window are sliced until complete (slicing.py); a slice no
filter can split is reported in `RunReport.incomplete`, holds the mark at its day and withholds that
table's deletion scan.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import dlt
from dlt.extract.resource import DltResource

from pipelines.lexware import settings
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import NotFoundError, NotInPlanError, ValidationError
from pipelines.lexware.events import EventTargets
from pipelines.lexware.helpers import (
    BERLIN,
    RunReport,
    backfill_window,
    berlin_day,
    complete_listing,
    parse_ts,
    row,
    unpaid_payments,
)
from pipelines.lexware.slicing import contact_pages, windowed_pages

Mode = Literal["incremental", "backfill", "full", "events"]
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
# One query covers every voucher type and status: a quiet incremental run costs one request.
# Sorted by voucher date ascending (the one sort confirmed live): edits do not move rows, new
# vouchers mostly append; `windowed_pages` re-lists if rows still moved while paging.
VOUCHERLIST_QUERY = {"voucherType": "any", "voucherStatus": "any", "sort": "voucherDate,ASC"}
# Documents under direct debit: the list shows them `overdue` past the due date, like open ones
SEPADEBIT_QUERY = {"voucherType": "any", "voucherStatus": "sepadebit"}


def _merge(name: str, **kw: object) -> dict[str, Any]:
    return {"name": name, "primary_key": PRIMARY_KEY, "write_disposition": "merge", "columns": COLUMNS, **kw}


@dlt.source(name="lexware", max_table_nesting=1)
def lexware_source(
    client: LexwareClient | None = None,
    report: RunReport | None = None,
    mode: Mode = "incremental",
    voucher_date_from: date | None = None,
    voucher_date_to: date | None = None,
    reconcile: bool | None = None,
    events: EventTargets | None = None,
    events_on: bool = False,
) -> list[DltResource]:
    """All resources of one tenant.

    mode `incremental`: everything changed since the stored state (contact versions, voucherlist
    mark); `reconcile` adds a full ID scan of the voucher list (list pages only) so records that
    vanished get flagged `is_deleted` (each confirmed by a 404 first, see deletes.py); by default
    (None) that happens when the last reconciliation is older than RECONCILE_EVERY.
    mode `backfill`: re-extract voucherlist + details for vouchers dated `voucher_date_from` to
    `voucher_date_to` (inclusive); the low-water mark is neither used nor moved.
    mode `full`: re-extract everything (ignoring contact versions and the voucherlist's mark),
    reconcile deletes, and set the mark as a first sync would.
    mode `events`: a targeted run for a batch of webhook events (`events`, see events.py): GET exactly
    the contacts they name (a 404 is a confirmed deletion, `report.event_deletions`), list the voucher
    list from its mark as `incremental` does (no reconciliation) and also re-emit the listed rows the
    events name, so their details and payments are re-read even if the row looks unchanged.
    `events_on`: the tenant receives events, so an incremental run lists contacts in full only once per
    CONTACT_SCAN_EVERY (or with `reconcile: true`); the events carry the changes in between.
    `client=None` only builds the resource graph (for Dagster asset definitions).
    """
    tenant = client.name if client else "unbound"
    report = report or RunReport(tenant)
    voucher_date_from, voucher_date_to = backfill_window(mode, voucher_date_from, voucher_date_to)

    def api() -> LexwareClient:
        """The tenant's client: a graph built without one (Dagster definitions) is never run."""
        if client is None:
            raise RuntimeError("lexware_source was built without a client: it only describes the graph")
        return client

    def guarded(table: str, calls: Iterator[Any]) -> Iterator[Any]:
        """Run a resource's generator; a 403 skips that table (reported), the sync goes on."""
        if table in report.not_in_plan:
            return
        try:
            yield from calls
        except NotInPlanError as exc:
            report.skip(table, str(exc))

    @dlt.resource(**_merge("profile"))
    def profile() -> Iterator[dict[str, Any]]:
        def calls() -> Iterator[dict[str, Any]]:
            body = api().profile()  # read once per run, shared with the tenant-binding check
            yield row(tenant, body, body["organizationId"])

        yield from guarded("profile", calls())

    @dlt.resource(**_merge("posting_categories"))
    def posting_categories() -> Iterator[list[dict[str, Any]]]:
        def calls() -> Iterator[list[dict[str, Any]]]:
            items = api().get("/v1/posting-categories")
            report.complete_scans["posting_categories"] = {i["id"] for i in items}
            yield [row(tenant, i) for i in items]

        yield from guarded("posting_categories", calls())

    def scanned_list(table: str) -> DltResource:
        """A full list scan (contacts, articles): every page each run, only changed versions emitted.
        Contacts: split by role past the search window (slicing.contact_pages); fetched by id in mode
        `events`; with webhooks on, listed in full only every CONTACT_SCAN_EVERY (events carry the rest)."""

        @dlt.resource(**_merge(table))
        def scan() -> Iterator[list[dict[str, Any]]]:
            def calls() -> Iterator[list[dict[str, Any]]]:
                state = dlt.current.resource_state()
                if table == "contacts" and mode == "events":
                    yield from _contacts_by_id(state)
                    return
                since_scan = time.time() - state.get("scanned_at", 0)
                if (
                    table == "contacts"
                    and events_on
                    and mode == "incremental"
                    and not reconcile
                    and (since_scan < settings.CONTACT_SCAN_EVERY.total_seconds())
                ):
                    return  # events carry contact changes; the full scan is the daily safety net
                known: dict[str, int | None] = {} if mode == "full" else state.get("versions", {})
                seen: dict[str, int | None] = {}
                pages = (
                    contact_pages(api(), report)
                    if table == "contacts"
                    else complete_listing(api(), settings.SCANNED_LISTS[table], {})
                )
                for page in pages:
                    seen.update((item["id"], item.get("version")) for item in page)
                    changed = [row(tenant, i) for i in page if known.get(i["id"], -1) != i.get("version")]
                    if changed:
                        yield changed
                state["versions"] = seen  # committed with the load package, atomically
                state["scanned_at"] = time.time()
                if table not in report.incomplete:  # a partial scan must not look like deletions
                    report.complete_scans[table] = set(seen)

            yield from guarded(table, calls())
            if table in report.not_in_plan:  # an empty table, so the models reading it still build
                yield dlt.mark.materialize_table_schema()

        return scan

    def _contacts_by_id(state: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """GET the contacts events named, as they are now; a 404 confirms a deletion. The tenant lock
        serialises runs (fetch and load), so a fetched version is never older than a stored one."""
        versions = state.setdefault("versions", {})
        fetched = []
        named = sorted(events.contacts) if events else []
        contact_paths = (f"{settings.SCANNED_LISTS['contacts']}/{i}" for i in named)
        for path, body in api().fetch_each(contact_paths):
            contact_id = path.rsplit("/", 1)[1]
            if isinstance(body, NotFoundError):
                report.event_deletions.setdefault("contacts", []).append(contact_id)
                versions.pop(contact_id, None)
            elif isinstance(body, Exception):
                raise body
            elif (versions.get(contact_id) or 0) <= (body.get("version") or 0):  # never regress a record
                versions[contact_id] = body.get("version")
                fetched.append(row(tenant, body))
        if fetched:
            yield fetched

    @dlt.resource(**_merge("voucherlist"))
    def voucherlist() -> Iterator[list[dict[str, Any]]]:
        def calls() -> Iterator[list[dict[str, Any]]]:
            state = dlt.current.source_state()
            marks = dlt.current.resource_state()  # lwm + known, committed with the load package
            if mode == "backfill":  # a voucher-date window: neither reads nor moves lwm/known
                assert voucher_date_from is not None  # backfill_window requires both dates for a backfill
                pages = windowed_pages(
                    api(), VOUCHERLIST_QUERY, "voucher", voucher_date_from, voucher_date_to, report
                )
                for page in pages:
                    yield [_listed(e) for e in page]
                return
            fresh = mode == "full" or "lwm" not in marks
            lwm = EPOCH if fresh else parse_ts(marks["lwm"])
            known: dict[str, str] = {} if fresh else marks.get("known", {})
            due = time.time() - state.get("reconciled_at", 0) >= settings.RECONCILE_EVERY.total_seconds()
            full_scan = fresh or (mode == "incremental" and (due if reconcile is None else reconcile))
            named = events.documents if mode == "events" and events else set()
            # The filter has day granularity: re-read the low-water mark's whole Berlin day; a
            # reconciliation lists everything but emits only rows changed since the mark
            since = EPOCH if full_scan else lwm
            listed: dict[str, str] = {}
            started = time.monotonic()
            for page in windowed_pages(api(), VOUCHERLIST_QUERY, "updated", berlin_day(since), None, report):
                listed.update((e["id"], e["updatedDate"]) for e in page)
                changed = [
                    _listed(e)
                    for e in page
                    if e["id"] in named
                    or (parse_ts(e["updatedDate"]) >= lwm and known.get(e["id"]) != e["updatedDate"])
                ]
                if changed:
                    yield changed
            elapsed = timedelta(seconds=time.monotonic() - started)
            # Any edit racing the listing happened at server time >= t0 (first request); every listed
            # updatedDate is <= t0 + elapsed, so t_max - elapsed <= t0: the racing edit is >= the new
            # mark, is listed again next run and differs from `known`. No clock comparison needed.
            t_max = max(map(parse_ts, listed.values()), default=lwm)
            new_lwm = min(max(lwm, t_max - elapsed - settings.LWM_MARGIN), _held())
            marks["lwm"] = new_lwm.astimezone(UTC).isoformat()  # UTC: compares as text
            marks["known"] = {i: u for i, u in listed.items() if parse_ts(u) >= new_lwm}
            if full_scan and "voucherlist" not in report.incomplete:
                report.complete_scans["voucherlist"] = set(listed)
                state["reconciled_at"] = time.time()  # committed only with this run's load

        yield from guarded("voucherlist", calls())

    def _held() -> datetime:
        """The mark stays at the Berlin day of the first slice that could not be listed completely, so
        every run lists that day again (and flags it again) until its rows are reachable."""
        days = [
            date.fromisoformat(s["filters"]["updatedDateFrom"])
            for s in report.incomplete.get("voucherlist", [])
            if "updatedDateFrom" in s["filters"]
        ]
        if not days:
            return datetime.max.replace(tzinfo=UTC)
        return datetime.combine(min(days), datetime.min.time(), tzinfo=BERLIN).astimezone(UTC)

    def _listed(entry: dict[str, Any]) -> dict[str, Any]:
        return row(tenant, entry, updatedDate=parse_ts(entry["updatedDate"]))

    # Credit notes linked to an invoice carry no payment information (the API answers 406), which only
    # the credit note's detail tells. Whichever of `credit_notes` / `payments` meets a credit note
    # first fetches its detail; the other reuses it, so each detail is requested once.
    # fetched by `payments`, not yet emitted by `credit_notes`
    credit_note_bodies: dict[str, dict[str, Any]] = {}
    linked: dict[str, bool] = {}  # credit note id -> linked to an invoice

    def details(table: str) -> DltResource:
        @dlt.transformer(**_merge(table))
        def fetch(entries: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
            def calls() -> Iterator[list[dict[str, Any]]]:
                wanted = [
                    e["id"]
                    for e in entries
                    if settings.DETAIL_ENDPOINTS.get(e.get("voucherType", ""), ("", ""))[0] == table
                ]
                yield _details(table, wanted)

            yield from guarded(table, calls())

        return fetch

    @dlt.transformer(**_merge("payments"))
    def payments(entries: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        def calls() -> Iterator[list[dict[str, Any]]]:
            candidates = [
                e
                for e in entries
                if e.get("voucherType") in settings.PAYMENT_TYPES
                and e.get("voucherStatus") not in settings.NO_PAYMENT_STATUSES
            ]
            unknown = [
                e["id"] for e in candidates if e["voucherType"] == "creditnote" and e["id"] not in linked
            ]
            if unknown and "credit_notes" not in report.not_in_plan:
                try:
                    credit_note_bodies.update(_fetch("credit_notes", unknown))
                except NotInPlanError as exc:  # credit notes not in plan: payments still go on
                    report.skip("credit_notes", str(exc))
            wanted = [e for e in candidates if not linked.get(e["id"], False)]
            # An open document the list shows unpaid needs no call: its answer is known (helpers). For
            # `overdue` ones, one list page of the sepadebit documents tells which are open. A credit
            # note's answer is known only once its detail told whether it is linked (then it has none).
            overdue = any(
                e["voucherStatus"] == "overdue" and unpaid_payments({**e, "voucherStatus": "open"})
                for e in wanted
            )
            sepadebit = _sepadebit_ids() if overdue else None
            known = {
                e["id"]: body
                for e in wanted
                if (body := unpaid_payments(e, sepadebit)) is not None
                and (e["voucherType"] != "creditnote" or e["id"] in linked)
            }
            ids = [e["id"] for e in wanted if e["id"] not in known]
            answered = dlt.current.resource_state()  # has this key ever been allowed to read payments?
            if known and not ids and not answered.get("in_plan"):
                probe = next(iter(known))  # one real call proves the key may (or answers 403)
                ids.append(probe)
                del known[probe]
            fetched = _fetch("payments", ids)
            answered["in_plan"] = answered.get("in_plan") or bool(fetched)
            yield [row(tenant, body, i) for i, body in {**known, **fetched}.items()]

        yield from guarded("payments", calls())

    listed: dict[str, set[str] | None] = {}  # "sepadebit": ids of the sepadebit documents, listed once

    def _sepadebit_ids() -> set[str] | None:
        """Ids of the documents with status sepadebit (one list page), or None if they fill more than one
        page (then the payments calls of overdue documents stay: they are cheaper)."""
        if "sepadebit" not in listed:
            page = next(api().pages("/v1/voucherlist", SEPADEBIT_QUERY))
            listed["sepadebit"] = {e["id"] for e in page["content"]} if page.get("last", True) else None
        return listed["sepadebit"]

    def _details(table: str, ids: list[str]) -> list[dict[str, Any]]:
        bodies = {i: credit_note_bodies.pop(i) for i in ids if i in credit_note_bodies}
        bodies.update(_fetch(table, [i for i in ids if i not in bodies]))
        return [row(tenant, bodies[i], i) for i in ids if i in bodies]

    def _fetch(table: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """GET the records in parallel (bounded); a 404/406 on one record is counted and skipped, a 403
        skips the table, anything else (retries exhausted, malformed body) fails the run."""
        prefix = "/v1/payments" if table == "payments" else settings.DETAIL_ENDPOINTS_BY_TABLE[table]
        bodies: dict[str, dict[str, Any]] = {}
        for path, body in api().fetch_each(f"{prefix}/{i}" for i in ids):
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
    voucher_resources = [
        vouchers_list,
        vouchers_list | details("invoices"),
        vouchers_list | details("credit_notes"),
        vouchers_list | details("vouchers"),
        vouchers_list | payments,
    ]
    if mode == "backfill":
        return voucher_resources
    if mode == "events":
        return [scanned_list("contacts")(), *voucher_resources]
    return [
        profile(),
        posting_categories(),
        scanned_list("contacts")(),
        scanned_list("articles")(),
        *voucher_resources,
    ]

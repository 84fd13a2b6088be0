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
from pipelines.lexware.helpers import RunReport, berlin_day, parse_ts, row, windowed_pages

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
VOUCHERLIST_QUERY = {"voucherType": "any", "voucherStatus": "any", "sort": "updatedDate,ASC"}


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
    mode `full`: forget cursors and contact versions, re-extract everything, reconcile deletes.
    `client=None` only builds the resource graph (for Dagster asset definitions).
    """
    tenant = client.name if client else "unbound"
    report = report or RunReport(tenant)
    if client is not None and mode != "backfill":
        state = dlt.current.source_state()
        if mode == "full":
            for name in ("voucherlist", "contacts"):
                state.setdefault("resources", {}).pop(name, None)
            reconcile = True
        if reconcile is None:
            last = state.get("reconciled_at", 0)
            reconcile = time.time() - last >= settings.RECONCILE_EVERY.total_seconds()
        if reconcile:
            state["reconciled_at"] = time.time()  # committed only if the run's load succeeds
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
    def contacts() -> Iterator[dict]:
        def calls() -> Iterator[dict]:
            state = dlt.current.resource_state()
            known: dict[str, int | None] = state.get("versions", {})
            seen: dict[str, int | None] = {}
            for item in client.paginate("/v1/contacts"):
                seen[item["id"]] = item.get("version")
                if known.get(item["id"], -1) != item.get("version"):
                    yield row(tenant, item)
            state["versions"] = seen  # committed with the load package, atomically
            report.complete_scans["contacts"] = set(seen)
        yield from guarded("contacts", calls())

    @dlt.resource(**_merge("voucherlist"))
    def voucherlist(
        updated: dlt.sources.incremental[datetime] = dlt.sources.incremental(  # noqa: B008
            "updatedDate", initial_value=EPOCH),
    ) -> Iterator[list[dict]]:
        def calls() -> Iterator[list[dict]]:
            if mode == "backfill":
                pages = windowed_pages(client, VOUCHERLIST_QUERY, "voucher", voucher_date_from,
                                       voucher_date_to)
            else:
                # Re-read the whole Berlin day of the cursor (the filter has day granularity);
                # a reconciliation lists everything, and dlt still drops rows already loaded.
                since = EPOCH if reconcile else (updated.last_value or EPOCH)
                pages = windowed_pages(client, VOUCHERLIST_QUERY, "updated", berlin_day(since))
            seen: set[str] = set()
            for page in pages:
                seen.update(e["id"] for e in page)
                yield [row(tenant, e, updatedDate=parse_ts(e["updatedDate"])) for e in page]
            if reconcile and mode != "backfill":
                report.complete_scans["voucherlist"] = seen
        yield from guarded("voucherlist", calls())

    def details(table: str) -> DltResource:
        @dlt.transformer(**_merge(table))
        def fetch(entries: list[dict]) -> Iterator[list[dict]]:
            def calls() -> Iterator[list[dict]]:
                endpoint = settings.DETAIL_ENDPOINTS_BY_TABLE[table]
                wanted = [e["id"] for e in entries
                          if settings.DETAIL_ENDPOINTS.get(e.get("voucherType"), ("",))[0] == table]
                yield _collect(table, [(f"{endpoint}/{i}", i) for i in wanted])
            yield from guarded(table, calls())
        return fetch

    @dlt.transformer(**_merge("payments"))
    def payments(entries: list[dict]) -> Iterator[list[dict]]:
        def calls() -> Iterator[list[dict]]:
            wanted = [e["id"] for e in entries if e.get("voucherType") in settings.PAYMENT_TYPES
                      and e.get("voucherStatus") not in settings.NO_PAYMENT_STATUSES]
            yield _collect("payments", [(f"/v1/payments/{i}", i) for i in wanted])
        yield from guarded("payments", calls())

    def _collect(table: str, calls: list[tuple[str, str]]) -> list[dict]:
        """Fetch in parallel (bounded); 404/406 on one record is counted and skipped, a 403 skips
        the table, anything else (retries exhausted, malformed body) fails the run."""
        rows = []
        ids = dict(calls)
        for path, body in client.fetch_each(ids):
            if isinstance(body, NotInPlanError):
                raise body
            if isinstance(body, NotFoundError | ValidationError):
                report.skipped_details[table] = report.skipped_details.get(table, 0) + 1
                continue
            if isinstance(body, Exception):
                raise body
            rows.append(row(tenant, body, ids[path]))
        return rows

    vouchers_list = voucherlist()
    if mode == "backfill":
        vouchers_list = voucherlist(updated=dlt.sources.incremental(
            "updatedDate", initial_value=EPOCH, end_value=FAR_FUTURE))
    voucher_resources = [vouchers_list, vouchers_list | details("invoices"),
                         vouchers_list | details("credit_notes"), vouchers_list | details("vouchers"),
                         vouchers_list | payments]
    if mode == "backfill":
        return voucher_resources
    return [profile(), posting_categories(), contacts(), *voucher_resources]

"""dlt source for one sevDesk tenant (see docs/architecture.md, raw layer contract; reference:
../shared/reference/sevdesk-api.md).

`contacts`, `invoices` and `vouchers` are read incrementally with `updateAfter` (unix seconds, the only
format that works live): from a low-water mark that trails the newest listed `update` by the listing's
duration plus a margin, emitting a row when its `update` is >= the mark and its payload fingerprint
differs from `known` ({id: fingerprint} of the rows at or above the mark as last listed: `update` has
second resolution); both live in the resource's dlt state and are committed with the load package
(the same scheme as the Lexware voucher list). Every RECONCILE_EVERY (or on demand) they are listed in
full so records that vanished can be flagged deleted.

Every other table has no update filter (positions, credit notes, bank transactions and their document
links, contact addresses, communication ways, articles, master data): it is listed in full every run and
a row is emitted only when its payload fingerprint changed since the last run; the full listing doubles
as the deletion scan. sevDesk has no webhooks and no version field.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import dlt
from dlt.extract.resource import DltResource

from pipelines.lexware.errors import NotInPlanError
from pipelines.lexware.helpers import RunReport
from pipelines.sevdesk import settings
from pipelines.sevdesk.client import SevdeskClient
from pipelines.sevdesk.helpers import complete_listing, fingerprint, parse_ts, row

Mode = Literal["incremental", "full"]
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


def _merge(name: str) -> dict[str, Any]:
    return {"name": name, "primary_key": PRIMARY_KEY, "write_disposition": "merge", "columns": COLUMNS}


def _resource(table: str, body: Callable[[], Iterator[list[dict[str, Any]]]]) -> DltResource:
    @dlt.resource(**_merge(table))
    def resource() -> Iterator[list[dict[str, Any]]]:
        yield from body()

    bound: DltResource = resource()
    return bound


@dlt.source(name="sevdesk", max_table_nesting=1)
def sevdesk_source(
    client: SevdeskClient | None = None,
    report: RunReport | None = None,
    mode: Mode = "incremental",
    reconcile: bool | None = None,
) -> list[DltResource]:
    """All resources of one tenant. mode `incremental`: changes since the stored state; `reconcile`
    forces (True) or skips (False) the full ID scan of the updateAfter resources (default: when the last
    one is older than RECONCILE_EVERY). mode `full`: ignore the stored state, re-extract everything and
    reconcile. `client=None` only builds the resource graph (for Dagster asset definitions)."""
    tenant = client.name if client else "unbound"
    report = report or RunReport(tenant)

    def api() -> SevdeskClient:
        """The tenant's client: a graph built without one (Dagster definitions) is never run."""
        if client is None:
            raise RuntimeError("sevdesk_source was built without a client: it only describes the graph")
        return client

    def guarded(
        table: str, calls: Callable[[], Iterator[list[dict[str, Any]]]]
    ) -> Iterator[list[dict[str, Any]]]:
        """A 403 skips that table (reported); the sync goes on."""
        try:
            yield from calls()
        except NotInPlanError as exc:
            report.skip(table, str(exc))

    def incremental(table: str) -> DltResource:
        path, fixed = settings.INCREMENTAL[table]

        def calls() -> Iterator[list[dict[str, Any]]]:
            marks = dlt.current.resource_state()
            reconciled = dlt.current.source_state().setdefault("reconciled_at", {})
            fresh = mode == "full" or "lwm" not in marks
            lwm = EPOCH if fresh else parse_ts(marks["lwm"])
            known: dict[str, str] = {} if fresh else marks.get("known", {})
            due = time.time() - reconciled.get(table, 0) >= settings.RECONCILE_EVERY.total_seconds()
            full_scan = fresh or (due if reconcile is None else reconcile)
            query = dict(fixed) if full_scan else {**fixed, "updateAfter": str(int(lwm.timestamp()))}
            listed: dict[str, str] = {}
            prints: dict[str, str] = {}
            started = time.monotonic()
            for page in complete_listing(api(), path, query):
                listed.update((str(r["id"]), r["update"]) for r in page)
                prints.update((str(r["id"]), fingerprint(r)) for r in page)
                # re-checked client-side (a filter sevDesk ignores silently returns everything); `update`
                # has second resolution, so two edits in one second differ only in the payload fingerprint
                changed = [
                    row(tenant, r)
                    for r in page
                    if parse_ts(r["update"]) >= lwm and known.get(str(r["id"])) != prints[str(r["id"])]
                ]
                if changed:
                    yield changed
            elapsed = timedelta(seconds=time.monotonic() - started)
            # an edit racing the listing has server time >= t0 (first request) and every listed update is
            # <= t0 + elapsed, so t_max - elapsed <= t0: the racing edit is listed again by the next run
            t_max = max(map(parse_ts, listed.values()), default=lwm)
            new_lwm = max(lwm, t_max - elapsed - settings.LWM_MARGIN)
            marks["lwm"] = new_lwm.astimezone(UTC).isoformat()
            marks["known"] = {i: prints[i] for i, u in listed.items() if parse_ts(u) >= new_lwm}
            if full_scan:
                report.complete_scans[table] = set(listed)
                reconciled[table] = time.time()

        return _resource(table, lambda: guarded(table, calls))

    def scanned(table: str, path: str, query: dict[str, Any], paged: bool = True) -> DltResource:
        def calls() -> Iterator[list[dict[str, Any]]]:
            state = dlt.current.resource_state()
            known: dict[str, str] = {} if mode == "full" else state.get("fingerprints", {})
            seen: dict[str, str] = {}
            pages = complete_listing(api(), path, query) if paged else iter([api().objects(path, query)])
            for page in pages:
                prints = {str(r["id"]): fingerprint(r) for r in page}
                seen.update(prints)
                changed = [row(tenant, r) for r in page if known.get(str(r["id"])) != prints[str(r["id"])]]
                if changed:
                    yield changed
            state["fingerprints"] = seen  # committed with the load package, atomically
            report.complete_scans[table] = set(seen)

        return _resource(table, lambda: guarded(table, calls))

    return [
        *(incremental(table) for table in settings.INCREMENTAL),
        *(scanned(table, path, query) for table, (path, query) in settings.SCANNED.items()),
        scanned("tax_rules", *settings.TAX_RULES, paged=False),
    ]

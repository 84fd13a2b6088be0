"""Deletes: records that vanished from a complete list scan, each confirmed before it is flagged.

A list read page by page while another user deletes can skip a live row (the rows behind a deleted
one shift up a page), and the row count still adds up. So a candidate - live in the warehouse, absent
from the scan - is flagged `is_deleted` only when its detail GET answers 404; one that answers is
merely missed and stays live. That costs one request per vanished record, nothing while none vanish.

Confirmed deletions are written to a small file in the tenant's pipeline folder before the load and
applied right after it; a run killed in between applies them when the tenant's next run starts.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from core.warehouse import Warehouse, connect, scalar, tables_in
from pipelines.lexware import settings
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import NotFoundError, NotInPlanError

log = logging.getLogger(__name__)
# `id` is one of a list parameter, on DuckDB and PostgreSQL alike
IN_IDS = "id = ANY(CAST(? AS VARCHAR[]))"


def find_candidates(
    warehouse: Warehouse, tenant: str, complete_scans: dict[str, set[str]]
) -> dict[str, dict[str, Any]]:
    """{scanned table: {id: detail path or None}} of live warehouse rows missing from the scan.
    None: no detail endpoint to ask (posting categories, list-only voucher types); the scan decides."""
    found: dict[str, dict[str, Any]] = {}
    with connect(warehouse) as con:
        existing = tables_in(con, settings.DATASET)
        for scanned, ids in complete_scans.items():
            if scanned not in existing:
                continue
            kind = "raw->>'voucherType'" if scanned == "voucherlist" else "NULL"
            missing = con.execute(
                f'SELECT id, {kind} FROM {settings.DATASET}."{scanned}" '
                f"WHERE tenant_id = ? AND NOT coalesce(is_deleted, false) AND NOT {IN_IDS}",
                [tenant, sorted(ids)],
            ).fetchall()
            if missing:
                found[scanned] = {rid: _detail_path(scanned, rid, kind) for rid, kind in missing}
    return found


def _detail_path(scanned: str, rid: str, voucher_type: str | None) -> str | None:
    if scanned in settings.SCANNED_LISTS:
        return f"{settings.SCANNED_LISTS[scanned]}/{rid}"
    if scanned == "voucherlist" and voucher_type in settings.DETAIL_ENDPOINTS:
        return f"{settings.DETAIL_ENDPOINTS[voucher_type][1]}/{rid}"
    return None


def confirm(client: LexwareClient, candidates: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """The candidates whose detail GET answers 404 (or that have no detail endpoint)."""
    deleted: dict[str, list[str]] = {}
    for scanned, paths in candidates.items():
        for rid, path in sorted(paths.items()):
            if path is not None:
                try:
                    client.get(path)
                except NotFoundError:
                    pass
                except NotInPlanError:
                    log.warning(
                        "tenant %s: cannot confirm %s %s (403); trusting the list scan",
                        client.name,
                        scanned,
                        rid,
                    )
                else:
                    log.info(
                        "tenant %s: %s %s was missed by the list scan, not deleted", client.name, scanned, rid
                    )
                    continue
            deleted.setdefault(scanned, []).append(rid)
    return deleted


def pending_path(pipeline_dir: str | os.PathLike[str]) -> Path:
    return Path(pipeline_dir) / "pending_deletes.json"


def save_pending(path: Path, deleted: dict[str, list[str]]) -> None:
    """Record confirmed deletions (merged with any not yet applied) atomically."""
    if not deleted:
        return
    merged = load_pending(path)
    for scanned, ids in deleted.items():
        merged[scanned] = sorted(set(merged.get(scanned, [])) | set(ids))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(merged), encoding="utf-8")
    os.replace(tmp, path)


def load_pending(path: Path) -> dict[str, list[str]]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def apply_pending(warehouse: Warehouse, tenant: str, path: Path) -> dict[str, int]:
    """Flag the recorded deletions `is_deleted` (a vanished voucherlist id flags its detail rows too),
    then forget them. Call while holding the warehouse lock. Returns rows flagged per table."""
    by_table: dict[str, list[str]] = {}
    for scanned, ids in load_pending(path).items():
        for table in settings.VOUCHER_TABLES if scanned == "voucherlist" else (scanned,):
            by_table.setdefault(table, []).extend(ids)
    flagged = flag_deleted(warehouse, settings.DATASET, tenant, by_table)
    path.unlink(missing_ok=True)
    return flagged


def flag_deleted(
    warehouse: Warehouse, dataset: str, tenant: str, ids_by_table: dict[str, list[str]]
) -> dict[str, int]:
    """Set `is_deleted` on the tenant's rows with these ids, per table of `dataset` (one transaction; the
    last payload stays). Call while holding the warehouse lock. Returns rows flagged per table."""
    flagged: dict[str, int] = {}
    if not ids_by_table:
        return flagged
    with connect(warehouse) as con:
        existing = tables_in(con, dataset)
        con.execute("BEGIN")
        for table, ids in ids_by_table.items():
            if table in existing:
                n = scalar(
                    con,
                    f'UPDATE {dataset}."{table}" SET is_deleted = true '
                    f"WHERE tenant_id = ? AND NOT coalesce(is_deleted, false) AND {IN_IDS}",
                    [tenant, ids],
                )
                if n:
                    flagged[table] = n
        con.execute("COMMIT")
    log.warning("tenant %s: flagged deleted at the source: %s", tenant, flagged)
    return flagged

"""Deletes: records that vanished from a complete scan, each confirmed before it is flagged `is_deleted`
(the Lexware scheme, pipelines/lexware/deletes.py, whose pending-file helpers are reused).

Offset paging while another user deletes can skip a live row, so a candidate - live in the warehouse,
absent from the scan - is flagged only when sevDesk confirms it is gone: its GET by id answers 404 (code
151), or, for a bank transaction, comes back with `deletedAt` set; a position is gone when its parent's
position list no longer holds it. Tables without a lookup (payment links, master data) trust the scan."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from core.warehouse import Warehouse, connect, tables_in
from pipelines.lexware.deletes import IN_IDS, flag_deleted, load_pending, pending_path, save_pending
from pipelines.lexware.errors import NotFoundError, NotInPlanError
from pipelines.sevdesk import settings
from pipelines.sevdesk.client import SevdeskClient

log = logging.getLogger(__name__)
__all__ = ["apply_pending", "confirm", "find_candidates", "pending_path", "save_pending"]


def find_candidates(
    warehouse: Warehouse, tenant: str, complete_scans: dict[str, set[str]]
) -> dict[str, dict[str, Any]]:
    """{table: {id: last payload}} of live warehouse rows missing from the table's complete scan."""
    found: dict[str, dict[str, Any]] = {}
    with connect(warehouse) as con:
        existing = tables_in(con, settings.DATASET)
        for table, ids in complete_scans.items():
            if table not in existing:
                continue
            missing = con.execute(
                f'SELECT id, raw FROM {settings.DATASET}."{table}" '
                f"WHERE tenant_id = ? AND NOT coalesce(is_deleted, false) AND NOT {IN_IDS}",
                [tenant, sorted(ids)],
            ).fetchall()
            if missing:
                found[table] = {rid: json.loads(raw) for rid, raw in missing}
    return found


def confirm(client: SevdeskClient, candidates: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """The candidates sevDesk confirms gone (or that have no way to ask)."""
    deleted: dict[str, list[str]] = {}
    parents: dict[tuple[str, str], set[str]] = {}  # (table, parent id) -> its position ids
    for table, rows in candidates.items():
        for rid, raw in sorted(rows.items()):
            if _gone(client, table, rid, raw, parents):
                deleted.setdefault(table, []).append(rid)
            else:
                log.info("tenant %s: %s %s was missed by the list scan, not deleted", client.name, table, rid)
    return deleted


def _gone(
    client: SevdeskClient, table: str, rid: str, raw: dict[str, Any], parents: dict[tuple[str, str], set[str]]
) -> bool:
    try:
        if table in settings.DETAIL_PATHS:
            found = client.objects(f"{settings.DETAIL_PATHS[table]}/{rid}")
            return bool(found) and bool(found[0].get("deletedAt"))
        if table in settings.POSITION_PARENTS:
            path, field, model = settings.POSITION_PARENTS[table]
            parent = str((raw.get(field) or {}).get("id"))
            if (table, parent) not in parents:
                query = {f"{field}[id]": parent, f"{field}[objectName]": model}
                parents[(table, parent)] = {str(p["id"]) for p in client.objects(path, query)}
            return rid not in parents[(table, parent)]
    except NotFoundError:
        return True
    except NotInPlanError:
        log.warning("tenant %s: cannot confirm %s %s (403); trusting the list scan", client.name, table, rid)
    return True


def apply_pending(warehouse: Warehouse, tenant: str, path: Path) -> dict[str, int]:
    """Flag the recorded deletions `is_deleted` (the last payload stays), then forget them. Call while
    holding the warehouse lock. Returns rows flagged per table."""
    flagged = flag_deleted(warehouse, settings.DATASET, tenant, load_pending(path))
    path.unlink(missing_ok=True)
    return flagged

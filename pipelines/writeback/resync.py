"""After write-back: pull the touched records into the raw layer right away, through the extraction code.

An incremental sync is exactly the right tool: our PUTs bumped each record's `version` (contacts are
re-emitted when their version changed) and `updatedDate` (vouchers come back through the voucher
list cursor), so the sync fetches the touched records and little else, shares the tenant's rate
budget, and merges them into `raw_lexware` with dlt like any other change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from core.config import KontorConfig
from core.warehouse import connect
from pipelines.lexware import settings
from pipelines.lexware.deletes import IN_IDS
from pipelines.lexware.sync import sync_tenant

log = logging.getLogger(__name__)


@dataclass
class ResyncResult:
    tenant: str
    requests: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)  # touched records raw still shows in an older version


def resync_touched(
    config: KontorConfig, touched: dict[str, dict[str, dict[str, int | None]]]
) -> list[ResyncResult]:
    """Incrementally sync every touched tenant, then check raw holds at least the written versions.

    ``touched``: tenant -> resource (``contacts`` / ``vouchers``) -> remote id -> version we wrote.
    """
    results = []
    for tenant in sorted(touched):
        if config.tenant(tenant).system == "sevdesk":  # no version to compare: the sync is the check
            from pipelines.sevdesk.sync import sync_tenant as sync_sevdesk

            sync = sync_sevdesk(config, tenant, mode="incremental", reconcile=False)
            results.append(ResyncResult(tenant, sync.client.get("requests", 0), sync.rows))
            continue
        sync = sync_tenant(config, tenant, mode="incremental", reconcile=False)
        result = ResyncResult(tenant, sync.client.get("requests", 0), sync.rows)
        for resource, versions in touched[tenant].items():
            raw = raw_versions(config, tenant, resource, list(versions))
            result.stale += [
                f"{resource}/{rid}"
                for rid, v in versions.items()
                if v is not None and (raw.get(rid) or 0) < v
            ]
        if result.stale:
            log.warning("tenant %s: raw still shows older versions of %s", tenant, result.stale)
        results.append(result)
    return results


def raw_versions(config: KontorConfig, tenant: str, table: str, ids: list[str]) -> dict[str, int]:
    """The `version` raw_lexware holds for these records (a short read)."""
    with connect(config.warehouse) as con:
        return dict(
            con.execute(
                f'SELECT id, version FROM {settings.DATASET}."{table}" WHERE tenant_id = ? AND {IN_IDS}',
                [tenant, ids],
            ).fetchall()
        )

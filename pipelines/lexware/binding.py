"""Tenant binding: every tenant reads exactly one Lexware organisation.

A key names no organisation by itself, so a key of another organisation put into a tenant's variable
would load that organisation's books under the tenant's name. Every run therefore reads
`GET /v1/profile` first (the `profile` resource reuses the answer, so this costs no request) and
compares its `organizationId` with the tenant's binding:

- `organization_id` pinned for the tenant in kontor.yaml, else
- the organisation recorded in `kontor.tenant_bindings` at the tenant's first sync, else
- for warehouses older than the bindings table, the tenant's rows in `raw_lexware.profile`.

A mismatch, or an organisation already bound to another tenant, raises `TenantBindingError` naming
the tenant and both organisations before any data request. The warehouse is read before the key is
asked (`read`), so the answer is compared in memory and the tenant's first data request follows it at
once; only a first sync writes afterwards (checked again in the same connection as its record). An
operator re-binds deliberately with `python -m pipelines.cli rebind --tenant NAME [--purge]`
(docs/operations.md).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.config import KontorConfig, TenantConfig
from core.locks import tenant_lock
from core.warehouse import connect, create_objects, scalar, tables_in, warehouse_lock
from pipelines.lexware import settings
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import NotInPlanError, TenantBindingError

log = logging.getLogger(__name__)

SCHEMA = "kontor"
TABLE = f"{SCHEMA}.tenant_bindings"
SCHEMA_SQL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {TABLE} (
    tenant           VARCHAR PRIMARY KEY,   -- the tenant name of kontor.yaml (tenant_id in every table)
    organization_id  VARCHAR NOT NULL,      -- organizationId of GET /v1/profile
    company_name     VARCHAR,
    bound_at         TIMESTAMPTZ NOT NULL,
    bound_by         VARCHAR NOT NULL       -- first sync | rebind
);
"""


@dataclass(frozen=True)
class Organisation:
    """The organisation a key answers for (or a tenant is bound to)."""

    id: str
    company: str | None = None

    def __str__(self) -> str:
        return f"{self.id} ({self.company!r})" if self.company else self.id


def answering(client: LexwareClient) -> Organisation | None:
    """The organisation the client's key answers for; None if /v1/profile is outside the key's plan."""
    try:
        body = client.profile()
    except NotInPlanError:
        return None
    return Organisation(body["organizationId"], body.get("companyName"))


@dataclass(frozen=True)
class Known:
    """What the warehouse tells about a tenant's binding, read before its key is asked, so the answer
    is compared in memory and the tenant's next request follows without a round of queries."""

    expected: Organisation | None  # the organisation the tenant must answer for (None: first sync)
    source: str | None  # where `expected` comes from, for the error message
    recorded: Organisation | None  # the binding in kontor.tenant_bindings
    others: dict[str, str]  # organisation id -> the other tenant bound to it (recorded, else by rows)


def read(con: Any, tenant: TenantConfig) -> Known:
    """The tenant's binding and every other tenant's, on an open warehouse connection (under the lock)."""
    recorded = _recorded(con, tenant.name)
    expected, source = _expected(con, tenant)
    return Known(expected, source, recorded, _others(con, tenant.name))


def check(
    config: KontorConfig, tenant: TenantConfig, client: LexwareClient, known: Known | None = None
) -> Organisation | None:
    """Verify the key answers for the tenant's organisation; record the binding at the first sync.
    Raises `TenantBindingError` before any data request; returns the organisation (None: unverifiable,
    /v1/profile not in plan - logged). `known`: `read` already (else it is read here, before asking)."""
    if known is None:
        with warehouse_lock(config.warehouse), connect(config.warehouse) as con:
            known = read(con, tenant)
    actual = answering(client)
    if actual is None:
        log.warning(
            "tenant %s: /v1/profile is outside the key's plan; its organisation is unverified", tenant.name
        )
        return None
    _verify(tenant, actual, known, known.others.get(actual.id))
    if known.recorded is None:  # the first sync: checked again with the record, another may have bound it
        with warehouse_lock(config.warehouse), connect(config.warehouse) as con:
            _verify(tenant, actual, known, _bound_elsewhere(con, tenant.name, actual.id))
            _record(con, tenant.name, actual, "first sync")
    return actual


def _verify(tenant: TenantConfig, actual: Organisation, known: Known, other: str | None) -> None:
    """Raise `TenantBindingError` unless `actual` is the tenant's organisation and no other tenant's."""
    if known.expected is not None and known.expected.id != actual.id:
        raise TenantBindingError(
            tenant.name,
            (
                f"the API key in {tenant.api_key_env} answers for organisation {actual}, but the tenant "
                f"is bound to organisation {known.expected} ({known.source}); stopped before any data "
                f"request, nothing loaded. Fix {tenant.api_key_env}, or re-bind deliberately: "
                f"python -m pipelines.cli rebind --tenant {tenant.name} --purge"
            ),
        )
    if known.recorded is not None and known.recorded.id != actual.id:  # pinned anew, rows of another org
        raise TenantBindingError(
            tenant.name,
            (
                f"kontor.yaml pins organisation {actual.id}, "
                "but the warehouse holds the tenant's rows of "
                f"organisation {known.recorded}; stopped before any data request. Re-bind deliberately: "
                f"python -m pipelines.cli rebind --tenant {tenant.name} --purge"
            ),
        )
    if other:
        raise TenantBindingError(
            tenant.name,
            (
                f"the API key in {tenant.api_key_env} answers for organisation {actual}, which is "
                f"already bound to tenant {other!r}: two tenants would hold the same books; stopped "
                f"before any data request, nothing loaded. Fix {tenant.api_key_env}"
            ),
        )


def bindings(config: KontorConfig) -> dict[str, Organisation]:
    """tenant -> the organisation recorded for it."""
    with warehouse_lock(config.warehouse), connect(config.warehouse) as con:
        create_objects(con, SCHEMA_SQL)
        rows = con.execute(f"SELECT tenant, organization_id, company_name FROM {TABLE}").fetchall()
    return {t: Organisation(o, c) for t, o, c in rows}


@dataclass
class RebindResult:
    tenant: str
    previous: Organisation | None
    current: Organisation
    purged_rows: dict[str, int]


def rebind(
    config: KontorConfig, tenant: TenantConfig, client: LexwareClient, *, purge: bool, keep_rows: bool = False
) -> RebindResult:
    """Bind the tenant to the organisation its key answers for now. `purge` deletes the tenant's raw
    rows and its extraction state first (the next sync reads the organisation from scratch);
    without it, rows of a previous organisation are refused unless `keep_rows`."""
    from pipelines.lexware.sync import pipeline_for  # sync imports this module

    actual = answering(client)
    if actual is None:
        raise TenantBindingError(
            tenant.name,
            "/v1/profile is outside the key's plan: cannot tell which organisation the key answers for",
        )
    if tenant.organization_id and tenant.organization_id != actual.id:
        raise TenantBindingError(
            tenant.name,
            (
                f"the API key in {tenant.api_key_env} answers for organisation {actual}, "
                "but kontor.yaml pins "
                f"organization_id {tenant.organization_id}: change the pin first"
            ),
        )
    with tenant_lock(config, tenant.name), warehouse_lock(config.warehouse), connect(config.warehouse) as con:
        previous, _ = _expected(con, tenant, pinned=False)
        others = _bound_elsewhere(con, tenant.name, actual.id)
        if others:
            raise TenantBindingError(tenant.name, f"organisation {actual} is bound to tenant {others!r}")
        rows = _tenant_rows(con, tenant.name)
        moved = previous is not None and previous.id != actual.id
        if moved and any(rows.values()) and not (purge or keep_rows):
            raise TenantBindingError(
                tenant.name,
                (
                    f"holds {sum(rows.values())} raw rows of organisation {previous}: add --purge to delete "
                    "them (the next sync reads the new organisation from scratch) or --keep-rows to keep them"
                ),
            )
        purged: dict[str, int] = {}
        if purge:
            purged = _purge(con, tenant.name, f"kontor_lexware_{tenant.name}")
            shutil.rmtree(pipeline_for(config, tenant).working_dir, ignore_errors=True)
        _record(con, tenant.name, actual, "rebind")
    log.info("tenant %s: bound to organisation %s (was %s); purged %s", tenant.name, actual, previous, purged)
    return RebindResult(tenant.name, previous, actual, purged)


# -- internals -----------------------------------------------------------------------------------------
def _expected(con: Any, tenant: TenantConfig, pinned: bool = True) -> tuple[Organisation | None, str | None]:
    if pinned and tenant.organization_id:
        return Organisation(tenant.organization_id), "pinned as organization_id in kontor.yaml"
    recorded = _recorded(con, tenant.name)
    if recorded is not None:
        return recorded, "recorded at its first sync"
    legacy = _profile_rows(con, "tenant_id = ?", [tenant.name])
    if len(legacy) > 1:
        return Organisation(" and ".join(sorted(legacy))), "its raw rows mix several organisations"
    if legacy:
        return Organisation(legacy[0]), "its rows in raw_lexware.profile"
    return None, None


def _recorded(con: Any, tenant: str) -> Organisation | None:
    create_objects(con, SCHEMA_SQL)
    row = con.execute(
        f"SELECT organization_id, company_name FROM {TABLE} WHERE tenant = ?", [tenant]
    ).fetchone()
    return Organisation(*row) if row else None


def _bound_elsewhere(con: Any, tenant: str, organization_id: str) -> str | None:
    row = con.execute(
        f"SELECT tenant FROM {TABLE} WHERE organization_id = ? AND tenant <> ? ORDER BY tenant LIMIT 1",
        [organization_id, tenant],
    ).fetchone()
    if row:
        bound: str = row[0]
        return bound
    recorded = {r[0] for r in con.execute(f"SELECT tenant FROM {TABLE}").fetchall()}
    if "profile" not in tables_in(con, settings.DATASET):
        return None
    legacy = con.execute(
        f"SELECT DISTINCT tenant_id FROM {settings.DATASET}.profile WHERE id = ? AND tenant_id <> ? "
        "AND NOT coalesce(is_deleted, false) ORDER BY 1",
        [organization_id, tenant],
    ).fetchall()
    return next((r[0] for r in legacy if r[0] not in recorded), None)


def _others(con: Any, tenant: str) -> dict[str, str]:
    """`_bound_elsewhere` for every organisation at once: organisation id -> the first other tenant
    recorded for it, else the first unrecorded tenant whose profile rows name it (older warehouses)."""
    recorded = con.execute(f"SELECT tenant, organization_id FROM {TABLE} ORDER BY tenant DESC").fetchall()
    by_rows: dict[str, str] = {}
    if "profile" in tables_in(con, settings.DATASET):
        legacy = con.execute(
            f"SELECT DISTINCT id, tenant_id FROM {settings.DATASET}.profile WHERE tenant_id <> ? "
            "AND NOT coalesce(is_deleted, false) ORDER BY 2 DESC",
            [tenant],
        ).fetchall()
        bound = {t for t, _ in recorded}
        by_rows = {org: t for org, t in legacy if t not in bound}  # descending: the first tenant wins
    return {**by_rows, **{org: t for t, org in recorded if t != tenant}}


def _profile_rows(con: Any, where: str, params: list[Any]) -> list[str]:
    if "profile" not in tables_in(con, settings.DATASET):
        return []
    return [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT id FROM {settings.DATASET}.profile WHERE {where} "
            "AND NOT coalesce(is_deleted, false) ORDER BY 1",
            params,
        ).fetchall()
    ]


def _tenant_rows(con: Any, tenant: str) -> dict[str, int]:
    existing = tables_in(con, settings.DATASET)
    return {
        t: scalar(con, f'SELECT count(*) FROM {settings.DATASET}."{t}" WHERE tenant_id = ?', [tenant])
        for t in settings.TABLES
        if t in existing
    }


def _purge(con: Any, tenant: str, pipeline_name: str) -> dict[str, int]:
    """Delete the tenant's raw rows (and their nested child rows) and its dlt state, in one transaction."""
    existing = tables_in(con, settings.DATASET)
    purged = {}
    con.execute("BEGIN")
    for table in settings.TABLES:
        if table not in existing:
            continue
        for child in sorted(t for t in existing if t.startswith(f"{table}__")):
            con.execute(
                f'DELETE FROM {settings.DATASET}."{child}" WHERE _dlt_root_id IN (SELECT _dlt_id FROM '
                f'{settings.DATASET}."{table}" WHERE tenant_id = ?)',
                [tenant],
            )
        purged[table] = scalar(con, f'DELETE FROM {settings.DATASET}."{table}" WHERE tenant_id = ?', [tenant])
    if "_dlt_pipeline_state" in existing:
        con.execute(
            f"DELETE FROM {settings.DATASET}._dlt_pipeline_state WHERE pipeline_name = ?", [pipeline_name]
        )
    con.execute("COMMIT")
    return purged


def _record(con: Any, tenant: str, org: Organisation, how: str) -> None:
    """Bind `tenant` to `org` (the table exists: `_recorded` created it on this warehouse)."""
    con.execute(
        f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET "
        "organization_id = excluded.organization_id, company_name = excluded.company_name, "
        "bound_at = excluded.bound_at, bound_by = excluded.bound_by",
        [tenant, org.id, org.company, datetime.now(UTC), how],
    )

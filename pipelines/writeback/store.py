"""The ``writeback`` schema in the warehouse: corrections, audit trail, operation journal.

Every function opens the DuckDB file for one short transaction and closes it again, so analysts and
other jobs get the file back between steps, and every recorded step is durable before the next
request goes out (the exactly-once logic relies on that).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from core.config import PostgresWarehouse, load_config
from core.warehouse import (
    Warehouse,
    WarehouseUnreachable,
    connect,
    create_objects,
    engine_of,
    scalar,
    tables_in,
    warehouse_lock,
)
from pipelines.lexware.settings import DATASET
from pipelines.writeback.fields import ENTITIES, EntitySpec
from pipelines.writeback.model import FINAL, IN_FLIGHT, PENDING, STATUSES, Correction


def _known_fields_check(engine: str = "duckdb") -> str:
    """CHECK of writeback.corrections: a pending row names a field the field map knows (writable or
    read-only with a reason), else the insert fails with the writable fields listed. Rows of entities
    that are not writable, and rejected rows (file imports keep their reason), pass: validation says why."""
    entity = "regexp_replace(replace(lower(trim(entity)), '-', '_'), 's$', '')"
    field = "lower(trim(field))"
    specs = {spec.name: spec for spec in ENTITIES.values()}  # bill and voucher share one spec

    def quoted(names: Iterable[str]) -> str:
        return ", ".join(f"'{n}'" for n in sorted(names))

    def aliases(spec: EntitySpec) -> str:
        return quoted(a for a, s in ENTITIES.items() if s is spec)

    known = " OR ".join(
        f"({entity} IN ({aliases(spec)}) AND {field} IN ({quoted([*spec.fields, *spec.read_only])}))"
        for spec in specs.values()
    )
    writable = " ".join(
        f"WHEN {entity} IN ({aliases(spec)}) THEN '{', '.join(sorted(spec.fields))}'"
        for spec in specs.values()
    )
    message = (
        f"'unknown field ''' || field || ''' for ' || {entity} || ' (writable: ' || "
        f"CASE {writable} END || ')'"
    )
    fail = "writeback.refuse" if engine == "postgres" else "error"  # raise with the message
    return (
        f"CHECK (CASE WHEN status <> 'pending' OR {entity} NOT IN ({quoted(ENTITIES)}) OR {known} "
        f"THEN true ELSE {fail}({message}) END)"
    )


# PostgreSQL has no error(): the CHECK calls this function, which raises the message
_PG_REFUSE = """
CREATE OR REPLACE FUNCTION writeback.refuse(message TEXT) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'check_violation';
END $$;
"""


def schema_sql(engine: str = "duckdb") -> str:
    """The DDL of the ``writeback`` schema for the warehouse's engine (idempotent)."""
    sql = _SCHEMA_TEMPLATE.replace("{known_fields_check}", _known_fields_check(engine))
    if engine == "postgres":
        head, _, rest = sql.partition("CREATE SEQUENCE")
        return head + _PG_REFUSE + "CREATE SEQUENCE" + rest
    return sql


_SCHEMA_TEMPLATE = f"""
CREATE SCHEMA IF NOT EXISTS writeback;
CREATE SEQUENCE IF NOT EXISTS writeback.corrections_id_seq;
CREATE TABLE IF NOT EXISTS writeback.corrections (
    id                  BIGINT PRIMARY KEY DEFAULT nextval('writeback.corrections_id_seq'),
    tenant              VARCHAR NOT NULL,
    entity              VARCHAR NOT NULL,      -- contact | bill | voucher
    record_id           VARCHAR NOT NULL,      -- CDM id (lexware:<tenant>:<id>) or the Lexware id
    field               VARCHAR NOT NULL,      -- CDM field name, see pipelines/writeback/fields.py
    new_value           VARCHAR,               -- NULL clears the field
    expected_old_value  VARCHAR,               -- the value the analyst saw (NULL = empty)
    status              VARCHAR NOT NULL DEFAULT 'pending'
                        CHECK (status IN ({", ".join(f"'{s}'" for s in STATUSES)})),
    reason              VARCHAR,
    source              VARCHAR DEFAULT 'sql', -- sql | file:<name>
    created_at          TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    updated_at          TIMESTAMPTZ,
    attempts            INTEGER NOT NULL DEFAULT 0,
    version_before      BIGINT,                -- the version our (last) PUT was based on
    applied_version     BIGINT,                -- the version after our change
    run_id              VARCHAR,               -- the job run that last worked on it
    {{known_fields_check}}
);
CREATE SEQUENCE IF NOT EXISTS writeback.audit_id_seq;
CREATE TABLE IF NOT EXISTS writeback.audit (
    id              BIGINT PRIMARY KEY DEFAULT nextval('writeback.audit_id_seq'),
    correction_id   BIGINT,
    operation_id    VARCHAR,
    run_id          VARCHAR,
    tenant          VARCHAR NOT NULL,
    resource        VARCHAR NOT NULL,          -- e.g. /v1/contacts/<id>
    action          VARCHAR NOT NULL,          -- validate | plan | put | post | upload | lookup
    attempt         INTEGER,
    version_before  BIGINT,
    version_after   BIGINT,
    http_status     INTEGER,
    outcome         VARCHAR NOT NULL,
    detail          VARCHAR,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ NOT NULL
);
-- what the write could guarantee: version_checked (Lexware) | compare_before_write (sevDesk)
ALTER TABLE writeback.audit ADD COLUMN IF NOT EXISTS guarantee VARCHAR;
CREATE TABLE IF NOT EXISTS writeback.operations (
    id              VARCHAR PRIMARY KEY,       -- the caller's idempotency key
    tenant          VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,          -- create_voucher_with_file
    voucher_number  VARCHAR,
    request_sha256  VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,          -- started | voucher_created | completed | failed
    voucher_id      VARCHAR,
    file_id         VARCHAR,
    voucher_version BIGINT,
    error           VARCHAR,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
"""

SCHEMA_SQL = schema_sql("duckdb")
_CORRECTION_COLS = (
    "id, tenant, entity, record_id, field, new_value, expected_old_value, status, reason, source, "
    "attempts, applied_version, version_before"
)


def now() -> datetime:
    return datetime.now(UTC)


def warehouse_path(path: str | os.PathLike[str] | PostgresWarehouse | None = None) -> Warehouse:
    """The warehouse: an explicit DuckDB path (or PostgreSQL warehouse), else `warehouse:` of kontor.yaml
    (or `$KONTOR_CONFIG`)."""
    if isinstance(path, PostgresWarehouse):
        return path
    return Path(path) if path else load_config().warehouse


@dataclass(frozen=True)
class WritebackStore:
    """Short-lived transactions against the ``writeback`` schema of one warehouse (DuckDB or PostgreSQL)."""

    path: Warehouse

    @classmethod
    def open(cls, path: str | os.PathLike[str] | PostgresWarehouse | None = None) -> WritebackStore:
        store = cls(warehouse_path(path))
        if isinstance(store.path, Path):
            store.path.parent.mkdir(parents=True, exist_ok=True)
        with store.connect() as con:
            create_objects(con, schema_sql(engine_of(con)))
        return store

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """One short transaction under the warehouse's write lock (waits while a load holds it)."""
        with warehouse_lock(self.path):
            con = connect(self.path)
            try:
                con.execute("BEGIN")
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                con.close()

    # --- corrections -------------------------------------------------------------------------
    def insert_corrections(self, corrections: list[Correction], source: str) -> list[int]:
        """Insert corrections (pending, or rejected with a reason) in one transaction; returns their ids."""
        ids = []
        with self.connect() as con:
            for c in corrections:
                ids.append(
                    scalar(
                        con,
                        "INSERT INTO writeback.corrections (tenant, entity, record_id, field, new_value, "
                        "expected_old_value, source, status, reason, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        [
                            _text(c.tenant) or "",
                            _text(c.entity) or "",
                            _text(c.record_id) or "",
                            _text(c.field) or "",
                            _text(c.new_value),
                            _text(c.expected_old_value),
                            source,
                            c.status,
                            c.reason,
                            now(),
                        ],
                    )
                )
        return ids

    def open_corrections(self, tenant: str | None = None, ids: list[int] | None = None) -> list[Correction]:
        """Corrections still to do: pending ones and in-flight ones left by an interrupted run."""
        sql = f"SELECT {_CORRECTION_COLS} FROM writeback.corrections WHERE status IN (?, ?)"
        params: list[Any] = [PENDING, IN_FLIGHT]
        if tenant is not None:
            sql += " AND tenant = ?"
            params.append(tenant)
        if ids is not None:
            sql += f" AND id IN ({', '.join('?' * len(ids)) or 'NULL'})"
            params.extend(ids)
        with self.connect() as con:
            rows = con.execute(sql + " ORDER BY id", params).fetchall()
        return [_correction(r) for r in rows]

    def get(self, correction_id: int) -> Correction:
        with self.connect() as con:
            row = con.execute(
                f"SELECT {_CORRECTION_COLS} FROM writeback.corrections WHERE id = ?", [correction_id]
            ).fetchone()
        if row is None:
            raise KeyError(f"correction {correction_id} does not exist")
        return _correction(row)

    def set_status(
        self,
        correction_id: int,
        status: str,
        reason: str | None = None,
        *,
        run_id: str | None = None,
        version_before: int | None = None,
        applied_version: int | None = None,
        attempts: int | None = None,
    ) -> None:
        """Move a correction along its life cycle (final states also get their reason)."""
        assert status in STATUSES, status
        with self.connect() as con:
            con.execute(
                "UPDATE writeback.corrections SET status = ?, reason = ?, updated_at = ?, "
                "run_id = coalesce(?, run_id), version_before = coalesce(?, version_before), "
                "applied_version = coalesce(?, applied_version), attempts = coalesce(?, attempts) "
                "WHERE id = ?",
                [status, reason, now(), run_id, version_before, applied_version, attempts, correction_id],
            )

    def count_by_status(self) -> dict[str, int]:
        with self.connect() as con:
            rows = con.execute("SELECT status, count(*) FROM writeback.corrections GROUP BY 1").fetchall()
        return dict(rows)

    def record_tenants(self, table: str, remote_id: str, dataset: str = DATASET) -> list[str]:
        """The tenants whose raw layer (`raw_lexware` unless told) holds this record."""
        with self.connect() as con:
            if table not in tables_in(con, dataset):
                return []
            return [
                r[0]
                for r in con.execute(
                    f'SELECT DISTINCT tenant_id FROM {dataset}."{table}" WHERE id = ? ORDER BY 1', [remote_id]
                ).fetchall()
            ]

    # --- audit -------------------------------------------------------------------------------
    def audit(
        self,
        *,
        tenant: str,
        resource: str,
        action: str,
        outcome: str,
        started_at: datetime,
        correction_id: int | None = None,
        operation_id: str | None = None,
        run_id: str | None = None,
        attempt: int | None = None,
        version_before: int | None = None,
        version_after: int | None = None,
        http_status: int | None = None,
        detail: str | None = None,
        guarantee: str | None = None,
    ) -> None:
        """Record one attempt. Never pass secrets: the detail is an error message or a diff."""
        with self.connect() as con:
            con.execute(
                "INSERT INTO writeback.audit (correction_id, operation_id, run_id, tenant, resource, "
                "action, attempt, version_before, version_after, http_status, outcome, detail, started_at, "
                "finished_at, guarantee) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    correction_id,
                    operation_id,
                    run_id,
                    tenant,
                    resource,
                    action,
                    attempt,
                    version_before,
                    version_after,
                    http_status,
                    outcome,
                    detail,
                    started_at,
                    now(),
                    guarantee,
                ],
            )

    def audit_rows(
        self, correction_id: int | None = None, operation_id: str | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM writeback.audit WHERE true"
        params: list[Any] = []
        if correction_id is not None:
            sql, params = sql + " AND correction_id = ?", [*params, correction_id]
        if operation_id is not None:
            sql, params = sql + " AND operation_id = ?", [*params, operation_id]
        with self.connect() as con:
            cur = con.execute(sql + " ORDER BY id", params)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    # --- operation journal -------------------------------------------------------------------
    def operation(self, op_id: str) -> dict[str, Any] | None:
        with self.connect() as con:
            cur = con.execute("SELECT * FROM writeback.operations WHERE id = ?", [op_id])
            row = cur.fetchone()
            return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))

    def start_operation(
        self, op_id: str, tenant: str, kind: str, voucher_number: str | None, request_sha256: str
    ) -> dict[str, Any]:
        """The journal row for ``op_id``, created on first call."""
        with self.connect() as con:
            con.execute(
                "INSERT INTO writeback.operations (id, tenant, kind, voucher_number, request_sha256, status, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'started', ?, ?) ON CONFLICT DO NOTHING",
                [op_id, tenant, kind, voucher_number, request_sha256, now(), now()],
            )
        journal = self.operation(op_id)
        if journal is None:
            raise RuntimeError(f"operation {op_id!r}: journal row missing right after its insert")
        return journal

    def update_operation(self, op_id: str, **values: Any) -> None:
        allowed = {"status", "voucher_id", "file_id", "voucher_version", "error"}
        assert set(values) <= allowed, values
        sets = ", ".join(f"{k} = ?" for k in values)
        with self.connect() as con:
            con.execute(
                f"UPDATE writeback.operations SET {sets}, updated_at = ? WHERE id = ?",
                [*values.values(), now(), op_id],
            )


def _text(value: Any) -> str | None:
    """Values are stored as text; YAML dates/numbers keep their printed form."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _correction(row: tuple[Any, ...]) -> Correction:
    (
        cid,
        tenant,
        entity,
        record_id,
        field,
        new,
        expected,
        status,
        reason,
        source,
        attempts,
        applied,
        version_before,
    ) = row
    return Correction(
        tenant=tenant,
        entity=entity,
        record_id=record_id,
        field=field,
        new_value=new,
        expected_old_value=expected,
        id=cid,
        status=status,
        reason=reason,
        source=source,
        attempts=attempts,
        applied_version=applied,
        version_before=version_before,
    )


__all__ = ["FINAL", "SCHEMA_SQL", "WritebackStore", "pending_summary", "schema_sql", "warehouse_path"]


def pending_summary(path: str | os.PathLike[str] | PostgresWarehouse) -> tuple[int, str] | None:
    """(number of corrections still to do - pending, or in_flight after an interrupted run -, a digest
    of their ids, statuses and attempts), or None if the file is busy/not set up. The digest changes
    whenever that set changes, also when a `gave_up` row is put back to `pending`. Never waits: for
    sensors that poll."""
    sql = (
        "SELECT count(*), md5(coalesce(string_agg(CAST(id AS VARCHAR) || ':' || status || ':' || "
        "CAST(attempts AS VARCHAR), ',' ORDER BY id), '')) "
        "FROM writeback.corrections WHERE status IN (?, ?)"
    )
    if isinstance(path, PostgresWarehouse):
        return _pending_summary_postgres(path, sql)
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute(sql, [PENDING, IN_FLIGHT]).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()


def _pending_summary_postgres(warehouse: PostgresWarehouse, sql: str) -> tuple[int, str] | None:
    import psycopg2

    try:
        with connect(warehouse) as con:
            if "corrections" not in tables_in(con, "writeback"):
                return None
            row = con.execute(sql, [PENDING, IN_FLIGHT]).fetchone()
    except (psycopg2.Error, WarehouseUnreachable):
        return None
    return (int(row[0]), row[1]) if row else None

"""The warehouse: a DuckDB file (the embedded default) or a PostgreSQL database (`warehouse:` of
kontor.yaml). The one place that knows the engine: the dlt destination (`destination`), a DB-API
connection (`connect`; read-only for analysts: `connect_read_only`), dbt's target (`dbt_env`) and how a
SQL client reaches it (`console_target`); everything else passes `config.warehouse` along.

DuckDB lets one process hold the file for writing (and then nobody else may even read it). Every
writer in Kontor takes `warehouse_lock` only around its short write step; extraction (HTTP, the slow
part) runs outside it, so tenants extract in parallel and queue only to load. After each successful
run a consistent copy is published to `<warehouse>.snapshot.duckdb` by atomic rename: analysts query
that file and never see a half-applied run.

PostgreSQL serves many writers and readers at once (MVCC), so there `warehouse_lock` holds nothing and no
snapshot is published: analysts query the database directly (docs/postgres.md). The connection behaves
like DuckDB's where Kontor relies on it (`?` placeholders, `execute(...).fetchone()`, the affected row
count as the result of a DML, JSON as text), so the SQL of the pipelines runs unchanged on both.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import duckdb
from dlt.pipeline.helpers import retry_schema_update
from filelock import FileLock

from core.config import PostgresWarehouse

log = logging.getLogger(__name__)
T = TypeVar("T")
Warehouse = Path | PostgresWarehouse  # `config.warehouse`: a DuckDB file or a PostgreSQL database
BUSY_TIMEOUT = 600.0  # seconds to wait for a writer that does not use the lock (e.g. a DuckDB shell)


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def snapshot_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.stem + ".snapshot.duckdb")


def is_postgres(warehouse: Warehouse) -> bool:
    return isinstance(warehouse, PostgresWarehouse)


@contextmanager
def warehouse_lock(warehouse: Warehouse, timeout: float = -1) -> Iterator[None]:
    """Hold the cross-process write lock of this warehouse file (PostgreSQL: none, MVCC serves all)."""
    if isinstance(warehouse, PostgresWarehouse):
        yield
        return
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path(warehouse)), timeout=timeout, thread_local=False):
        yield


_SCHEMA_RACE = retry_schema_update()
# dlt loads a package's tables with up to 20 threads, each on its own connection: with many tenants
# loading at once that exhausts PostgreSQL's connections, and Kontor's packages are small
POSTGRES_LOAD_WORKERS = 2


def load_step(pipeline: Any, warehouse: Warehouse) -> Any:
    """dlt's load step for this warehouse (few connections per tenant on PostgreSQL), retried like
    `when_free` retries."""
    if isinstance(warehouse, PostgresWarehouse):
        return when_free(lambda: pipeline.load(workers=POSTGRES_LOAD_WORKERS))
    return when_free(pipeline.load)


def when_free(action: Callable[[], T], timeout: float = BUSY_TIMEOUT) -> T:
    """Run `action`, retrying while another process holds the DuckDB file, or (PostgreSQL) when a dlt load
    lost a race with a concurrent load creating the same tables (dlt's `retry_schema_update`: safe, dlt
    re-reads the destination and applies only what is still missing)."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        try:
            return action()
        except Exception as exc:
            text = str(exc).lower()
            busy = (
                "could not set lock" in text or ("lock" in text and "conflict" in text) or _SCHEMA_RACE(exc)
            )
            if not busy or time.monotonic() > deadline:
                raise
            log.info("warehouse busy (%s); waiting %.1fs", exc.__class__.__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def connect(warehouse: Warehouse, config: dict[str, Any] | None = None) -> Any:
    """Open the warehouse for writing, waiting while another process holds the DuckDB file; use as
    `with connect(warehouse) as con:` (closes on exit). `config`: DuckDB settings (ignored by PostgreSQL)."""
    if isinstance(warehouse, PostgresWarehouse):
        return PostgresConnection(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return when_free(lambda: duckdb.connect(str(warehouse), config=config or {}))


READ_ONLY_SESSION = "-c default_transaction_read_only=on"  # libpq `options`: every transaction read-only


def connect_read_only(warehouse: Warehouse) -> Any:
    """A read-only connection for analysts (`with connect_read_only(w) as con: con.execute(...)`): the DuckDB
    file opened read-only, or a PostgreSQL session whose transactions are read-only
    (`default_transaction_read_only`; a guard against slips - the read-only role of docs/postgres.md is
    what enforces it). Both take `?` placeholders and answer `execute(...).fetchall()` and `.df()`."""
    if isinstance(warehouse, PostgresWarehouse):
        return PostgresConnection(warehouse, read_only=True)
    return duckdb.connect(str(warehouse), read_only=True)


def analyst_view(warehouse: Warehouse) -> Warehouse:
    """What analysts read: a DuckDB warehouse's published snapshot (the file itself before the first one),
    or the PostgreSQL database itself (MVCC: each load and build commits whole; no snapshot)."""
    if isinstance(warehouse, PostgresWarehouse):
        return warehouse
    snapshot = snapshot_path(warehouse)
    return snapshot if snapshot.exists() else warehouse


def ensure_readable(warehouse: Warehouse) -> None:
    """`FileNotFoundError` if the DuckDB file does not exist; PostgreSQL: connect once, read-only
    (`ConfigError` if the URL's variable is unset, `WarehouseUnreachable` without the password)."""
    if isinstance(warehouse, PostgresWarehouse):
        connect_read_only(warehouse).close()
    elif not warehouse.exists():
        raise FileNotFoundError(f"{warehouse} does not exist")


def query_errors() -> tuple[type[Exception], ...]:
    """The exceptions a query on either engine raises (bad SQL, a missing table, a refused write)."""
    import psycopg2

    return (duckdb.Error, psycopg2.Error)


def is_missing_object(exc: BaseException) -> bool:
    """Whether a query failed because a schema or table does not exist (e.g. the models never ran)."""
    undefined = {"42P01", "3F000"}  # PostgreSQL: undefined_table, invalid_schema_name
    return isinstance(exc, duckdb.CatalogException) or getattr(exc, "pgcode", None) in undefined


@dataclass(frozen=True)
class ConsoleTarget:
    """How a SQL client (Harlequin) reaches the warehouse read-only, the password off its command line."""

    adapter: str  # Harlequin's adapter: `duckdb` or `postgres`
    args: list[str]  # the adapter's options and its target (the DuckDB file, or the URL without password)
    env: dict[str, str]  # libpq settings to add to the client's environment (password, read-only session)
    shown: str  # the target as messages may show it
    note: str  # what a reader sees, for the console's first line
    elsewhere: str  # how to connect with another client (when Harlequin lacks the adapter)


def console_target(warehouse: Warehouse) -> ConsoleTarget:
    """Harlequin's adapter and arguments for this warehouse, read-only: DuckDB's on the file; PostgreSQL's
    (harlequin-postgres) on the URL without its password, which goes to the client as `PGPASSWORD` (never
    on a command line that `ps` shows), `PGOPTIONS` making the session read-only as well."""
    if not isinstance(warehouse, PostgresWarehouse):
        args = ["--read-only", "--no-init", str(warehouse)]
        note = "a sync replaces the snapshot, reopen to see it"
        return ConsoleTarget("duckdb", args, {}, str(warehouse), note, f"duckdb -readonly {warehouse}")
    url = warehouse.url
    parts = urlsplit(url)
    env = {"PGOPTIONS": READ_ONLY_SESSION, "PGAPPNAME": "kontor-sql"}
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    bare = urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host))
    note = "each query sees what loads and model builds have committed"
    elsewhere = f'psql "${warehouse.url_env}" (or any PostgreSQL client with the URL in ${warehouse.url_env})'
    return ConsoleTarget("postgres", ["--read-only", bare], env, redact(url), note, elsewhere)


def create_objects(con: Any, ddl: str) -> None:
    """Run idempotent DDL (CREATE ... IF NOT EXISTS). PostgreSQL: under a transaction-scoped advisory
    lock, since concurrent runs creating the same schema or table collide even with IF NOT EXISTS."""
    if isinstance(con, PostgresConnection):
        con.create_objects(ddl)
    else:
        con.execute(ddl)


def engine_of(con: Any) -> str:
    """`postgres` or `duckdb`: the engine behind a connection of `connect`."""
    return "postgres" if isinstance(con, PostgresConnection) else "duckdb"


def destination(warehouse: Warehouse, tenant: str | None = None) -> Any:
    """dlt's destination for this warehouse (the raw layer's datasets become schemas in either engine).
    PostgreSQL: each tenant's merges go through a staging schema of its own (`<dataset>_staging_<tenant>`),
    so tenants loading at once never share (and truncate) each other's staging tables."""
    import dlt

    if isinstance(warehouse, PostgresWarehouse):
        from dlt.destinations.impl.postgres.configuration import PostgresCredentials

        credentials = PostgresCredentials(warehouse.url)
        if credentials.password is None:  # trust, peer or ~/.pgpass: dlt would otherwise ask for one
            credentials.password = ""
        layout = f"%s_staging_{tenant}" if tenant else "%s_staging"
        return dlt.destinations.postgres(credentials=credentials, staging_dataset_name_layout=layout)
    return dlt.destinations.duckdb(str(warehouse))


def dbt_env(warehouse: Warehouse) -> dict[str, str]:
    """The environment that points `transforms/profiles.yml` at this warehouse (its target and where)."""
    if not isinstance(warehouse, PostgresWarehouse):
        return {"KONTOR_DBT_TARGET": "duckdb", "KONTOR_WAREHOUSE": str(Path(warehouse).resolve())}
    return postgres_profile_env(warehouse.url)


def postgres_profile_env(url: str) -> dict[str, str]:
    """The ``postgres`` target of ``transforms/profiles.yml`` (KONTOR_DBT_TARGET and the KONTOR_PG_* parts
    it reads) for a ``postgresql://user[:password]@host[:port]/database`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql") or not parts.path.strip("/"):
        raise ValueError(
            "a PostgreSQL warehouse needs a URL postgresql://user[:password]@host[:port]/database"
        )
    return {
        "KONTOR_DBT_TARGET": "postgres",
        "KONTOR_PG_HOST": parts.hostname or "127.0.0.1",
        "KONTOR_PG_PORT": str(parts.port or 5432),
        "KONTOR_PG_USER": unquote(parts.username or "postgres"),
        "KONTOR_PG_PASSWORD": unquote(parts.password or ""),
        "KONTOR_PG_DATABASE": unquote(parts.path.strip("/")),
    }


def redact(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class WarehouseUnreachable(RuntimeError):
    """The PostgreSQL warehouse refused or did not answer the connection (message without secrets)."""


DDL_LOCK = 0x4B4F4E544F52  # the advisory lock key of Kontor's schema changes ("KONTOR")


class PostgresConnection:
    """psycopg2 behind the part of DuckDB's connection API Kontor uses: `?` placeholders, `execute`
    returning something to fetch from (a DML answers its affected row count, as DuckDB does), JSON as
    text, autocommit unless the SQL says BEGIN ... COMMIT. `read_only`: every transaction read-only."""

    def __init__(
        self, warehouse: PostgresWarehouse, connect_timeout: int = 10, read_only: bool = False
    ) -> None:
        import psycopg2
        import psycopg2.extras

        url = warehouse.url
        session = {"options": READ_ONLY_SESSION} if read_only else {}
        try:
            self._con = psycopg2.connect(
                url, connect_timeout=connect_timeout, application_name="kontor", **session
            )
        except psycopg2.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WarehouseUnreachable(
                f"PostgreSQL warehouse {redact(url)} (from ${warehouse.url_env}) not reachable: "
                f"{first.replace(url, redact(url))}"
            ) from None
        self._con.autocommit = True
        for register in (psycopg2.extras.register_default_json, psycopg2.extras.register_default_jsonb):
            register(self._con, loads=lambda text: text)  # as DuckDB returns JSON: the text

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> _Cursor:
        cur = self._con.cursor()
        cur.execute(_placeholders(sql, params is not None), _adapt(params))
        return _Cursor(cur)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> _Cursor:
        cur = self._con.cursor()
        cur.executemany(_placeholders(sql, True), [_adapt(r) for r in rows])
        return _Cursor(cur)

    def create_objects(self, ddl: str) -> None:
        """`ddl` in a transaction (the caller's, if one is open) holding Kontor's DDL advisory lock."""
        from psycopg2.extensions import TRANSACTION_STATUS_IDLE

        own = self._con.get_transaction_status() == TRANSACTION_STATUS_IDLE
        cur = self._con.cursor()
        if own:
            cur.execute("BEGIN")
        try:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
            cur.execute(ddl)
        except BaseException:
            if own:
                cur.execute("ROLLBACK")
            raise
        if own:
            cur.execute("COMMIT")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> PostgresConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Cursor:
    """A psycopg2 cursor that, like DuckDB, answers a DML's affected row count when fetched."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    @property
    def description(self) -> Any:
        return self._cur.description

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._cur.description is None:
            return (self._cur.rowcount,)
        row: tuple[Any, ...] | None = self._cur.fetchone()
        return row

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self._cur.description is None:
            return [(self._cur.rowcount,)]
        rows: list[tuple[Any, ...]] = self._cur.fetchall()
        return rows

    def df(self) -> Any:
        """The rows as a pandas DataFrame, like DuckDB's `.df()` (NUMERIC as float, as DuckDB's DECIMAL)."""
        import pandas as pd

        columns = [d[0] for d in self.description] if self.description else ["Count"]
        return pd.DataFrame.from_records(self.fetchall(), columns=columns, coerce_float=True)


def _placeholders(sql: str, with_params: bool) -> str:
    """DuckDB's `?` placeholders as psycopg2's `%s` (outside string literals; `%` doubled)."""
    if not with_params:
        return sql
    out, quoted = [], False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if char == "%":
            out.append("%%")
        elif char == "?" and not quoted:
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


def _adapt(params: Sequence[Any] | None) -> Sequence[Any] | None:
    """Tuples/sets as lists (psycopg2 passes a list as an ARRAY, as DuckDB a LIST)."""
    if params is None:
        return None
    if isinstance(params, dict):
        raise ValueError("named parameters ($name) are DuckDB's; on PostgreSQL use ? with a list of values")
    return [sorted(p) if isinstance(p, (set, frozenset)) else p for p in params]


def tables_in(con: Any, schema: str) -> set[str]:
    """Names of the tables that exist in `schema` (empty before the first load)."""
    return {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
        ).fetchall()
    }


def scalar(con: Any, query: str, params: list[Any] | None = None) -> Any:
    """The first column of the first row of a query that always returns a row (a count, an update)."""
    row = con.execute(query, params).fetchone()
    if row is None:
        raise ValueError(f"query returned no row: {query}")
    return row[0]


def publish_snapshot(warehouse: Warehouse) -> Path | None:
    """Copy the warehouse consistently to a temp file, then atomically rename it over the snapshot.
    Call while holding `warehouse_lock`. A checkpoint writes everything into the file (the WAL is then
    empty), and the open connection keeps every other process out while the file is copied byte for
    byte (far cheaper than re-encoding every table through COPY FROM DATABASE). PostgreSQL: nothing to
    publish (analysts read the database, MVCC shows them each committed transaction whole); returns None."""
    if isinstance(warehouse, PostgresWarehouse):
        return None
    target = snapshot_path(warehouse)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)

    with connect(warehouse) as con:
        con.execute("CHECKPOINT")
        shutil.copyfile(warehouse, tmp)
    os.replace(tmp, target)
    return target

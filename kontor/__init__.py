"""Kontor for analysts in Python: the warehouse's marts and any SQL as pandas DataFrames.

    import kontor
    wh = kontor.open()                      # the warehouse in kontor.yaml, as analysts read it
    aging = wh.table("marts.ar_aging")      # a whole table or view
    df = wh.sql("SELECT tenant_id, count(*) AS n FROM cdm.invoices GROUP BY 1")

Read-only on either engine, one short connection per query, never in a running sync's way:
- DuckDB (the default): the analysts' snapshot, opened read-only for just that query (a sync replaces it
  by atomic rename, so a query sees one complete build, and the next query the newest one).
- PostgreSQL (`warehouse: {engine: postgres}`): the database itself (MVCC), in a session whose
  transactions are read-only; the URL comes from the variable named in kontor.yaml and is never shown.
  The SQL is PostgreSQL's; parameters are `?` with a list (DuckDB's named `$name` are refused).

`wh.sql(...)` returns a DataFrame on both; `with wh.connect() as con: con.execute(sql, [..]).fetchall()`
gives rows (DB-API style: DuckDB's connection, or core.warehouse's PostgreSQL one with the same calls).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from core.config import PostgresWarehouse, load_config
from core.warehouse import analyst_view, connect_read_only, ensure_readable, is_postgres

__all__ = ["MARTS", "Warehouse", "WarehouseNotFound", "open"]

MARTS = (
    "ar_aging",
    "ap_aging",
    "customer_balances",
    "document_balances",
    "revenue_by_month",
    "dso_by_month",
    "as_of",
)
_QUALIFIED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


class WarehouseNotFound(FileNotFoundError):
    """No warehouse file yet; the message says what to run."""


@dataclass(frozen=True)
class Warehouse:
    """The warehouse read-only: a DuckDB file (normally the snapshot) or the PostgreSQL database."""

    target: Path | PostgresWarehouse

    @property
    def engine(self) -> str:
        """`duckdb` or `postgres`: which SQL dialect `sql` speaks."""
        return "postgres" if is_postgres(self.target) else "duckdb"

    @property
    def path(self) -> Path | None:
        """The DuckDB file read (None on PostgreSQL, which has no file)."""
        return self.target if isinstance(self.target, Path) else None

    def __str__(self) -> str:
        return str(self.target)  # a file's path, or "PostgreSQL (URL in $VAR)": never the URL

    def connect(self) -> Any:
        """A read-only connection (use `with wh.connect() as con:`): `con.execute(sql, [..]).fetchall()`."""
        return connect_read_only(self.target)

    def sql(self, query: str, params: list[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        """Run one SQL query (`?` parameters; DuckDB also `$name`) and return its rows as a DataFrame."""
        with self.connect() as con:
            frame: pd.DataFrame = con.execute(query, params).df()
            return frame

    def table(self, name: str) -> pd.DataFrame:
        """A whole table or view, `schema.table` (e.g. `marts.ar_aging`)."""
        if not _QUALIFIED.match(name):
            raise ValueError(f"table name must be schema.table (e.g. marts.ar_aging), got {name!r}")
        schema, table = name.split(".")
        return self.sql(f'SELECT * FROM "{schema}"."{table}"')

    def mart(self, name: str) -> pd.DataFrame:
        """One of the analyst marts by its short name (`ar_aging`, `revenue_by_month`, ...)."""
        if name not in MARTS:
            raise ValueError(f"unknown mart {name!r}; marts: {', '.join(MARTS)}")
        return self.table(f"marts.{name}")

    def tables(self) -> pd.DataFrame:
        """Every table and view with its schema (cdm, marts, quarantine, raw_lexware, meta, ...)."""
        return self.sql(
            "SELECT table_schema AS schema, table_name AS name, table_type AS type "
            "FROM information_schema.tables ORDER BY 1, 2"
        )


def open(path: str | Path | None = None) -> Warehouse:
    """The warehouse in kontor.yaml (or `$KONTOR_CONFIG`) as analysts read it - a DuckDB warehouse's
    snapshot, a PostgreSQL database itself -, or the DuckDB file `path` (a warehouse or its snapshot).
    Raises `WarehouseNotFound` for a missing file, `core.warehouse.WarehouseUnreachable` for a database
    that does not answer, `core.config.ConfigError` for a bad kontor.yaml or an unset URL variable."""
    target = Path(path) if path is not None else analyst_view(load_config().warehouse)
    try:
        ensure_readable(target)
    except FileNotFoundError as exc:
        raise WarehouseNotFound(f"{exc}: run `make demo` or `make sync` first") from None
    return Warehouse(target)

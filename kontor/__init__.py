"""Kontor for analysts in Python: the warehouse's marts and any SQL as pandas DataFrames.

    import kontor
    wh = kontor.open()                      # the analysts' snapshot of the configured warehouse
    aging = wh.table("marts.ar_aging")      # a whole table or view
    df = wh.sql("SELECT tenant_id, count(*) AS n FROM cdm.invoices GROUP BY 1")

Read-only, and safe while syncs run: every query opens the snapshot read-only for just that query (a
sync replaces the snapshot by atomic rename, so a query sees one complete build, and the next query the
newest one); nothing ever holds the warehouse a job writes to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from core.config import load_config
from core.warehouse import snapshot_path

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
    """A DuckDB file read-only, one short connection per query."""

    path: Path

    def sql(self, query: str, params: list | dict | None = None) -> pd.DataFrame:
        """Run one SQL query (`?` or `$name` parameters) and return its rows as a DataFrame."""
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(query, params).df()

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
    """The analysts' snapshot of the warehouse in kontor.yaml (or `$KONTOR_CONFIG`), or the DuckDB file
    `path` (a warehouse or its snapshot) when given."""
    if path is not None:
        target = Path(path)
    else:
        warehouse = load_config().warehouse
        snapshot = snapshot_path(warehouse)
        target = snapshot if snapshot.exists() else warehouse
    if not target.exists():
        raise WarehouseNotFound(f"{target} does not exist: run `make demo` or `make sync` first")
    return Warehouse(target)

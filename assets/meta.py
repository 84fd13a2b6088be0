"""Catalogue metadata shared by every asset spec: who owns Kontor's assets, how the UI tags them, and
the column descriptions of the documented tables (docs/data-dictionary.md)."""

import re
from functools import cache
from pathlib import Path

from dagster import TableColumn, TableSchema

OWNERS = ["team:kontor-data"]  # shown in the Dagster UI; change to your team or an e-mail address
DATA_DICTIONARY = Path(__file__).resolve().parents[1] / "docs" / "data-dictionary.md"


def layer_tags(layer: str, source: str) -> dict[str, str]:
    """Tags to filter the catalogue by layer (raw / staging / cdm / marts / quarantine) and source."""
    return {"layer": layer, "source": source}


@cache
def documented_columns() -> dict[str, TableSchema]:
    """``schema.table`` -> its columns (name, type, meaning) as the data dictionary lists them; the
    dictionary is kept equal to the built tables by tests/test_transforms_dictionary.py."""
    tables: dict[str, list[TableColumn]] = {}
    current: list[TableColumn] | None = None
    for line in DATA_DICTIONARY.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^## (\w+\.\w+)$", line):
            current = tables.setdefault(m.group(1), [])
        elif current is not None and line.startswith("| ") and not line.startswith("| column "):
            name, type_, meaning, *_ = (c.strip() for c in line.strip("|").split("|"))
            current.append(TableColumn(name, type_, meaning))
    return {table: TableSchema(columns=columns) for table, columns in tables.items()}

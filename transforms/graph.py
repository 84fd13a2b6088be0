"""Discover SQL models and their dependencies from the files themselves.

A model is one ``.sql`` file holding one SELECT. Its target is ``<schema>.<file stem>`` where the schema is
the first folder under ``transforms/`` (``staging``, ``cdm``, ``marts``, ``quarantine``). Dependencies are
read from the SQL with sqlglot: every ``schema.table`` it references is either another model or a source
table (e.g. ``raw_lexware.invoices``). Nothing is listed twice.

Optional header comments (lines starting with ``--`` before the SELECT):
``-- grain: col_a, col_b`` (the unique, not-null key checked for the model); all other leading comment
lines form the model's description.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp

TRANSFORMS_DIR = Path(__file__).resolve().parent
MODEL_SCHEMAS = ("staging", "cdm", "marts", "quarantine")


@dataclass(frozen=True)
class Model:
    """One SQL model: target ``schema.name``, its SELECT and what it reads."""

    schema: str
    name: str
    path: Path
    sql: str
    description: str
    grain: tuple[str, ...]
    refs: frozenset[str] = field(default_factory=frozenset)  # every schema.table the SQL reads

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Check:
    """A data-quality check: a SELECT returning the offending rows (none = pass)."""

    name: str
    asset: str  # schema.table the check is attached to
    path: Path
    sql: str
    description: str
    refs: frozenset[str] = field(default_factory=frozenset)


def _header(sql: str) -> dict[str, str]:
    """Leading ``-- key: value`` comments, plus the free text as ``description``."""
    meta: dict[str, str] = {}
    text: list[str] = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        body = stripped[2:].strip()
        head, sep, value = body.partition(":")
        if sep and head.strip() in {"grain", "asset"}:
            meta[head.strip()] = value.strip()
        else:
            text.append(body)
    meta["description"] = " ".join(t for t in text if t)
    return meta


def table_refs(sql: str) -> frozenset[str]:
    """All schema-qualified tables a query reads (CTE names excluded)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    refs = set()
    for table in tree.find_all(exp.Table):
        if table.db and table.name not in ctes:
            refs.add(f"{table.db}.{table.name}")
    return frozenset(refs)


@cache
def discover(root: Path = TRANSFORMS_DIR) -> dict[str, Model]:
    """All models under ``root``, keyed ``schema.name``."""
    models: dict[str, Model] = {}
    for schema in MODEL_SCHEMAS:
        for path in sorted((root / schema).rglob("*.sql")):
            sql = path.read_text(encoding="utf-8")
            meta = _header(sql)
            grain = tuple(c.strip() for c in meta.get("grain", "").split(",") if c.strip())
            model = Model(schema, path.stem, path, sql, meta["description"], grain, table_refs(sql))
            if model.key in models:
                raise ValueError(f"two models build {model.key}: {models[model.key].path} and {path}")
            models[model.key] = model
    return models


@cache
def discover_checks(root: Path = TRANSFORMS_DIR) -> dict[str, Check]:
    """All checks under ``root/checks``, keyed by file stem."""
    checks: dict[str, Check] = {}
    for path in sorted((root / "checks").glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        meta = _header(sql)
        if "asset" not in meta:
            raise ValueError(f"{path}: missing '-- asset: schema.table' header")
        checks[path.stem] = Check(path.stem, meta["asset"], path, sql, meta["description"], table_refs(sql))
    return checks


def model_deps(model: Model, models: dict[str, Model]) -> set[str]:
    """The models (keys) this model reads."""
    return {ref for ref in model.refs if ref in models and ref != model.key}


def source_deps(model: Model, models: dict[str, Model]) -> set[str]:
    """The non-model tables (e.g. ``raw_lexware.invoices``) this model reads."""
    return {ref for ref in model.refs if ref not in models}


def build_order(models: dict[str, Model], select: set[str] | None = None) -> list[Model]:
    """Models in dependency order; with ``select``, only those keys (order still respected)."""
    sorter = graphlib.TopologicalSorter({k: model_deps(m, models) for k, m in models.items()})
    order = [models[k] for k in sorter.static_order()]
    return [m for m in order if select is None or m.key in select]

"""Corrections from CSV and YAML files, for people who do not write SQL.

CSV: a header row with the columns below (UTF-8, comma-separated, empty cell = no value).
YAML: a list of mappings with the same keys, or ``{corrections: [...]}``.

    tenant, entity, record_id, field, new_value, expected_old_value

Importing puts every row into ``writeback.corrections`` (one transaction): valid rows as ``pending``,
invalid ones as ``rejected`` with their reason, so nothing an analyst wrote is silently dropped.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

from pipelines.writeback import sevdesk
from pipelines.writeback.model import REJECTED, Correction
from pipelines.writeback.store import WritebackStore
from pipelines.writeback.validation import InvalidValue, validate

COLUMNS = ("tenant", "entity", "record_id", "field", "new_value", "expected_old_value")
REQUIRED = ("tenant", "entity", "record_id", "field", "new_value")


class CorrectionFileError(ValueError):
    """The file as a whole cannot be read (format, missing or unknown columns)."""


def _check_keys(path: Path, where: str, keys: set[str]) -> None:
    missing = [c for c in REQUIRED if c not in keys]
    unknown = sorted(keys - set(COLUMNS))
    if missing:
        raise CorrectionFileError(f"{path}: {where} lacks column(s) {', '.join(missing)}")
    if unknown:
        raise CorrectionFileError(
            f"{path}: {where} has unknown column(s) {', '.join(unknown)} (expected: {', '.join(COLUMNS)})"
        )


def read_corrections_file(path: str | Path) -> list[Correction]:
    """Parse a ``.csv``, ``.yaml`` or ``.yml`` file into corrections (not yet validated)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise CorrectionFileError(f"{path}: unsupported file type {suffix!r} (use .csv, .yaml or .yml)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorrectionFileError(f"{path}: cannot read: {exc}") from None
    if suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        _check_keys(path, "the header", {(h or "").strip() for h in reader.fieldnames or []})
        rows: list[dict[str, Any]] = []
        for line, row in enumerate(reader, start=2):
            if None in row:
                raise CorrectionFileError(f"{path}: line {line} has more cells than the header")
            rows.append({k.strip(): (v if v != "" else None) for k, v in row.items()})
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CorrectionFileError(f"{path}: not valid YAML: {exc}") from None
        if isinstance(data, dict) and set(data) == {"corrections"}:
            data = data["corrections"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise CorrectionFileError(f"{path}: expected a list of corrections (mappings)")
        for i, row in enumerate(data, start=1):
            _check_keys(path, f"correction #{i}", {str(k) for k in row})
        rows = data
    values: list[dict[str, Any]] = [{c: row.get(c) for c in COLUMNS} for row in rows]
    return [Correction(**v) for v in values]


def import_corrections_file(
    store: WritebackStore,
    path: str | Path,
    known_tenants: set[str] | None = None,
    systems: dict[str, str] | None = None,
) -> list[int]:
    """Read, validate (by the tenant's `system`, default lexware) and insert a corrections file;
    returns the new correction ids."""
    corrections = read_corrections_file(path)
    for c in corrections:
        check = sevdesk.validate if (systems or {}).get(str(c.tenant)) == "sevdesk" else validate
        try:
            check(c, known_tenants)
        except InvalidValue as exc:
            c.status, c.reason = REJECTED, str(exc)
    return store.insert_corrections(corrections, source=f"file:{Path(path).name}")

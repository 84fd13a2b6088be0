"""The correction record and its life cycle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Life cycle of a correction (writeback.corrections.status):
PENDING = "pending"  # recorded by an analyst, not yet looked at
REJECTED = "rejected"  # failed validation (or does not fit the record); no write was attempted
IN_FLIGHT = "in_flight"  # intent recorded right before a PUT; on restart we check the source
APPLIED = "applied"  # the source holds the new value (applied_version says which version)
CONFLICT = "conflict"  # someone else changed the same field: the source was left untouched
GAVE_UP = "gave_up"  # kept hitting version conflicts (other edits) beyond the retry bound
FAILED = "failed"  # the API refused the change or could not be reached; see reason

STATUSES = (PENDING, REJECTED, IN_FLIGHT, APPLIED, CONFLICT, GAVE_UP, FAILED)
FINAL = (REJECTED, APPLIED, CONFLICT, GAVE_UP, FAILED)


@dataclass
class Correction:
    """One row of ``writeback.corrections`` (or of a CSV/YAML file before it is imported)."""

    tenant: Any
    entity: Any
    record_id: Any
    field: Any
    new_value: Any
    expected_old_value: Any = None
    id: int | None = None
    status: str = PENDING
    reason: str | None = None
    source: str | None = None
    attempts: int = 0
    applied_version: int | None = None
    version_before: int | None = None  # while in_flight: the version our unconfirmed PUT was based on

    @property
    def stored_id(self) -> int:
        """The row id in ``writeback.corrections``; a correction read from a file has none until imported."""
        if self.id is None:
            raise ValueError("correction is not stored yet (no id)")
        return self.id

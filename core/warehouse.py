"""The DuckDB warehouse file: one writer at a time, and a read-only snapshot for analysts.

DuckDB lets one process hold the file for writing (and then nobody else may even read it). Every
writer in Kontor takes `warehouse_lock` only around its short write step; extraction (HTTP, the slow
part) runs outside it, so tenants extract in parallel and queue only to load. After each successful
run a consistent copy is published to `<warehouse>.snapshot.duckdb` by atomic rename: analysts query
that file and never see a half-applied run.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb
from filelock import FileLock

log = logging.getLogger(__name__)
T = TypeVar("T")
BUSY_TIMEOUT = 600.0  # seconds to wait for a writer that does not use the lock (e.g. a DuckDB shell)


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def snapshot_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.stem + ".snapshot.duckdb")


@contextmanager
def warehouse_lock(warehouse: Path, timeout: float = -1) -> Iterator[None]:
    """Hold the cross-process write lock of this warehouse file."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path(warehouse)), timeout=timeout, thread_local=False):
        yield


def when_free(action: Callable[[], T], timeout: float = BUSY_TIMEOUT) -> T:
    """Run `action`, retrying while another process holds the DuckDB file."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        try:
            return action()
        except Exception as exc:
            text = str(exc).lower()
            busy = "could not set lock" in text or ("lock" in text and "conflict" in text)
            if not busy or time.monotonic() > deadline:
                raise
            log.info("warehouse busy (%s); waiting %.1fs", exc.__class__.__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def connect(warehouse: Path, config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing, waiting while another process holds the file; use as
    `with connect(path) as con:` (closes on exit)."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return when_free(lambda: duckdb.connect(str(warehouse), config=config or {}))


def tables_in(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    """Names of the tables that exist in `schema` (empty before the first load)."""
    return {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]).fetchall()}


def publish_snapshot(warehouse: Path) -> Path:
    """Copy the warehouse consistently to a temp file, then atomically rename it over the snapshot.
    Call while holding `warehouse_lock`. A checkpoint writes everything into the file (the WAL is then
    empty), and the open connection keeps every other process out while the file is copied byte for
    byte (far cheaper than re-encoding every table through COPY FROM DATABASE)."""
    target = snapshot_path(warehouse)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)

    with connect(warehouse) as con:
        con.execute("CHECKPOINT")
        shutil.copyfile(warehouse, tmp)
    os.replace(tmp, target)
    return target

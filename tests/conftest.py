"""Shared fixtures; under `make test`'s pytest-xdist workers, one dbt target and log folder per worker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox.process import start_sandbox

# Before any test module imports transforms.project: its TARGET_DIR follows DBT_TARGET_PATH (dbt's own
# setting), and the Dagster runs and dbt processes the tests start inherit both.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if WORKER:
    _dbt = Path(__file__).resolve().parent.parent / "transforms"
    os.environ.setdefault("DBT_TARGET_PATH", str(_dbt / "target" / WORKER))
    os.environ.setdefault("DBT_LOG_PATH", str(_dbt / "logs" / WORKER))


SANDBOX_KEY = "sandbox-demo-key"


def terminal_env(env: dict[str, str]) -> dict[str, str]:
    """`env` for a program run in a test's pseudo-terminal: xterm, and the size the pty says (pytest-xdist's
    workers export COLUMNS=80 LINES=24, which Harlequin would take over the pty's 140x40)."""
    return {**{k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}, "TERM": "xterm-256color"}


@pytest.fixture(scope="session")
def sandbox():
    """One real sandbox process (small seeded books, tenant `demo`, rate limit raised to 1000 rps)."""
    with start_sandbox(tenants={"demo": SANDBOX_KEY}, rate_limit=1000, size="small") as sb:
        yield sb

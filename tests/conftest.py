"""Shared fixtures, and one dbt folder per test worker (`make test` runs two: pytest-xdist)."""

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


@pytest.fixture(scope="session")
def sandbox():
    """One real sandbox process (small seeded books, tenant `demo`, rate limit raised to 1000 rps)."""
    with start_sandbox(tenants={"demo": SANDBOX_KEY}, rate_limit=1000, size="small") as sb:
        yield sb

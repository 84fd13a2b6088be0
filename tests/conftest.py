"""Shared fixtures, and how `make test`'s two pytest-xdist workers (`--dist loadfile`) share the suite:
each has its own dbt target and log folder, and the test files that use the PostgreSQL or Redis server
take turns."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from sandbox.process import start_sandbox
from tests import services

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


def _uses_services(module: object) -> bool:
    """Whether a test module reaches the PostgreSQL / Redis servers (through tests/services.py)."""
    return any(getattr(v, "__module__", None) == services.__name__ for v in vars(module).values())


@pytest.fixture(scope="module", autouse=True)
def _one_worker_on_the_servers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Test files that use PostgreSQL or Redis run one at a time across the workers: Harlequin's catalogue,
    for one, lists every database on the server while the other worker creates and drops its own."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run or not _uses_services(request.module):
        yield
        return
    with FileLock(str(Path(tempfile.gettempdir()) / f"kontor-tests-{run}-servers.lock")):
        yield

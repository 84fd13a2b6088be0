"""Shared fixtures."""

from __future__ import annotations

import pytest

from sandbox.process import start_sandbox

SANDBOX_KEY = "sandbox-demo-key"


@pytest.fixture(scope="session")
def sandbox():
    """One real sandbox process (small seeded books, tenant `demo`, rate limit raised to 1000 rps)."""
    with start_sandbox(tenants={"demo": SANDBOX_KEY}, rate_limit=1000, size="small") as sb:
        yield sb

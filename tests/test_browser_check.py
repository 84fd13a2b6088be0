"""The operator's pages in a real browser (bench/browser_check.py with headless Chromium): the backfill
job names "tenant X from A to B", its launchpad asks for tenant and window with nothing pre-filled, and a
dry run's tags (kontor/dry_run, kontor/plan) are in its run's header. Skips with one loud line when no
Chromium is installed (CI must not depend on a hand-installed browser)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.browser_check import find_chromium

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_operator_pages_in_headless_chromium(tmp_path):
    if not find_chromium(None):
        pytest.skip("NO CHROMIUM BINARY: browser check of the Dagster UI not run (apt-get install chromium)")
    proc = subprocess.run(
        [sys.executable, "bench/browser_check.py", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith(("ok", "FAIL"))]
    assert len(lines) == 3 and all(line.startswith("ok") for line in lines), lines
    for name in ("1-backfill-job", "2-backfill-launchpad", "3-dry-run-header"):
        png = (tmp_path / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 20_000, name

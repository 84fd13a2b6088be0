"""dlt's working folder stays small: runs killed mid-extraction leave no folders behind for good, and
completed load packages (their rows and state are in the warehouse) do not pile up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.sandbox_sync import write_config
from pipelines.lexware.sync import pipeline_for, sync_tenant
from sandbox.process import start_sandbox
from tests.extraction_helpers import assert_matches_export

ROOT = Path(__file__).resolve().parent.parent
ENV = "KONTOR_HOUSEKEEPING_KEY"
BOOKS = {"contacts": 60, "invoices": 300, "vouchers": 100, "credit_notes": 10}


def test_killed_runs_leave_no_folders_and_loaded_packages_are_pruned(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "sandbox-demo-key")
    with start_sandbox(rate_limit=1000, **BOOKS) as sb:
        cfg = write_config(tmp_path, sb.base_url, {"demo": ENV}, rps=80)
        working = Path(pipeline_for(cfg, cfg.tenant("demo")).working_dir)
        for kill in (1, 2):  # two runs killed mid-extraction (details still being fetched)
            proc = subprocess.Popen(
                [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(cfg.path)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            deadline = time.monotonic() + 120
            while sb.tenant_stats("demo")["requests"] < 100 * kill and time.monotonic() < deadline:
                time.sleep(0.05)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        unfinished = [
            p.name for p in (working / "normalize").iterdir() if p.name != "extracted" and p.is_dir()
        ]
        assert unfinished, "the kills should have left unfinished extraction folders"
        for _ in range(3):
            sync_tenant(cfg, "demo")
        assert [
            p.name for p in (working / "normalize").iterdir() if p.is_dir() and p.name != "extracted"
        ] == []
        assert len(list((working / "load" / "loaded").iterdir())) == 1  # the newest package only
        assert_matches_export(cfg, sb.export("demo"), "demo")

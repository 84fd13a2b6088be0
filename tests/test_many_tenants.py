"""Many tenants per process: `pipelines.cli sync` syncs a batch of tenants in threads of one process,
each on its own rate budget, writes queued on the warehouse lock (threads wait on it like processes)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from bench.sandbox_sync import write_config
from core.warehouse import warehouse_lock
from sandbox.process import start_sandbox
from tests.extraction_helpers import assert_matches_export

ROOT = Path(__file__).resolve().parent.parent
TENANTS = [f"t{i}" for i in range(7)]
BOOKS = {"contacts": 12, "invoices": 16, "vouchers": 6, "credit_notes": 2}
LIMIT_RPS = 10  # per key, the sandbox's and the client's: tight enough that an overdrawn budget shows


def _env(name: str) -> str:
    return f"KONTOR_TEST_MANY_{name.upper()}_KEY"


def test_one_process_syncs_every_tenant_exactly_without_429s(tmp_path, monkeypatch):
    keys = {name: f"{name}-key" for name in TENANTS}
    for name, key in keys.items():
        monkeypatch.setenv(_env(name), key)
    with start_sandbox(tenants=keys, rate_limit=LIMIT_RPS, seed=11, **BOOKS) as sb:
        cfg = write_config(tmp_path, sb.base_url, {name: _env(name) for name in TENANTS}, rps=LIMIT_RPS)
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(cfg.path), "--workers", "4"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        most_children = 0
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:  # sample the process tree for the whole run
            try:
                most_children = max(most_children, len(watched.children(recursive=True)))
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        out, err = proc.communicate(timeout=300)
        served = sb.stats()["tenants"]
        exports = {name: sb.export(name) for name in TENANTS}
    assert proc.returncode == 0, err[-2000:]
    results = {r["tenant"]: r for r in map(json.loads, out.splitlines())}
    assert results.keys() == set(TENANTS)  # one result line per tenant
    assert all(r["ok"] for r in results.values())
    assert most_children == 0, f"the sync started {most_children} child process(es)"
    for name in TENANTS:
        assert_matches_export(cfg, exports[name], name)
        assert served[name]["status"].get("429", 0) == 0, f"{name}: the sandbox served 429s"
        assert results[name]["client"]["rate_limited_429"] == 0


def test_a_failing_tenant_fails_the_run_and_the_others_load(tmp_path, monkeypatch):
    keys = {"good": "good-key", "bad": "bad-key"}
    monkeypatch.setenv(_env("good"), "good-key")
    monkeypatch.setenv(_env("bad"), "not-the-key")
    with start_sandbox(tenants=keys, rate_limit=1000, seed=12, **BOOKS) as sb:
        cfg = write_config(tmp_path, sb.base_url, {name: _env(name) for name in keys})
        proc = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(cfg.path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        export = sb.export("good")
    results = {r["tenant"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert proc.returncode == 1
    assert results["good"]["ok"] and not results["bad"]["ok"]
    assert "sync: 1 of 2 tenant(s) failed" in proc.stderr
    assert_matches_export(cfg, export, "good")


def test_workers_must_be_a_positive_number(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sync", "--workers", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--workers: expected a whole number >= 1, got '0'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_warehouse_lock_excludes_threads_of_one_process(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    inside, most, guard = [0], [0], threading.Lock()

    def write() -> None:
        for _ in range(5):
            with warehouse_lock(warehouse):
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.005)
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1

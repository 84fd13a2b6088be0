"""The instance of many hosts (deploy/dagster.yaml): a real Dagster instance on a fresh PostgreSQL database
queues Kontor runs (QueuedRunCoordinator), its daemon starts them one per tenant at a time, and the runs,
their event logs and the daemon's state are stored in PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from bench.sandbox_sync import write_config
from sandbox.process import start_sandbox
from tests.services import postgres_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SMALL = {"contacts": 5, "invoices": 6, "vouchers": 3, "credit_notes": 1}

pytestmark = pytest.mark.slow


def _wait_for(
    instance: DagsterInstance, run_ids: list[str], daemon: subprocess.Popen, timeout: float
) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = instance.get_runs(RunsFilter(run_ids=run_ids))
        if len(runs) == len(run_ids) and all(r.is_finished for r in runs):
            return runs
        assert daemon.poll() is None, "the Dagster daemon died"
        time.sleep(2)
    raise AssertionError(f"runs not finished in {timeout:.0f} s: {[(r.run_id, r.status) for r in runs]}")


def _stop(daemon: subprocess.Popen) -> str:
    """Stop the daemon (SIGINT: it shuts its code server down), then anything left in its session."""
    daemon.send_signal(signal.SIGINT)
    try:
        _, err = daemon.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        err = ""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(daemon.pid, signal.SIGKILL)
    daemon.communicate()
    return err or ""


def test_instance_on_postgres_queues_and_records_kontor_runs(tmp_path: Path, monkeypatch) -> None:
    import psycopg2

    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "deploy" / "dagster.yaml").read_text())  # as shipped
    with (
        postgres_database("dagster") as url,
        start_sandbox(tenants={"acme": "pg-dagster-key"}, seed=5, **SMALL) as sb,
    ):
        config = write_config(tmp_path, sb.base_url, {"acme": "KONTOR_PGD_ACME_KEY"})
        # dagster-postgres speaks psycopg2; SQLAlchemy 2.1 would pick psycopg 3 for a bare postgresql://
        dagster_url = url.replace("postgresql://", "postgresql+psycopg2://", 1)
        env = {
            "DAGSTER_HOME": str(home),
            "DAGSTER_POSTGRES_URL": dagster_url,
            "KONTOR_CONFIG": str(config.path),
            "KONTOR_PGD_ACME_KEY": "pg-dagster-key",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        instance = DagsterInstance.get()
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        target = ["-m", "assets.definitions", "-d", str(ROOT)]
        # two runs of the same tenant: queued, then started one at a time (tag limit per partition)
        run_ids = []
        for _ in range(2):
            before = {r.run_id for r in instance.get_runs()}
            launch = subprocess.run(
                [
                    str(BIN / "dagster"),
                    "job",
                    "launch",
                    "-j",
                    "lexware_sync",
                    *target,
                    "--tags",
                    json.dumps({"dagster/partition": "acme"}),
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert launch.returncode == 0, launch.stderr[-3000:]
            [new] = [r for r in instance.get_runs() if r.run_id not in before]
            assert new.status == DagsterRunStatus.QUEUED
            run_ids.append(new.run_id)
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", *target],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            runs = _wait_for(instance, run_ids, daemon, timeout=600)
        finally:
            daemon_err = _stop(daemon)
        records = {r.dagster_run.run_id: r for r in instance.get_run_records(RunsFilter(run_ids=run_ids))}
        instance.dispose()
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT run_id, status FROM runs WHERE run_id = ANY(%s) ORDER BY create_timestamp", (run_ids,)
            )
            stored_runs = cur.fetchall()
            cur.execute("SELECT count(*) FROM event_logs WHERE run_id = ANY(%s)", (run_ids,))
            stored_events = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM daemon_heartbeats")
            heartbeats = cur.fetchone()[0]
        conn.close()
        served = sb.tenant_stats("acme")["requests"]
    assert all(r.status == DagsterRunStatus.SUCCESS for r in runs), [(r.run_id, r.status) for r in runs] + [
        daemon_err[-3000:]
    ]
    assert stored_runs == [(run_id, "SUCCESS") for run_id in run_ids]
    assert stored_events > 20 and heartbeats > 0
    assert served > 0
    first, second = sorted(records.values(), key=lambda r: r.start_time)
    assert second.start_time >= first.end_time, "two runs of one tenant overlapped"

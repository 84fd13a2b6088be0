"""Dagster runs launched the way an operator does (the `dagster` CLI, a persistent instance) execute
in one process: no subprocess per step or asset check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

from assets.definitions import defs
from tests import raw_fixtures as fx

ROOT = Path(__file__).resolve().parent.parent
DAGSTER = Path(sys.executable).with_name("dagster")
CONFIG = """warehouse: data/w.duckdb
tenants:
  - name: acme
    base_url: http://127.0.0.1:1
    api_key_env: KONTOR_TEST_ACME_KEY
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dagster_runs")
    (folder / "kontor.yaml").write_text(CONFIG)
    (folder / "data").mkdir()
    with duckdb.connect(str(folder / "data" / "w.duckdb")) as con:
        fx.load_small_fixture(con)
    (folder / "home").mkdir()
    (folder / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return folder


def run_cli(home: Path, *args: str):
    """Run a `dagster` CLI command against assets.definitions; the one run it made, and its events."""
    env = {**os.environ, "KONTOR_CONFIG": str(home / "kontor.yaml"), "DAGSTER_HOME": str(home / "home")}
    instance = DagsterInstance.from_config(str(home / "home"))
    before = {r.run_id for r in instance.get_runs()}
    proc = subprocess.run(
        [str(DAGSTER), *args, "-m", "assets.definitions", "-d", str(ROOT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    [run] = [r for r in instance.get_runs() if r.run_id not in before]
    events = [e.dagster_event.event_type for e in instance.all_logs(run.run_id) if e.dagster_event]
    instance.dispose()
    return proc, run, events


def test_transform_job_runs_every_step_and_check_in_one_process(home):
    proc, run, events = run_cli(home, "job", "execute", "-j", "kontor_transform")
    assert run.status == DagsterRunStatus.SUCCESS, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert events.count(DagsterEventType.STEP_SUCCESS) == 1  # one dbt build: every model and test
    assert events.count(DagsterEventType.ASSET_CHECK_EVALUATION) > 30
    assert DagsterEventType.STEP_WORKER_STARTED not in events


def test_asset_runs_as_launched_by_automation_are_in_process(home):
    # automation and `dagster asset materialize` run the implicit asset job: the Definitions' executor
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"
    assert defs.resolve_job_def("apply_corrections").executor_def.name == "in_process"
    proc, run, events = run_cli(home, "asset", "materialize", "--select", "group:staging")
    assert run.status == DagsterRunStatus.SUCCESS, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert DagsterEventType.ASSET_MATERIALIZATION in events
    assert DagsterEventType.STEP_WORKER_STARTED not in events


def test_our_modules_use_no_deprecated_api():
    # import every layer in a fresh interpreter and keep the deprecation warnings raised by our own code
    code = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    import assets.definitions, pipelines.lexware.client, pipelines.writeback.operations, report\n"
        "ours = [f'{w.filename}:{w.lineno}: {w.message}' for w in seen\n"
        f"        if w.filename.startswith({str(ROOT)!r}) and '.venv' not in w.filename\n"
        "        and issubclass(w.category, DeprecationWarning)]\n"
        "print('\\n'.join(ours))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KONTOR_CONFIG": str(ROOT / "kontor.yaml")},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == ""


def test_definitions_load_in_parallel_processes(tmp_path):
    """Parallel runs each load the definitions at once; the dlt pipelines `@dlt_assets` is built with must
    not make them trip over each other's folder (a FileExistsError CI hit under load)."""
    (tmp_path / "kontor.yaml").write_text(CONFIG)
    env = {**os.environ, "KONTOR_CONFIG": str(tmp_path / "kontor.yaml")}
    code = "import assets.definitions"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    errors = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, "\n".join(e[-1500:] for e in errors if e)
    assert (tmp_path / "data" / ".dlt" / "kontor_lexware").is_dir()

"""Launch Dagster runs the way an operator would (the `dagster` CLI against `assets.definitions` and a
persistent DAGSTER_HOME), and read their outcome back from the Dagster instance."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, RunsFilter

ROOT = Path(__file__).resolve().parent.parent
DAGSTER = Path(sys.executable).with_name("dagster")
DAGSTER_YAML = """# Dagster instance of the Kontor demo.
telemetry:
  enabled: false
nux:
  enabled: false
"""


@dataclass
class Launched:
    label: str
    proc: subprocess.Popen
    log_path: Path
    started: datetime


@dataclass
class CheckResult:
    asset: str
    name: str
    passed: bool
    severity: str


@dataclass
class RunOutcome:
    label: str
    run_id: str | None
    status: str
    checks: list[CheckResult] = field(default_factory=list)
    metadata: dict[str, dict] = field(default_factory=dict)  # asset key -> materialization metadata

    @property
    def ok(self) -> bool:
        return self.status == "SUCCESS"


class DagsterRunner:
    """Runs `dagster asset materialize` / `dagster job execute` as subprocesses with `env`."""

    def __init__(self, home: Path, env: dict[str, str], log_dir: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        if not (home / "dagster.yaml").exists():
            (home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
        self.home, self.log_dir = home, log_dir
        self.env = {**env, "DAGSTER_HOME": str(home)}
        log_dir.mkdir(parents=True, exist_ok=True)
        # Create the instance's storages once, so parallel CLI runs never race to migrate them.
        instance = DagsterInstance.from_config(str(home))
        instance.get_runs(limit=1)
        instance.dispose()

    def materialize(
        self, label: str, select: str, partition: str | None = None, config: dict | None = None
    ) -> Launched:
        args = ["asset", "materialize", "--select", select]
        if partition:
            args += ["--partition", partition]
        return self._start(label, args, config)

    def execute_job(self, label: str, job: str, config: dict | None = None) -> Launched:
        return self._start(label, ["job", "execute", "-j", job], config)

    def _start(self, label: str, args: list[str], config: dict | None) -> Launched:
        cmd = [str(DAGSTER), *args, "-m", "assets.definitions", "-d", str(ROOT)]
        if config:
            config_path = self.log_dir / f"{label}.run_config.json"
            config_path.write_text(json.dumps(config), encoding="utf-8")
            cmd += ["-c", str(config_path)]
        log_path = self.log_dir / f"{label}.log"
        started = datetime.now(UTC)
        with log_path.open("w", encoding="utf-8") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return Launched(label, proc, log_path, started)

    def wait(
        self, launched: list[Launched], tick: Callable[[], None] | None = None, every: float = 4.0
    ) -> list[RunOutcome]:
        """Wait for the subprocesses (calling `tick()` every few seconds), then read each run back."""
        last = time.monotonic()
        while any(x.proc.poll() is None for x in launched):
            time.sleep(0.2)
            if tick and time.monotonic() - last >= every:
                tick()
                last = time.monotonic()
        return [self.outcome(x) for x in launched]

    def outcome(self, launched: Launched) -> RunOutcome:
        """The run a subprocess started (its id is in the subprocess's log), with checks and metadata."""
        instance = DagsterInstance.from_config(str(self.home))
        try:
            log = launched.log_path.read_text(errors="replace")
            runs = [
                r
                for r in instance.get_runs(RunsFilter(created_after=launched.started), limit=100)
                if r.run_id in log
            ]
            if not runs:
                return RunOutcome(
                    launched.label, None, f"NO RUN (exit {launched.proc.returncode}, see {launched.log_path})"
                )
            run = runs[0]
            outcome = RunOutcome(launched.label, run.run_id, run.status.value)
            for rec in instance.get_records_for_run(
                run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION, limit=10_000
            ).records:
                data = rec.event_log_entry.dagster_event.asset_check_evaluation_data
                outcome.checks.append(
                    CheckResult(
                        data.asset_key.to_user_string(), data.check_name, data.passed, data.severity.value
                    )
                )
            for rec in instance.get_records_for_run(
                run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION, limit=10_000
            ).records:
                mat = rec.event_log_entry.asset_materialization
                outcome.metadata[mat.asset_key.to_user_string()] = {
                    k: _plain(getattr(v, "value", v)) for k, v in mat.metadata.items()
                }
            return outcome
        finally:
            instance.dispose()


def _plain(value: object) -> object:
    """Metadata as JSON-friendly values (schemas and other records become text)."""
    return value if isinstance(value, int | float | str | bool | dict | list | type(None)) else str(value)

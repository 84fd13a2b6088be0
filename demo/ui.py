"""`python -m demo.ui [--data-dir data] [--dagster-home .dagster] [--host 127.0.0.1] [--port 3000]` (what
`make demo-ui` runs after `make demo`): the Dagster UI on the demo's instance, with the demo's sandbox
back (same books as the demo left them, same port) and the tenants' keys set, so every job runs.
Ctrl-C stops both."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from demo import world
from demo.dagster_cli import DAGSTER, ROOT, DagsterRunner
from demo.run import CONFIG_FILE, SANDBOX_FILE, DemoError
from sandbox.process import SandboxProcess, SandboxStartError, start_sandbox


@contextmanager
def demo_environment(data_dir: Path, dagster_home: Path) -> Iterator[tuple[dict[str, str], SandboxProcess]]:
    """The demo's sandbox running again from its saved books on its old port, and the environment a
    Dagster process needs for the demo's tenants (config, keys, instance)."""
    data_dir, saved_file = data_dir.resolve(), data_dir.resolve() / SANDBOX_FILE
    if not saved_file.exists() or not (data_dir / CONFIG_FILE).exists():
        raise DemoError(f"no demo in {data_dir} ({SANDBOX_FILE} missing): run `make demo` first")
    saved = json.loads(saved_file.read_text(encoding="utf-8"))
    port = urlparse(saved["base_url"]).port
    try:
        with start_sandbox(**saved["options"], port=port) as sandbox:
            env = {**os.environ, "KONTOR_CONFIG": str(data_dir / CONFIG_FILE), "PYTHONUNBUFFERED": "1"}
            env.update({t.key_env: t.key for t in world.TENANTS})  # sandbox keys, not secrets
            runner = DagsterRunner(dagster_home.resolve(), env, data_dir / "demo-logs")  # instance ready
            yield runner.env, sandbox
    except SandboxStartError as exc:
        raise DemoError(f"cannot bring the demo's sandbox back on port {port} (busy? another `make "
                        f"demo-ui` or `make sandbox` running?): {str(exc).splitlines()[0]}") from None


def automation_states(dagster_home: Path) -> dict[str, str]:
    """Schedules and sensors of the code location with the state they run in on this instance: the
    default from the definitions, or what an operator set in the UI."""
    from dagster import DagsterInstance

    from assets.definitions import defs

    repo = defs.get_repository_def()
    states = {s.name: s.default_status.value for s in (*repo.schedule_defs, *repo.sensor_defs)}
    instance = DagsterInstance.from_config(str(dagster_home))
    try:
        for state in instance.all_instigator_state():
            if state.name in states:
                states[state.name] = state.status.value
    finally:
        instance.dispose()
    return states


def banner(sandbox: SandboxProcess, url: str, states: dict[str, str], as_of: str) -> str:
    what = {"lexware_hourly": "an incremental sync of every tenant at minute 0 of each hour",
            "kontor_model_automation": "rebuilds the models after each sync",
            "pending_corrections_sensor": "applies pending corrections unattended"}
    lines = [f"Dagster UI: {url}  (Ctrl-C stops it and the sandbox)",
             f"  sandbox: {sandbox.base_url}, the books as the demo left them; keys "
             f"{', '.join(t.key_env for t in world.TENANTS)} set: every job runs",
             "  schedules and sensors on this instance:"]
    lines += [f"    {name:<28} {state:<8} {what.get(name, '')}" for name, state in sorted(states.items())]
    lines.append(f"  the demo's marts are as of {as_of} (the sandbox's date); a rebuild started by the "
                 "automation uses the machine's date: launch kontor_transform with config as_of to pin it")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.ui", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data", help="the demo's data dir")
    parser.add_argument("--dagster-home", default=".dagster", help="the demo's Dagster instance")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="3000")
    args = parser.parse_args(argv)
    try:
        with demo_environment(Path(args.data_dir), Path(args.dagster_home)) as (env, sandbox):
            as_of = world.sandbox_date(sandbox.clock()).isoformat()
            states = automation_states(Path(args.dagster_home))
            print(banner(sandbox, f"http://{args.host}:{args.port}", states, as_of), flush=True)
            cmd = [str(DAGSTER), "dev", "-w", "workspace.yaml", "--host", args.host, "--port", args.port]
            try:
                return subprocess.run(cmd, cwd=ROOT, env=env).returncode
            except KeyboardInterrupt:
                return 0
    except DemoError as exc:
        print(f"demo-ui: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""`python -m demo.ui [--data-dir data] [--dagster-home .dagster] [--host 127.0.0.1] [--port 3000]` (what
`make demo-ui` runs after `make demo`): the Dagster UI on the demo's instance, with the demo's sandboxes
back (Lexware and sevDesk: same books as the demo left them, same ports) and the tenants' keys set, so
every job runs. Ctrl-C stops them all."""

from __future__ import annotations

import argparse
import contextlib
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
def demo_environment(
    data_dir: Path, dagster_home: Path
) -> Iterator[tuple[dict[str, str], SandboxProcess, SandboxProcess | None]]:
    """The demo's sandboxes running again from their saved books on their old ports, and the environment
    a Dagster process needs for the demo's tenants (config, keys, instance): (env, the Lexware sandbox,
    the sevDesk sandbox or None for a demo made before it had one)."""
    data_dir, saved_file = data_dir.resolve(), data_dir.resolve() / SANDBOX_FILE
    if not saved_file.exists() or not (data_dir / CONFIG_FILE).exists():
        raise DemoError(f"no demo in {data_dir} ({SANDBOX_FILE} missing): run `make demo` first")
    saved = json.loads(saved_file.read_text(encoding="utf-8"))
    port, sev = urlparse(saved["base_url"]).port, saved.get("sevdesk")
    try:
        with start_sandbox(**saved["options"], port=port) as sandbox, contextlib.ExitStack() as stack:
            sevdesk = None
            if sev:
                port = urlparse(sev["base_url"]).port
                sevdesk = stack.enter_context(start_sandbox(**sev["options"], port=port))
            env = {**os.environ, "KONTOR_CONFIG": str(data_dir / CONFIG_FILE), "PYTHONUNBUFFERED": "1"}
            env.update({t.key_env: t.key for t in world.ALL_TENANTS})  # sandbox keys, not secrets
            runner = DagsterRunner(dagster_home.resolve(), env, data_dir / "demo-logs")  # instance ready
            yield runner.env, sandbox, sevdesk
    except SandboxStartError as exc:
        raise DemoError(
            f"cannot bring the demo's sandbox back on port {port} (busy? another `make "
            f"demo-ui` or `make sandbox` running?): {str(exc).splitlines()[0]}"
        ) from None


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


def banner(
    sandbox: SandboxProcess,
    url: str,
    states: dict[str, str],
    as_of: str,
    sevdesk: SandboxProcess | None = None,
) -> str:
    what = {
        "lexware_hourly": "an incremental sync of every Lexware tenant at minute 0 of each hour",
        "sevdesk_hourly": "the same for every sevDesk tenant",
        "sync_sevdesk_after_writeback": "re-syncs a sevDesk tenant after a write-back to it",
        "kontor_model_automation": "rebuilds the models after each sync",
        "pending_corrections_sensor": "applies pending corrections unattended",
    }
    lines = [
        f"Dagster UI: {url}  (Ctrl-C stops it and the sandboxes)",
        f"  Lexware sandbox: {sandbox.base_url}, the books as the demo left them; keys "
        f"{', '.join(t.key_env for t in world.TENANTS)} set: every job runs",
    ]
    if sevdesk:
        lines.append(
            f"  sevDesk sandbox: {sevdesk.base_url}/api/v1, the books as the demo left them; keys "
            f"{', '.join(t.key_env for t in world.SEVDESK_TENANTS)} set"
        )
    lines.append("  schedules and sensors on this instance:")
    lines += [f"    {name:<28} {state:<8} {what.get(name, '')}" for name, state in sorted(states.items())]
    lines.append(
        f"  the demo's marts are as of {as_of} (the sandbox's date); a rebuild started by the "
        "automation uses the machine's date: launch kontor_transform with config as_of to pin it"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.ui", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data", help="the demo's data dir")
    parser.add_argument("--dagster-home", default=".dagster", help="the demo's Dagster instance")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="3000")
    args = parser.parse_args(argv)
    try:
        with demo_environment(Path(args.data_dir), Path(args.dagster_home)) as (env, sandbox, sevdesk):
            as_of = world.sandbox_date(sandbox.clock()).isoformat()
            states = automation_states(Path(args.dagster_home))
            print(banner(sandbox, f"http://{args.host}:{args.port}", states, as_of, sevdesk), flush=True)
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

"""Run the sandbox as a real subprocess (tests, benchmarks, the demo): `with start_sandbox() as sb: ...`."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


class SandboxStartError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxProcess:
    """A running sandbox: its base URL, API keys and the operator API."""

    def __init__(
        self, proc: subprocess.Popen, base_url: str, tenants: dict[str, str], stderr_path: str
    ) -> None:
        self.proc, self.base_url, self.tenants, self._stderr_path = proc, base_url, tenants, stderr_path
        self.http = httpx.Client(base_url=base_url, timeout=60)

    def api_key(self, tenant: str = "demo") -> str:
        return self.tenants[tenant]

    def _op(self, method: str, path: str, **kwargs) -> httpx.Response:
        resp = self.http.request(method, f"/_sandbox{path}", **kwargs)
        resp.raise_for_status()
        return resp

    def stats(self) -> dict:
        return self._op("GET", "/stats").json()

    def tenant_stats(self, tenant: str = "demo") -> dict:
        return self.stats()["tenants"].get(tenant, {"requests": 0, "status": {}, "by_endpoint": {}})

    def reset_stats(self) -> None:
        self._op("POST", "/stats/reset")

    def export(self, tenant: str = "demo") -> dict:
        return self._op("GET", f"/tenants/{tenant}/export").json()

    def edit(
        self, tenant: str, resource: str, id: str, changes: dict | None = None, action: str | None = None
    ) -> dict:
        body = {"resource": resource, "id": id, "changes": changes, "action": action}
        return self._op("POST", f"/tenants/{tenant}/edit", json=body).json()

    def bulk_edit(self, tenant: str, edits: list[dict]) -> dict:
        """Apply many edits (`{resource, id, changes?, action?}` each) in one request:
        `{"applied": n, "refused": [{index, error}, ...]}`."""
        return self._op("POST", f"/tenants/{tenant}/bulk-edit", json={"edits": edits}).json()

    def bulk_create(
        self, tenant: str, resource: str, template: str, count: int, changes: dict | None = None
    ) -> list[str]:
        """`count` copies of record `template`, created now (with `changes` merged in); their ids."""
        body = {"resource": resource, "template": template, "count": count, "changes": changes}
        return self._op("POST", f"/tenants/{tenant}/bulk-create", json=body).json()["ids"]

    def churn(self, rate: float | None = None) -> dict:
        """The churn's `{"rate", "edits", "by_action"}`; with `rate`, set it first (0 pauses; once this
        returns no churn edit is under way) and also get `previous_rate`."""
        if rate is None:
            return self._op("GET", "/churn").json()
        return self._op("POST", "/churn", json={"rate": rate}).json()

    def clock(self, now: datetime | None = None) -> datetime:
        """Sandbox time; with `now`, jump forward to it first (time never runs backwards)."""
        body = self._op("POST", "/clock", json={"now": now.isoformat()}) if now else self._op("GET", "/clock")
        return datetime.fromisoformat(body.json()["now"])

    def reset(self) -> None:
        self._op("POST", "/reset")

    def webhook_public_key(self) -> str:
        return self._op("GET", "/webhook-public-key").text

    def webhook_deliveries(self) -> list[dict]:
        return self._op("GET", "/webhooks/deliveries").json()["deliveries"]

    def stderr(self) -> str:
        return Path(self._stderr_path).read_text(errors="replace")

    def stop(self, timeout: float = 10) -> None:
        """Graceful stop (SIGTERM: state is saved), then the process group is killed if needed."""
        self.http.close()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._cleanup_group()

    def kill(self) -> None:
        """Hard kill (SIGKILL) of the whole process group, like a crash."""
        self.http.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def _cleanup_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def start_sandbox(
    *args: str,
    tenants: dict[str, str] | None = None,
    rate_limit: float | None = None,
    size: str | list[str] | None = None,
    seed: int | None = None,
    port: int | None = None,
    startup_timeout: float = 60,
    system: str = "lexware",
    **options: object,
) -> Iterator[SandboxProcess]:
    """Launch `python -m sandbox serve` on a free port and wait until /_sandbox/health answers.

    `system="sevdesk"` starts the sevDesk emulator instead (`python -m sandbox.sevdesk serve`, API under
    `<base_url>/api/v1`; same operator API, flags and keyword options).

    `tenants` maps name -> API key (default demo=sandbox-demo-key). Extra keyword options become CLI flags
    (`churn=2` -> `--churn 2`, `retry_after=True` -> `--retry-after`, a list repeats the flag:
    `faults=["429=0.1", "b:"]`); `args` are passed through verbatim.
    """
    tenants = tenants or {"demo": "sandbox-demo-key"}
    port = port or free_port()
    module = {"lexware": "sandbox", "sevdesk": "sandbox.sevdesk"}[system]
    cmd = [sys.executable, "-m", module, "serve", "--host", "127.0.0.1", "--port", str(port)]
    for name, key in tenants.items():
        cmd += ["--tenant", f"{name}={key}"]
    for flag, value in (("--rate-limit", rate_limit), ("--seed", seed)):
        if value is not None:
            cmd += [flag, str(value)]
    for key, value in {"size": size, **options}.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            cmd.append(flag)
        elif isinstance(value, list | tuple):
            for item in value:
                cmd += [flag, str(item)]
        elif value not in (None, False):
            cmd += [flag, str(value)]
    cmd += list(args)
    stderr = tempfile.NamedTemporaryFile(prefix="sandbox-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=stderr, stderr=stderr, start_new_session=True)
    sb = SandboxProcess(proc, f"http://127.0.0.1:{port}", tenants, stderr.name)
    try:
        _wait_healthy(sb, startup_timeout)
        yield sb
    finally:
        sb.stop()
        stderr.close()
        with contextlib.suppress(OSError):
            os.unlink(stderr.name)


def _wait_healthy(sb: SandboxProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sb.proc.poll() is not None:
            raise SandboxStartError(f"sandbox exited with {sb.proc.returncode}:\n{sb.stderr()}")
        try:
            if sb.http.get("/_sandbox/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    sb.kill()
    raise SandboxStartError(f"sandbox not healthy after {timeout}s:\n{sb.stderr()}")

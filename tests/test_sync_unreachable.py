"""`make sync` with nothing listening at a tenant's base_url: the first refused connection fails at once
(no retries), and the last lines say which URL and what to run; the Makefile then builds no models."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import load_config
from pipelines.lexware.client import LexwareClient
from pipelines.lexware.errors import UnreachableError
from sandbox.process import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def config(tmp_path, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"  # free: nothing listens there
    path = tmp_path / "kontor.yaml"
    path.write_text(
        f"warehouse: warehouse.duckdb\ntenants:\n  - name: demo\n    base_url: {url}\n"
        "    api_key_env: KONTOR_TEST_UNREACHABLE_KEY\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KONTOR_TEST_UNREACHABLE_KEY", "sandbox-demo-key")
    return path, url


def test_a_refused_first_request_fails_at_once_naming_url_and_fix(config):
    path, url = config
    with LexwareClient(load_config(path).tenant("demo")) as client:
        with pytest.raises(UnreachableError) as err:
            client.get("/v1/profile")
        assert (client.stats.requests, client.stats.retries) == (1, 0)
    assert url in str(err.value) and "make sandbox" in str(err.value)


def test_cli_ends_with_the_failure_in_plain_words(config):
    path, url = config
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-2:]
    assert last[0].startswith("sync FAILED: tenant 'demo'") and url in last[0] and "make sandbox" in last[0]
    assert last[1] == "sync: 1 of 1 tenant(s) failed"
    assert "retry" not in proc.stderr


def test_make_sync_builds_no_models_after_a_failed_sync():
    recipe = re.search(r"^sync: setup.*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)[1]
    sync_line, models_line = recipe.strip().splitlines()
    assert "pipelines.cli sync" in sync_line and "|| {" in sync_line and "exit 1" in sync_line
    assert "models not rebuilt" in sync_line and models_line.strip()

"""kontor.yaml: bad config gets a precise error naming file, tenant and field; keys stay in the env."""

from __future__ import annotations

import pytest

from pipelines.config import ConfigError, load_config


def _write(tmp_path, body: str):
    path = tmp_path / "kontor.yaml"
    path.write_text(body)
    return path


GOOD = """warehouse: wh/warehouse.duckdb
tenants:
  - name: acme
    base_url: http://127.0.0.1:9/
    api_key_env: ACME_KEY
    rps: 1.5
"""


def test_valid_config_resolves_paths_and_reads_the_key_from_the_environment(tmp_path, monkeypatch):
    cfg = load_config(_write(tmp_path, GOOD))
    tenant = cfg.tenant("acme")
    assert cfg.warehouse == tmp_path / "wh" / "warehouse.duckdb"
    assert tenant.base_url == "http://127.0.0.1:9" and tenant.rps == 1.5
    assert tenant.burst == 2  # the server's bucket, by default the one the reference's sources report
    assert tenant.ratelimit_path == tmp_path / "wh" / ".ratelimit" / "acme.sqlite"
    with pytest.raises(ConfigError, match="ACME_KEY"):
        _ = tenant.api_key
    monkeypatch.setenv("ACME_KEY", "s3cret")
    assert tenant.api_key == "s3cret"
    assert "s3cret" not in repr(tenant) + repr(cfg)


@pytest.mark.parametrize(("body", "message"), [
    ("tenants: []", "non-empty list"),
    ("tenants:\n  - name: Bad-Name\n    base_url: http://x\n    api_key_env: K", r"tenants\[0\].*'name'"),
    ("tenants:\n  - name: a\n    api_key_env: K", r"tenant 'a'.*'base_url'"),
    ("tenants:\n  - name: a\n    base_url: http://x\n    api_key: plain", r"tenant 'a'.*api_key_env"),
    ("tenants:\n  - name: a\n    base_url: http://x\n    api_key_env: K\n    system: sap", r"'system'"),
    ("tenants:\n  - {name: a, base_url: 'http://x', api_key_env: K}\n"
     "  - {name: a, base_url: 'http://x', api_key_env: K}", "duplicate"),
    ("tenants: [", "not valid YAML"),
    ("tenants:\n  - {name: a, base_url: 'http://x', api_key_env: K, burst: 0}", r"tenant 'a'.*'burst'"),
])
def test_bad_config_names_the_problem(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError, match=message) as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_missing_file_says_how_to_fix_it(tmp_path):
    with pytest.raises(ConfigError, match="KONTOR_CONFIG"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(("args", "message"), [
    (["--mode", "backfill"], "a backfill needs both voucher dates"),
    (["--mode", "backfill", "--from", "2026-02-30", "--to", "2026-03-01"],
     "backfill date 'from' is not a date"),
    (["--mode", "backfill", "--from", "2026-03-02", "--to", "2026-03-01"], "backfill window is empty"),
    (["--mode", "full", "--from", "2026-03-01"], "voucher dates are for a backfill only"),
])
def test_cli_refuses_a_bad_backfill_window_before_any_request(tmp_path, args, message):
    import subprocess
    import sys
    from pathlib import Path

    config = _write(tmp_path, GOOD)  # its base URL would refuse connections: no request may be tried
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "sync", "--config", str(config), *args],
                          cwd=Path(__file__).parent.parent, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "wh").exists()  # nothing written

"""kontor.yaml: bad config gets a precise error naming file, tenant and field; keys stay in the env."""

from __future__ import annotations

import pytest

from core.config import ConfigError, load_config


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


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("tenants: []", "non-empty list"),
        ("tenants:\n  - name: Bad-Name\n    base_url: http://x\n    api_key_env: K", r"tenants\[0\].*'name'"),
        ("tenants:\n  - name: a\n    api_key_env: K", r"tenant 'a'.*'base_url'"),
        ("tenants:\n  - name: a\n    base_url: http://x\n    api_key: plain", r"tenant 'a'.*api_key_env"),
        ("tenants:\n  - name: a\n    base_url: http://x\n    api_key_env: K\n    system: sap", r"'system'"),
        (
            "tenants:\n  - {name: a, base_url: 'http://x', api_key_env: K}\n"
            "  - {name: a, base_url: 'http://x', api_key_env: K}",
            "duplicate",
        ),
        ("tenants: [", "not valid YAML"),
        ("tenants:\n  - {name: a, base_url: 'http://x', api_key_env: K, burst: 0}", r"tenant 'a'.*'burst'"),
    ],
)
def test_bad_config_names_the_problem(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError, match=message) as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_missing_file_says_how_to_fix_it(tmp_path):
    with pytest.raises(ConfigError, match="KONTOR_CONFIG"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "backfill"], "a backfill needs both voucher dates"),
        (
            ["--mode", "backfill", "--from", "2026-02-30", "--to", "2026-03-01"],
            "backfill date 'from' is not a date",
        ),
        (["--mode", "backfill", "--from", "2026-03-02", "--to", "2026-03-01"], "backfill window is empty"),
        (["--mode", "full", "--from", "2026-03-01"], "voucher dates are for a backfill only"),
    ],
)
def test_cli_refuses_a_bad_backfill_window_before_any_request(tmp_path, args, message):
    import subprocess
    import sys
    from pathlib import Path

    config = _write(tmp_path, GOOD)  # its base URL would refuse connections: no request may be tried
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(config), *args],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "wh").exists()  # nothing written


def _tenant_with(line: str) -> str:
    return (
        f"warehouse: wh/warehouse.duckdb\ntenants:\n  - name: acme\n    base_url: http://x\n"
        f"    api_key_env: ACME_KEY\n    {line}\n"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("rps: .inf", r"tenant 'acme': field 'rps' must be a number > 0 and <= 1000.*got inf"),
        ("rps: .nan", r"tenant 'acme': field 'rps' must be .*got nan"),
        ("rps: true", r"tenant 'acme': field 'rps' must be .*got True"),
        ("rps: 0", r"tenant 'acme': field 'rps' must be a number > 0"),
        ("max_in_flight: 2.7", r"tenant 'acme': field 'max_in_flight' must be a whole number from 1 to 64"),
        ("max_in_flight: 100000", r"tenant 'acme': field 'max_in_flight' must be a whole number"),
        ("rsp: 0.5", r"tenant 'acme': unknown field 'rsp' - did you mean 'rps'\?"),
        ("max_inflight: 4", r"tenant 'acme': unknown field 'max_inflight' - did you mean 'max_in_flight'\?"),
        ("organization_id: 42", r"tenant 'acme': field 'organization_id' must be the organizationId"),
    ],
)
def test_schema_refuses_bad_types_ranges_and_unknown_keys_with_one_line(tmp_path, line, message):
    path = _write(tmp_path, _tenant_with(line))
    with pytest.raises(ConfigError, match=message) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("warehouse", "message"),
    [
        ("42", r"field 'warehouse' must be a path to the DuckDB file \(a string\), got 42"),
        ("[a, b]", r"field 'warehouse' must be a path .*got \['a', 'b'\]"),
        ("/proc/w.duckdb", r"field 'warehouse': cannot create /proc/w.duckdb"),
        ("kontor.yaml/w.duckdb", r"field 'warehouse': .*kontor.yaml is a file"),
    ],
)
def test_a_warehouse_that_cannot_be_created_is_refused_at_load(tmp_path, warehouse, message):
    path = _write(tmp_path, GOOD.replace("wh/warehouse.duckdb", warehouse))
    with pytest.raises(ConfigError, match=message):
        load_config(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kontor.yaml"]  # no file named 42 or [...]


def test_unknown_top_level_key_and_several_problems_each_get_a_line(tmp_path):
    body = "warehous: w.duckdb\n" + GOOD + "  - {name: b, base_url: 'ftp://x', api_key_env: K}\n"
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{path}: ") for line in lines)
    assert any("unknown field 'warehous' - did you mean 'warehouse'?" in line for line in lines)
    assert any("tenant 'b': field 'base_url' must be a URL starting with http://" in line for line in lines)


def test_non_utf8_file_is_a_config_error_not_a_traceback(tmp_path):
    path = tmp_path / "kontor.yaml"
    path.write_bytes(GOOD.replace("acme", "acm\xe9").encode("latin-1"))
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(byte 0xe9"):
        load_config(path)


def test_check_config_command_reports_one_line_per_problem(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).parent.parent

    def check(body: str, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "check-config", "--config", str(_write(tmp_path, body))],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            env={**__import__("os").environ, **(env or {})},
        )

    bad = check(_tenant_with("rsp: 0.5"))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip() == (
        f"config error: {tmp_path / 'kontor.yaml'}: tenant 'acme': unknown field "
        "'rsp' - did you mean 'rps'? (known: name, system, base_url, api_key_env, "
        "rps, burst, max_in_flight, organization_id)"
    )
    unset = check(GOOD, {"ACME_KEY": ""})
    assert (
        unset.returncode == 2
        and "tenant 'acme': field 'api_key_env': environment variable ACME_KEY" in unset.stderr
    )
    good = check(GOOD, {"ACME_KEY": "k"})
    assert good.returncode == 0 and "OK - 1 tenant(s) (acme)" in good.stdout


def test_a_typo_in_kontor_yaml_shows_in_dagster_as_a_failing_sensor_not_a_broken_location(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    path = _write(tmp_path, _tenant_with("rsp: 0.5"))
    probe = (
        "from dagster import build_sensor_context\n"
        "from assets.definitions import defs\n"
        "sensor = defs.get_sensor_def('kontor_config_invalid')\n"
        "print(sensor.default_status.value)\n"
        "print(sensor.description)\n"
        "try:\n"
        "    sensor(build_sensor_context())\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).parent.parent,
        text=True,
        capture_output=True,
        timeout=300,
        env={**__import__("os").environ, "KONTOR_CONFIG": str(path)},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    status, description, raised = proc.stdout.strip().splitlines()
    line = f"{path}: tenant 'acme': unknown field 'rsp' - did you mean 'rps'?"
    assert status == "RUNNING" and line in description and raised.startswith(f"ConfigError {line}")


def test_writeback_plan_names_the_config_file_when_a_tenant_is_unknown(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    path = _write(tmp_path, GOOD)
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.writeback", "--config", str(path), "plan", "--tenant", "acme_gmbh"],
        cwd=Path(__file__).parent.parent,
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{path}: no tenant named 'acme_gmbh' (known: ['acme'])" in proc.stderr
    assert "set KONTOR_CONFIG (or pass --config) to use another" in proc.stderr
    assert not (tmp_path / "wh").exists()  # refused before the warehouse is opened

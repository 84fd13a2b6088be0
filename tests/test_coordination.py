"""Past one host: a tenant's rate budget shared through Redis / PostgreSQL by processes that never
exceed the server's bucket (the sandbox enforces Lexware's 2 req/s and answers 429), and a tenant lock
every host sees (a PostgreSQL advisory lock) that serialises contending processes."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.config import ConfigError, load_config
from sandbox.process import start_sandbox
from tests.services import postgres_database, redis_prefix

ROOT = Path(__file__).resolve().parent.parent

# One worker process: `n` GETs of the tenant's profile through the Lexware client (its shared budget)
CLIENT_WORKER = textwrap.dedent("""
    import json, sys
    from core.config import load_config
    from pipelines.lexware.client import LexwareClient
    tenant = load_config(sys.argv[1]).tenant("acme")
    with LexwareClient(tenant) as client:
        for _ in range(int(sys.argv[2])):
            client.get("/v1/profile")
        print(json.dumps(client.stats.as_dict()))
""")

# One worker process: hold the tenant lock for `hold` seconds; print (acquired, released) wall times
LOCK_WORKER = textwrap.dedent("""
    import json, sys, time
    from core.config import load_config
    from core.locks import tenant_lock
    config = load_config(sys.argv[1])
    asked = time.time()
    with tenant_lock(config, "acme"):
        got = time.time()
        time.sleep(float(sys.argv[2]))
        left = time.time()
    print(json.dumps([asked, got, left]))
""")


def _config(folder: Path, base_url: str, coordination: str) -> Path:
    path = folder / "kontor.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        warehouse: data/warehouse.duckdb
        tenants:
          - name: acme
            base_url: {base_url}
            api_key_env: KONTOR_COORD_KEY
            rps: 2
            burst: 2
        """)
        + coordination
    )
    return path


def _run_workers(script: str, args_per_worker: list[list[str]], env: dict[str, str]) -> list:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in args_per_worker
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _shared_budget_run(tmp_path: Path, coordination: str, env: dict[str, str], monkeypatch) -> None:
    """Four processes, 8 requests each, one tenant: 32 requests at 2/s with zero 429s."""
    with start_sandbox(tenants={"acme": "coord-key"}, rate_limit=2, burst=2, seed=3) as sb:
        cfg = _config(tmp_path, sb.base_url, coordination)
        env = {**env, "KONTOR_COORD_KEY": "coord-key"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        sb.reset_stats()
        started = time.monotonic()
        stats = _run_workers(CLIENT_WORKER, [[str(cfg), "8"]] * 4, dict(__import__("os").environ))
        wall = time.monotonic() - started
        served = sb.tenant_stats("acme")
    assert served["status"].get("429", 0) == 0, (served["status"], stats)
    assert sum(s["rate_limited_429"] for s in stats) == 0
    assert served["status"].get("200") == sum(s["by_status"].get("200", 0) for s in stats) == 32, stats
    # the four processes together kept the server's pace: 32 requests at 2/s after a full bucket of 2
    assert wall >= (32 - 2) / 2, wall


def test_redis_budget_shared_by_processes(tmp_path: Path, monkeypatch) -> None:
    from tests.services import REDIS_URL

    with redis_prefix("budget") as prefix:
        section = (
            f"coordination:\n  backend: redis\n  url_env: KONTOR_COORD_REDIS\n  key_prefix: '{prefix}'\n"
        )
        _shared_budget_run(tmp_path, section, {"KONTOR_COORD_REDIS": REDIS_URL}, monkeypatch)
        import redis

        from core.ratelimit import tenant_budget

        # the state lives in Redis (one hash per tenant, expiring once the bucket would be full again)
        tenant_budget(load_config(tmp_path / "kontor.yaml").tenant("acme")).acquire()
        client = redis.Redis.from_url(REDIS_URL)
        assert client.hkeys(f"{prefix}ratelimit:acme") == [b"tat1"]
        assert 0 < client.pttl(f"{prefix}ratelimit:acme") <= 2000
        client.close()


def test_postgres_budget_shared_by_processes(tmp_path: Path, monkeypatch) -> None:
    with postgres_database("budget") as url:
        section = "coordination:\n  backend: postgres\n  url_env: KONTOR_COORD_PG\n"
        _shared_budget_run(tmp_path, section, {"KONTOR_COORD_PG": url}, monkeypatch)
        import psycopg2

        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT key FROM kontor_rate_budgets")
            assert cur.fetchall() == [("kontor:ratelimit:acme",)]
        conn.close()


def test_advisory_lock_serialises_processes(tmp_path: Path, monkeypatch) -> None:
    import psycopg2

    from core.locks import lock_key

    with postgres_database("lock") as url:
        cfg = _config(
            tmp_path,
            "http://127.0.0.1:9",
            "coordination:\n  backend: redis\n"
            "  url_env: KONTOR_COORD_REDIS\n  lock_url_env: KONTOR_COORD_PG\n",
        )
        monkeypatch.setenv("KONTOR_COORD_PG", url)
        monkeypatch.setenv("KONTOR_COORD_REDIS", "redis://127.0.0.1:1/0")  # not used by the lock
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", LOCK_WORKER, str(cfg), "2"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        # while one holds it, the server shows the advisory lock granted on the tenant's key
        key = lock_key("kontor:", "acme")
        seen = False
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            for _ in range(100):
                cur.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND (classid::bigint << 32 | objid::bigint) = %s",
                    (key & 0xFFFFFFFFFFFFFFFF,),
                )
                if cur.fetchone()[0] == 1:
                    seen = True
                    break
                time.sleep(0.1)
        conn.close()
        spans = []
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err[-2000:]
            spans.append(json.loads(out))
    assert seen, "no granted advisory lock on the tenant's key"
    first, second = sorted(spans, key=lambda s: s[1])
    assert second[1] >= first[2] - 0.05, spans  # the second got it only after the first let go
    assert second[1] - second[0] >= 1.5, spans  # and it really waited for it


def test_coordination_config_errors(tmp_path: Path, monkeypatch) -> None:
    cfg = _config(tmp_path, "http://127.0.0.1:9", "coordination:\n  backend: redis\n")
    with pytest.raises(ConfigError, match=r"coordination: backend 'redis' needs 'url_env'"):
        load_config(cfg)
    cfg = _config(tmp_path, "http://127.0.0.1:9", "coordination:\n  backend: redis\n  url_evn: X\n")
    with pytest.raises(ConfigError, match=r"coordination: unknown field 'url_evn' - did you mean 'url_env'"):
        load_config(cfg)
    cfg = _config(tmp_path, "http://127.0.0.1:9", "coordination:\n  backend: etcd\n  url_env: X\n")
    with pytest.raises(ConfigError, match=r"coordination: field 'backend' must be one of"):
        load_config(cfg)
    cfg = _config(
        tmp_path, "http://127.0.0.1:9", "coordination:\n  backend: postgres\n  url_env: KONTOR_NO_PG\n"
    )
    config = load_config(cfg)
    assert config.coordination.backend == "postgres"
    assert config.tenant("acme").coordination == config.coordination
    monkeypatch.delenv("KONTOR_NO_PG", raising=False)
    with pytest.raises(ConfigError, match=r"environment variable KONTOR_NO_PG \(\w+\) is not set"):
        _ = config.coordination.lock_url
    assert load_config(_config(tmp_path, "http://127.0.0.1:9", "")).coordination.backend == "local"
    # a PostgreSQL warehouse: its URL holds the tenant locks, and the postgres budgets by default
    pg_warehouse = "warehouse:\n  engine: postgres\n  url_env: KONTOR_WH_URL\n"
    path = _config(tmp_path, "http://127.0.0.1:9", "coordination:\n  backend: postgres\n")
    path.write_text(path.read_text().replace("warehouse: data/warehouse.duckdb\n", pg_warehouse))
    monkeypatch.setenv("KONTOR_WH_URL", "postgresql://kontor@db.example/kontor")
    coordination = load_config(path).coordination
    assert coordination.url == coordination.lock_url == "postgresql://kontor@db.example/kontor"
    path.write_text(path.read_text().replace("coordination:\n  backend: postgres\n", ""))
    assert load_config(path).coordination.lock_url == "postgresql://kontor@db.example/kontor"


def test_advisory_lock_serialises_threads_of_one_process(tmp_path: Path, monkeypatch) -> None:
    """One session holds the process's advisory locks (re-entrant in PostgreSQL): threads of the process
    still take a tenant one at a time."""
    import threading

    from core.locks import tenant_lock

    with postgres_database("threadlock") as url:
        cfg = _config(
            tmp_path, "http://127.0.0.1:9", "coordination:\n  backend: postgres\n  url_env: KONTOR_COORD_PG\n"
        )
        monkeypatch.setenv("KONTOR_COORD_PG", url)
        config = load_config(cfg)
        spans: list[tuple[float, float]] = []

        def hold() -> None:
            with tenant_lock(config, "acme"):
                got = time.monotonic()
                time.sleep(0.5)
                spans.append((got, time.monotonic()))

        threads = [threading.Thread(target=hold) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        from core.locks import AdvisorySession

        AdvisorySession.at(url)._conn.close()  # the database is dropped next
    spans.sort()
    assert len(spans) == 3
    assert all(b[0] >= a[1] for a, b in itertools.pairwise(spans)), spans

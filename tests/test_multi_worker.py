"""Many workers, one warehouse (issue 11, "Done means"): four worker processes (`pipelines.cli sync`, each
syncing its batch of tenants in threads) sync 40 tenants concurrently into PostgreSQL while a write-back
runs for one of them. Batches overlap, so tenants are synced by two processes at once: every process
draws from the tenant's one budget in Redis and takes the tenant's advisory lock in PostgreSQL. The
sandbox enforces Lexware's 2 requests/second per key with a bucket and answers 429 when overdrawn.

Checked: zero 429s; every tenant's raw tables equal the sandbox's ground truth with no duplicates
(nothing lost, nothing twice); runs of one tenant in different processes waited for each other on the
advisory lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from core.config import load_config
from core.locks import lock_key
from sandbox.process import start_sandbox
from tests.extraction_helpers import assert_matches_export, count_rows
from tests.services import REDIS_URL, postgres_database, redis_prefix

ROOT = Path(__file__).resolve().parent.parent
N_TENANTS, N_WORKERS = 40, 4
BOOKS = {"contacts": 4, "invoices": 4, "vouchers": 2, "credit_notes": 1}
LIMIT_RPS = 2  # Lexware's, per key: the sandbox's bucket and the client's model of it
WB_TENANT = "t00"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

# The write-back of one correction (a contact's VAT id) for WB_TENANT, then its re-sync, as the Dagster
# job does: executor, then `resync_touched` (which takes the tenant lock like any sync).
WRITEBACK = textwrap.dedent("""
    import json, sys, time
    from core.config import load_config
    from pipelines.writeback.clients import TenantClients
    from pipelines.writeback.executor import CorrectionExecutor
    from pipelines.writeback.resync import resync_touched
    from pipelines.writeback.model import Correction
    from pipelines.writeback.store import WritebackStore
    config = load_config(sys.argv[1])
    tenant, contact_id, old, new = sys.argv[2:6]
    store = WritebackStore.open(config.warehouse)
    store.insert_corrections([Correction(tenant=tenant, entity="contact",
                              record_id=f"lexware:{tenant}:{contact_id}", field="vat_id",
                              new_value=new, expected_old_value=old or None)], source="test")
    with TenantClients(config) as clients:
        report = CorrectionExecutor(store, clients, known_tenants={tenant},
                                    systems=clients.systems).run(tenant=tenant)
        requests = sum(s["requests"] for s in clients.stats)
    resync = resync_touched(config, report.touched())
    print(json.dumps({"counts": report.counts(), "reasons": [o.reason for o in report.outcomes],
                      "touched": report.touched(), "requests": requests,
                      "resync_requests": sum(r.requests for r in resync),
                      "stale": [s for r in resync for s in r.stale]}))
""")


def _vat_id(digits: str = "21000007") -> str:
    """A German VAT id with a correct check digit (ISO 7064 MOD 11,10), as write-back validates."""
    product = 10
    for ch in digits:
        product = (2 * ((int(ch) + product) % 10 or 10)) % 11
    return f"DE{digits}{(11 - product) % 10}"


NEW_VAT = _vat_id()


def _updatable(contact: dict) -> bool:
    """A company contact with at most one entry per list (write-back's PUT keeps such a contact whole)."""
    lists = [
        *(contact.get("emailAddresses") or {}).values(),
        *(contact.get("phoneNumbers") or {}).values(),
        *(contact.get("addresses") or {}).values(),
        (contact.get("company") or {}).get("contactPersons") or [],
    ]
    return "company" in contact and all(len(x) <= 1 for x in lists)


def _config(folder: Path, base_url: str, names: list[str], prefix: str) -> Path:
    lines = [
        "warehouse:",
        "  engine: postgres",
        "  url_env: KONTOR_MW_PG",
        "  data_dir: data",
        "coordination:",
        "  backend: redis",
        "  url_env: KONTOR_MW_REDIS",
        f"  key_prefix: '{prefix}'",
        "tenants:",
    ]
    for name in names:
        lines += [
            f"  - name: {name}",
            f"    base_url: {base_url}",
            f"    api_key_env: KONTOR_MW_{name.upper()}",
            f"    rps: {LIMIT_RPS}",
            "    burst: 2",
        ]
    path = folder / "kontor.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _batches(names: list[str]) -> list[list[str]]:
    """Worker i syncs its tenth of the tenants and the first three of the next worker's: 12 tenants are
    synced by two processes at once, WB_TENANT among them."""
    size = len(names) // N_WORKERS
    own = [names[i * size : (i + 1) * size] for i in range(N_WORKERS)]
    return [own[i] + own[(i + 1) % N_WORKERS][:3] for i in range(N_WORKERS)]


class LockWatch(threading.Thread):
    """Samples pg_locks: the most advisory locks of Kontor tenants held at once."""

    def __init__(self, url: str, keys: set[int]) -> None:
        super().__init__(daemon=True)
        self.url, self.keys = url, {k & 0xFFFFFFFFFFFFFFFF for k in keys}
        self.most_held, self.stop = 0, threading.Event()

    def run(self) -> None:
        import psycopg2

        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        with conn.cursor() as cur:
            while not self.stop.is_set():
                cur.execute(
                    "SELECT (classid::bigint << 32 | objid::bigint), granted FROM pg_locks "
                    "WHERE locktype = 'advisory'"
                )
                held = sum(1 for k, granted in cur.fetchall() if k in self.keys and granted)
                self.most_held = max(self.most_held, held)
                time.sleep(0.1)
        conn.close()


def test_four_workers_sync_forty_tenants_with_a_writeback(tmp_path: Path, monkeypatch) -> None:
    names = [f"t{i:02d}" for i in range(N_TENANTS)]
    keys = {name: f"mw-{name}" for name in names}
    with (
        postgres_database("multiworker") as pg_url,
        redis_prefix("multiworker") as prefix,
        start_sandbox(tenants=keys, rate_limit=LIMIT_RPS, burst=2, seed=21, **BOOKS) as sb,
    ):
        monkeypatch.setenv("KONTOR_MW_PG", pg_url)
        monkeypatch.setenv("KONTOR_MW_REDIS", REDIS_URL)
        for name, key in keys.items():
            monkeypatch.setenv(f"KONTOR_MW_{name.upper()}", key)
        cfg = _config(tmp_path, sb.base_url, names, prefix)
        config = load_config(cfg)
        # the write-back's record must be in the warehouse first: one sync of its tenant
        first = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "sync", "--config", str(cfg), "--tenant", WB_TENANT],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert first.returncode == 0, first.stderr[-3000:]
        contact = next(c for c in sb.export(WB_TENANT)["contacts"] if _updatable(c))
        old_vat = contact["company"].get("vatRegistrationId") or ""
        sb.reset_stats()
        watch = LockWatch(pg_url, {lock_key(prefix, n) for n in names})
        watch.start()
        logs = [(tmp_path / f"worker{i}.log").open("w") for i in range(N_WORKERS)]
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pipelines.cli",
                    "sync",
                    "--config",
                    str(cfg),
                    "--workers",
                    "16",
                    *[a for n in batch for a in ("--tenant", n)],
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=dict(os.environ),
            )
            for batch, log in zip(_batches(names), logs, strict=True)
        ]
        time.sleep(3)  # the workers are under way; the write-back joins them
        writeback = subprocess.run(
            [sys.executable, "-c", WRITEBACK, str(cfg), WB_TENANT, contact["id"], old_vat, NEW_VAT],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        outs = [
            (w.communicate(timeout=1500)[0], (tmp_path / f"worker{i}.log").read_text())
            for i, w in enumerate(workers)
        ]
        watch.stop.set()
        watch.join()
        stats = sb.stats()["tenants"]
        exports = {name: sb.export(name) for name in names}
        duplicated = {
            table: count_rows(config, table)
            for table in ("contacts", "invoices", "vouchers", "voucherlist", "payments")
        }
        for name in names:  # nothing lost: every tenant equals its ground truth, the write-back's included
            assert_matches_export(config, exports[name], name)
    assert all(total == distinct for total, distinct in duplicated.values()), duplicated
    for worker, (_, err) in zip(workers, outs, strict=True):
        assert worker.returncode == 0, err[-3000:]
    assert writeback.returncode == 0, writeback.stderr[-3000:]
    wb = json.loads(writeback.stdout.strip().splitlines()[-1])
    assert wb["counts"].get("applied") == 1, wb
    assert wb["stale"] == [] and wb["resync_requests"] > 0, wb
    served_429 = {n: s["status"].get("429", 0) for n, s in stats.items() if s["status"].get("429")}
    assert served_429 == {}, served_429
    results = [json.loads(line) for out, _ in outs for line in out.splitlines() if line.startswith("{")]
    assert len(results) == sum(len(b) for b in _batches(names)) and all(r["ok"] for r in results)
    assert sum(r["client"]["rate_limited_429"] for r in results) == 0
    [written] = [c for c in exports[WB_TENANT]["contacts"] if c["id"] == contact["id"]]
    assert written["company"]["vatRegistrationId"] == NEW_VAT
    assert watch.most_held >= 2, "the workers never held tenant locks side by side"
    waits = [
        line
        for _, log in outs
        for line in log.splitlines()
        if "another run is under way (advisory lock" in line
    ]
    assert waits, "no second run of a tenant ever waited for another process's advisory lock"
